"""Schemathesis against the local server: the OpenAPI document is the API's contract.

The document ``make openapi`` prints, the server ``make serve`` runs (a model
``train-local`` wrote, post-processing included, with an API key), and
Schemathesis' own command line with every check, a fixed seed and a bounded
number of examples, as the README runs it against a deployed stage: any
finding (a 5xx, an answer outside its schema, an undeclared status, a valid
request refused or an invalid one accepted, the key not enforced) fails.
About 650 requests, ~30 s on a quiet machine (most of it Hypothesis building
strategies for the spelled-out letter class).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jira_priority.openapi import JSON_EXAMPLES, TEXT_EXAMPLES, openapi_document
from tests.integration.local_server import API_KEY, REPO_ROOT, Server, start_server, stop
from tests.support.models import synthetic_lines, write_lines

pytestmark = pytest.mark.integration

#: What the README's `st run` uses too.
SEED = 22
MAX_EXAMPLES = 200
SCHEMATHESIS = Path(sys.executable).with_name("st")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make serve` serves: a train-local model with its postprocessing.json."""
    directory = tmp_path_factory.mktemp("contract-model")
    train = write_lines(directory / "train.txt", synthetic_lines(per_priority=60, seed=0))
    validation = write_lines(directory / "validation.txt", synthetic_lines(20, seed=1))
    subprocess.run(
        [sys.executable, "-m", "training_jobs", "train-local", "--train", str(train),
         "--validation", str(validation), "--output-dir", str(directory / "model"),
         "--buckets", "1000", "--epochs", "20"],
        cwd=REPO_ROOT, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    assert (directory / "model" / "postprocessing.json").is_file()
    return directory / "model" / "model.bin"


@pytest.fixture(scope="module")
def server(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("contract-log") / "serve.log"
    running = start_server(model, log, "--api-key", API_KEY)
    yield running
    stop(running)


def sent_examples(report: Path) -> list[tuple[Any, int]]:
    """(body, status) of every request of the examples phase, from the NDJSON report."""
    sent = []
    for line in report.read_text(encoding="utf-8").splitlines():
        event = json.loads(line).get("ScenarioFinished")
        if event is None or event["phase"] != "examples":
            continue
        recorder = event["recorder"]
        for case_id, case in recorder.get("cases", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id)
            if interaction is not None and "x-api-key" in case["value"].get("headers", {}):
                sent.append((case["value"].get("body"), interaction["response"]["status_code"]))
    return sent


def test_schemathesis_finds_nothing(server: Server, tmp_path: Path) -> None:
    # GIVEN the document for the server's settings (the defaults, as `make openapi` prints it)
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi_document()), encoding="utf-8")
    report = tmp_path / "events.ndjson"

    # WHEN Schemathesis runs every check on it, positive and negative, from a fixed seed
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", str(document), "--url", f"http://127.0.0.1:{server.port}",
         "--header", f"x-api-key:{API_KEY}", "--checks", "all", "--mode", "all",
         "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--workers", "1",
         "--generation-database", "none", "--no-color",
         "--report", "ndjson", "--report-ndjson-path", str(report)],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )  # fmt: skip

    # THEN it finds nothing, and every example of the document was sent and answered
    assert result.returncode == 0, result.stdout + result.stderr + server.logged()[-5000:]
    assert "No issues found" in result.stdout
    answered = [body for body, status in sent_examples(report) if status == 200]
    for example in [*JSON_EXAMPLES.values(), *TEXT_EXAMPLES.values()]:
        assert example["value"] in answered, example["summary"]
