"""``backtest``: the rule's dry run agrees with what ``POST /predict`` answers for the tickets."""

from __future__ import annotations

import io
import json
import math
import random
import shutil
import urllib.request
from collections import Counter
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from training_jobs.cli import main
from training_jobs.evaluation import scorers
from training_jobs.evaluation.backtest import NoActionError, backtest
from training_jobs.evaluation.labelled import LabelledTicket
from training_jobs.evaluation.metrics import urgency_thresholds
from training_jobs.evaluation.plots import FIGURE_PIXELS

from jira_priority import app as handler
from jira_priority.labels import DEFAULT_SCHEME, Priority
from jira_priority.postprocessing import FILE_NAME, Confidence, PostProcessing, Promises
from jira_priority.predictors.embedded import EmbeddedPredictor
from tests.support.changelogs import issue, write_issues
from tests.support.events import load_event
from tests.support.models import COMMON_WORDS, SIGNAL_WORDS

#: The tiny model's labels (tests/support/models.py trains Trivial .. Blocker).
LABELS = ("__label__2", "__label__3", "__label__4", "__label__5", "__label__6")


def with_promises(model: Path, directory: Path) -> Path:
    """The tiny model with a format-3 postprocessing.json whose promises split its answers:
    a clear ticket is answered with 0.9+ (set, or keep for Major), a mixed one is triage."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, directory / "model.bin")
    promise = Confidence(threshold=0.8, target_precision=0.8, coverage=0.5, precision=0.9)
    postprocessing = PostProcessing(
        labels=LABELS,
        log_prior=(math.log(0.2),) * len(LABELS),
        prior_weight=0.0,
        temperature=1.0,
        default_label="__label__4",
        promises=Promises(keep=promise, set=promise),
    )
    (directory / FILE_NAME).write_text(postprocessing.to_json(), encoding="utf-8")
    return directory / "model.bin"


def site_tickets(n: int = 60, seed: int = 7) -> list[dict[str, Any]]:
    """Tickets whose words point at one priority (and sometimes a second); the known priority is
    mostly the first, sometimes the second, so that every action is sometimes wrong."""
    rng = random.Random(seed)
    priorities = list(SIGNAL_WORDS)
    records = []
    for number in range(n):
        first, second = rng.sample(priorities, 2)
        mixed = rng.random() < 0.4
        words = [rng.choice(SIGNAL_WORDS[first]) for _ in range(2)]
        words += [rng.choice(SIGNAL_WORDS[second]) for _ in range(2 if mixed else 0)]
        words += [rng.choice(COMMON_WORDS) for _ in range(3)]
        truth = second if rng.random() < 0.25 else first
        records.append(issue(f"ACME-{number}", truth.value, None, summary=" ".join(words)))
    return records


@pytest.fixture
def service_model(model_path: Path, tmp_path: Path) -> Path:
    return with_promises(model_path, tmp_path / "model")


@pytest.fixture
def tickets_file(tmp_path: Path) -> Path:
    return write_issues(tmp_path / "tickets.jsonl", site_tickets())


def predict_answers(
    model: Path, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, context: Any
) -> list[dict[str, Any]]:
    """What POST /predict answers (the Lambda handler, embedded backend) for each ticket."""
    monkeypatch.setattr(handler.classifier, "predictor", EmbeddedPredictor(str(model)))
    answers = []
    for record in records:
        event = load_event("predict-jira-automation")
        event["body"] = json.dumps({"title": record["summary"], "description": ""})
        response = handler.lambda_handler(event, context)
        assert response["statusCode"] == HTTPStatus.OK
        answers.append(json.loads(response["body"]))
    return answers


def expected_figures(
    records: list[dict[str, Any]], answers: list[dict[str, Any]]
) -> dict[str, Any]:
    counts: Counter[str] = Counter(a["action"] for a in answers)
    right: Counter[str] = Counter(
        a["action"] for a, r in zip(answers, records, strict=True) if a["priority"] == r["priority"]
    )
    major = DEFAULT_SCHEME.from_name("Major").rank
    urgent = [DEFAULT_SCHEME.from_name(r["priority"]).rank > major for r in records]
    return {
        "actions": {a: counts[a] for a in ("set", "keep", "triage")},
        "right": {a: right[a] for a in ("set", "keep", "triage")},
        "urgency_thresholds": urgency_thresholds([a["urgency"] for a in answers], urgent),
    }


def test_backtest_figures_equal_the_answers_of_post_predict(
    service_model: Path,
    tickets_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
) -> None:
    records = site_tickets()
    out = tmp_path / "backtest"

    status = main(["backtest", str(tickets_file), "--model", str(service_model), "-o", str(out),
                   "--no-progress"])  # fmt: skip

    assert status == 0
    report = json.loads((out / "backtest.json").read_text())
    expected = expected_figures(records, predict_answers(service_model, records, monkeypatch,
                                                         lambda_context))  # fmt: skip
    assert min(expected["actions"].values()) > 0  # the tickets exercise every action
    assert report["tickets"] == len(records)
    assert report["actions"] == expected["actions"]
    assert report["right"] == expected["right"]
    assert report["set_precision"] == expected["right"]["set"] / expected["actions"]["set"]
    assert report["keep_precision"] == expected["right"]["keep"] / expected["actions"]["keep"]
    assert report["urgency_thresholds"] == expected["urgency_thresholds"]
    assert report["default_priority"] == "Major"


class HandlerOpener:
    """urllib's opener, answered by the Lambda handler: backtest --api-url without a socket."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.requests = 0

    def open(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        self.requests += 1
        event = load_event("predict-jira-automation")
        assert isinstance(request.data, bytes)
        event["body"] = request.data.decode("utf-8")
        response = handler.lambda_handler(event, self.context)
        assert response["statusCode"] == HTTPStatus.OK
        return io.BytesIO(response["body"].encode("utf-8"))


def test_the_api_and_the_model_file_give_the_same_dry_run(
    service_model: Path,
    tickets_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
) -> None:
    monkeypatch.setattr(handler.classifier, "predictor", EmbeddedPredictor(str(service_model)))
    opener = HandlerOpener(lambda_context)
    monkeypatch.setattr(scorers, "_safe_opener", lambda: opener)

    assert main(["backtest", str(tickets_file), "--api-url", "http://127.0.0.1:9/prod",
                 "-o", str(tmp_path / "api"), "--no-progress"]) == 0  # fmt: skip
    assert main(["backtest", str(tickets_file), "--model", str(service_model),
                 "-o", str(tmp_path / "model"), "--no-progress"]) == 0  # fmt: skip

    by_api, by_model = (
        json.loads((tmp_path / name / "backtest.json").read_text()) for name in ("api", "model")
    )
    assert opener.requests == 3  # 60 tickets, 25 a request
    for key in (
        "tickets",
        "actions",
        "right",
        "set_precision",
        "keep_precision",
        "triage_accuracy",
        "set_by_priority",
        "set_errors",
        "urgency_thresholds",
    ):
        assert by_api[key] == by_model[key], key  # fmt: skip


def test_outputs(service_model: Path, tickets_file: Path, tmp_path: Path,
                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "out"

    assert main(["backtest", str(tickets_file), "--model", str(service_model), "-o", str(out),
                 "--no-progress"]) == 0  # fmt: skip

    report = json.loads((out / "backtest.json").read_text())
    assert set(report) >= {"tickets", "actions", "set_precision", "keep_precision"}
    assert set(report["actions"]) == {"set", "keep", "triage"}
    summary = (out / "summary.md").read_text()
    assert "| set |" in summary
    assert "| urgency >= | flagged | precision | recall |" in summary
    with Image.open(out / report["plot"]) as image:
        assert image.size == FIGURE_PIXELS
    printed = capsys.readouterr().out
    assert printed.startswith(f"{report['tickets']} tickets: set {report['actions']['set']}")


def test_set_errors_and_precision_by_priority() -> None:
    level = DEFAULT_SCHEME.from_name
    tickets = [LabelledTicket("t", "", level(name)) for name in
               ("Critical", "Minor", "Blocker", "Major", "Major", "Trivial")]  # fmt: skip
    rankings = [[level(name)] for name in
                ("Critical", "Critical", "Critical", "Major", "Major", "Minor")]  # fmt: skip
    actions: list[Any] = ["set", "set", "set", "keep", "triage", "triage"]

    report = backtest(tickets, rankings, actions, [0.9, 0.8, 0.9, 0.1, 0.2, 0.1], DEFAULT_SCHEME)

    assert report["actions"] == {"set": 3, "keep": 1, "triage": 2}
    assert report["right"] == {"set": 1, "keep": 1, "triage": 1}
    assert report["set_precision"] == pytest.approx(1 / 3)
    assert report["set_by_priority"] == {
        "Critical": {"set": 3, "right": 1, "precision": pytest.approx(1 / 3)}
    }
    assert report["set_errors"] == {"too_high": 1, "too_low": 1}
    assert report["tickets_at_default"] == 2
    assert report["urgency_thresholds"][0]["recall"] == 1.0


def test_a_model_without_promises_is_one_line(
    model_path: Path, tickets_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["backtest", str(tickets_file), "--model", str(model_path),
                   "-o", str(tmp_path / "out"), "--no-progress"])  # fmt: skip

    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1
    assert "no action" in err
    assert not (tmp_path / "out" / "backtest.json").exists()


def test_no_action_is_refused_by_the_figures() -> None:
    ticket = LabelledTicket("t", "", DEFAULT_SCHEME.from_name("Major"))
    with pytest.raises(NoActionError):
        backtest([ticket], [[ticket.priority]], [None], [None], DEFAULT_SCHEME)


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ([], 2, "--model"),
        (["--model", "x", "--api-url", "http://127.0.0.1:9"], 2, "exactly one"),
        (["--model", "{model}", "--scheme", "jira-cloud"], 2, "--scheme"),
        (["--api-url", "ftp://example.com"], 2, "http"),
        (["--api-url", "http://127.0.0.1:9", "--scheme", "a,a"], 2, "backtest: "),
        (["--model", "{tmp}/missing.bin"], 1, "missing.bin"),
    ],
)
def test_bad_options_are_one_line(
    service_model: Path,
    tickets_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    status: int,
    message: str,
) -> None:
    filled = [a.format(model=service_model, tmp=tmp_path) for a in args]

    code = main(["backtest", str(tickets_file), "-o", str(tmp_path / "out"), *filled])

    err = capsys.readouterr().err
    assert code == status
    assert err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(
    "content", ["", "not json, not csv\x00", "title,priority\n", '{"summary": "x"}\n']
)
def test_an_input_without_known_priorities_is_one_line(
    service_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    source = tmp_path / "tickets.jsonl"
    source.write_text(content)

    code = main(["backtest", str(source), "--model", str(service_model), "-o",
                 str(tmp_path / "out"), "--no-progress"])  # fmt: skip

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1


def test_a_prepared_file_is_backtested_line_by_line(
    service_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    lines = [f"{DEFAULT_SCHEME.from_name(r['priority']).label} {r['summary']}"
             for r in site_tickets(20)]  # fmt: skip
    prepared = tmp_path / "validation.txt"
    prepared.write_text("\n".join(lines) + "\n")

    assert main(["backtest", str(prepared), "--model", str(service_model), "-o",
                 str(tmp_path / "out"), "--no-progress"]) == 0  # fmt: skip

    report = json.loads((tmp_path / "out" / "backtest.json").read_text())
    records = site_tickets(20)
    answers = predict_answers(service_model, records, monkeypatch, lambda_context)
    assert report["actions"] == expected_figures(records, answers)["actions"]
    assert report["input"]["format"] == "prepared"


def test_priority_names_are_escaped_in_the_summary(tmp_path: Path) -> None:
    from training_jobs.evaluation.backtest import write_outputs

    figures = backtest(
        [LabelledTicket("t", "", DEFAULT_SCHEME.from_name("Major"))],
        [[DEFAULT_SCHEME.from_name("Major")]],
        ["keep"],
        [0.1],
        DEFAULT_SCHEME,
    )

    write_outputs(
        tmp_path,
        figures,
        source={"path": "a|b<script>.jsonl", "format": "tickets"},
        predictor={"kind": "local-model", "model": "`m`|x"},
    )

    summary = (tmp_path / "summary.md").read_text()
    assert r"a\|b\<script\>.jsonl" in summary
    assert r"\`m\`\|x" in summary
    assert Priority.MAJOR.value in summary


class CannedOpener:
    """An API that answers the same predictions to every request."""

    def __init__(self, prediction: dict[str, Any]) -> None:
        self.prediction = prediction

    def open(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        assert isinstance(request.data, bytes)
        count = len(json.loads(request.data)["tickets"])
        return io.BytesIO(json.dumps({"predictions": [self.prediction] * count}).encode())


@pytest.mark.parametrize(
    "prediction",
    [
        {"priority": "Major", "action": "delete everything", "urgency": 0.2},
        {"priority": "Major", "action": None, "urgency": None},
        {"priority": "Major", "action": ["set"], "urgency": 0.2},
        {"priority": "Major"},
    ],
)
def test_api_answers_without_a_known_action_are_one_line(
    tickets_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    prediction: dict[str, Any],
) -> None:
    monkeypatch.setattr(scorers, "_safe_opener", lambda: CannedOpener(prediction))

    status = main(["backtest", str(tickets_file), "--api-url", "http://127.0.0.1:9",
                   "-o", str(tmp_path / "out"), "--no-progress"])  # fmt: skip

    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1
    assert "carry no action" in err


def test_an_api_urgency_outside_zero_to_one_leaves_the_urgency_table_out(
    tickets_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canned = CannedOpener({"priority": "Critical", "action": "set", "urgency": 7})
    monkeypatch.setattr(scorers, "_safe_opener", lambda: canned)

    assert main(["backtest", str(tickets_file), "--api-url", "http://127.0.0.1:9",
                 "-o", str(tmp_path / "out"), "--no-progress"]) == 0  # fmt: skip

    report = json.loads((tmp_path / "out" / "backtest.json").read_text())
    assert report["actions"] == {"set": 60, "keep": 0, "triage": 0}
    assert report["urgency_thresholds"] is None
