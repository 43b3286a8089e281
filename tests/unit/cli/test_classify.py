"""``jira-priority classify``: one ticket through the Lambda's path, with a tiny real model."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from training_jobs.cli import main

from jira_priority.labels import Priority
from jira_priority.model_files import file_digest
from jira_priority.schemas import Prediction
from tests.support.models import PROBES

pytestmark = pytest.mark.usefixtures("fresh_model_cache")


def test_classify_prints_the_priority_and_ranking(
    model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["classify", "--model", str(model_path), "-k", "2", PROBES[Priority.CRITICAL]])

    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Critical (")
    assert len(lines) == 3
    assert lines[1].split()[0] == "Critical"


def test_classify_json_is_the_api_answer(
    model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["classify", "--model", str(model_path), "--json", "-k", "1", "Cluster down",
         "--description", PROBES[Priority.BLOCKER]]
    )  # fmt: skip

    assert code == 0
    answer = Prediction.model_validate_json(capsys.readouterr().out)
    assert answer.priority == Priority.BLOCKER
    assert answer.label == "__label__6"
    assert answer.model == f"model.bin@sha256:{file_digest(model_path)[:12]}"


def test_classify_reads_the_ticket_from_stdin(
    model_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PROBES[Priority.TRIVIAL] + "\nmore text\n"))

    assert main(["classify", "--model", str(model_path), "-k", "1", "-"]) == 0

    assert capsys.readouterr().out.startswith("Trivial (")


@pytest.mark.parametrize(
    ("ticket", "message"),
    [
        ("crash", "classify: cannot load the model {missing}: {missing} does not exist"),
        ("...", None),
    ],
)
def test_classify_errors_are_one_line(
    model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    ticket: str,
    message: str | None,
) -> None:
    missing = tmp_path / "absent.bin"
    model = str(missing) if message else str(model_path)

    assert main(["classify", "--model", model, ticket]) == 1

    err = capsys.readouterr().err
    expected = (
        message.format(missing=missing) if message else "classify: ticket: no words to classify"
    )
    assert err == expected + "\n"
