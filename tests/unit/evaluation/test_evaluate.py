"""The ``evaluate`` command: input, predictor adapters, retries, batching and the outputs."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import struct
from pathlib import Path

import pytest
from training_jobs.cli import main
from training_jobs.data.readers import DatasetError
from training_jobs.evaluation.labelled import LabelledTicket, detect_format, read_labelled
from training_jobs.evaluation.predicting import (
    RetryPolicy,
    call_with_retries,
    predict_all,
    progress_bar,
)
from training_jobs.evaluation.report import evaluate_rankings, per_project, write_outputs
from training_jobs.evaluation.scorers import (
    HttpApiRanker,
    PredictionError,
    PredictorRanker,
    RetryableError,
    sagemaker_ranker,
)

from jira_priority.errors import ModelInvocationError, UpstreamThrottledError
from jira_priority.labels import Priority
from jira_priority.text import normalise_ticket

MAJ, MIN, BLO = Priority.MAJOR, Priority.MINOR, Priority.BLOCKER
COLUMNS = ["id", "title", "description", "priority", "project", "status"]

# Each priority has its own words, so a tiny fastText model learns them exactly.
WORDS = {
    "Major": "slow query planner regression",
    "Minor": "typo javadoc wording comment",
    "Blocker": "crash data loss corruption",
}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, COLUMNS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for number, row in enumerate(rows, start=1):
            writer.writerow({"id": str(number), "status": "Resolved", **row})
    return path


def ticket_rows() -> list[dict[str, str]]:
    """12 tickets of two projects: HIVE 6 Major, 2 Minor; AMQ 2 Major, 2 Blocker."""
    rows = []
    for project, priority, count in (
        ("HIVE", "Major", 6),
        ("HIVE", "Minor", 2),
        ("AMQ", "Major", 2),
        ("AMQ", "Blocker", 2),
    ):
        for i in range(count):
            rows.append(
                {
                    "title": f"{WORDS[priority]} number {i}",
                    "description": f"Seen in {project}.\n{WORDS[priority]}",
                    "priority": priority,
                    "project": project,
                }
            )
    return rows


class FakePredictor:
    """A jira_priority predictor that answers a fixed ranking and records what it was sent."""

    backend = "fake"
    model_id = "fake-model"

    def __init__(self, labels: tuple[str, ...] = ("__label__4", "__label__3")) -> None:
        self.labels = labels
        self.calls: list[tuple[list[str], int]] = []
        self.fail_with: list[Exception] = []

    def is_ready(self) -> bool:
        return True

    def postprocessing(self):
        return None

    def predict(self, texts, k):
        self.calls.append((list(texts), k))
        if self.fail_with:
            raise self.fail_with.pop(0)
        return [[(label, 0.5) for label in self.labels[:k]] for _ in texts]


class NoSleep:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


# --- input ---------------------------------------------------------------------------


def test_detect_format_tells_prepared_files_from_ticket_files(tmp_path):
    prepared = tmp_path / "validation.txt"
    prepared.write_text("__label__4 slow query\n", encoding="utf-8")
    zipped = tmp_path / "validation.txt.gz"
    zipped.write_bytes(gzip.compress(b"\n__label__6 crash\n"))
    tickets = write_csv(tmp_path / "bugs.csv", ticket_rows())

    assert detect_format(prepared) == "prepared"
    assert detect_format(zipped) == "prepared"
    assert detect_format(tickets) == "tickets"


def test_read_labelled_keeps_selected_projects_and_reports_skipped_rows(tmp_path):
    rows = [*ticket_rows(), {"title": "no priority", "priority": "", "project": "AMQ"}]
    path = write_csv(tmp_path / "bugs.csv", rows)

    data = read_labelled(path, projects=["amq"])

    assert [t.priority for t in data.tickets] == [MAJ, MAJ, BLO, BLO]
    assert {t.project for t in data.tickets} == {"AMQ"}
    assert data.source["read"]["rejected"] == {"empty_priority": 1}
    assert data.source["tickets"] == 4


def test_read_labelled_of_a_prepared_file_keeps_its_text_and_labels(tmp_path):
    path = tmp_path / "validation.txt"
    path.write_text("__label__4 slow query\n__label__6 crash now\n", encoding="utf-8")

    data = read_labelled(path)

    assert data.tickets == [  # as descriptions: the already weighed title is not weighed again
        LabelledTicket("", "slow query", MAJ),
        LabelledTicket("", "crash now", BLO),
    ]
    assert data.source["format"] == "prepared"


def test_a_prepare_holdout_file_is_labelled_with_its_project(tmp_path):
    (tmp_path / "holdout.txt").write_text("__label__4 slow query\n", encoding="utf-8")
    manifest = {"settings": {"holdout_projects": ["derby"]}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    data = read_labelled(tmp_path / "holdout.txt")

    assert data.tickets[0].project == "DERBY"
    assert data.source["holdout_project"] == "DERBY"


def test_project_selection_on_a_prepared_file_is_refused(tmp_path):
    path = tmp_path / "validation.txt"
    path.write_text("__label__4 slow query\n", encoding="utf-8")

    with pytest.raises(DatasetError, match="no project column"):
        read_labelled(path, projects=["HIVE"])


def test_a_file_without_labelled_tickets_is_refused(tmp_path):
    path = write_csv(tmp_path / "bugs.csv", [{"title": "x", "priority": "Urgent!"}])

    with pytest.raises(DatasetError, match="no labelled tickets"):
        read_labelled(path)


# --- predictor adapter, retries, batching ----------------------------------------------


def test_predictor_ranker_sends_normalised_text_and_maps_labels_to_priorities():
    fake = FakePredictor(("__label__6", "__label__4"))
    ranker = PredictorRanker(fake, "fake")

    rankings = ranker.rank([("NPE in {code}Foo.bar(){code}", "See https://x.y/z")], 2)

    assert rankings == [[BLO, MAJ]]
    assert fake.calls == [  # every label asked for, cut to k after post-processing
        ([normalise_ticket("NPE in {code}Foo.bar(){code}", "See https://x.y/z")], 6)
    ]
    assert ranker.description["model"] == "fake-model"


def test_predictor_ranker_turns_throttling_into_a_retryable_error():
    fake = FakePredictor()
    fake.fail_with = [UpstreamThrottledError()]

    with pytest.raises(RetryableError) as caught:
        PredictorRanker(fake, "fake").rank([("a", "")], 2)

    assert caught.value.retry_after == UpstreamThrottledError.retry_after


def test_predictor_ranker_does_not_retry_a_model_error():
    fake = FakePredictor()
    fake.fail_with = [ModelInvocationError()]

    with pytest.raises(PredictionError, match="failed to produce"):
        PredictorRanker(fake, "fake").rank([("a", "")], 2)


def test_retries_wait_retry_after_or_back_off_exponentially_then_succeed():
    sleep = NoSleep()
    failures = [RetryableError("throttled", retry_after=3.0), RetryableError("slow")]

    def call():
        if failures:
            raise failures.pop(0)
        return [[MAJ]]

    messages: list[str] = []
    result = call_with_retries(call, RetryPolicy(base_delay=0.5, sleep=sleep), messages.append)

    assert result == [[MAJ]]
    assert sleep.pauses == [3.0, 1.0]  # Retry-After, then 0.5 x 2**1
    assert len(messages) == 2
    assert "throttled" in messages[0]


def test_retries_give_up_after_max_attempts_with_the_last_reason():
    sleep = NoSleep()

    def call():
        raise RetryableError("HTTP 503", retry_after=100.0)

    with pytest.raises(PredictionError, match="gave up after 3 attempts: HTTP 503"):
        call_with_retries(call, RetryPolicy(max_attempts=3, max_delay=7.0, sleep=sleep))
    assert sleep.pauses == [7.0, 7.0]  # Retry-After capped by max_delay


def test_prediction_errors_are_not_retried():
    calls = []

    def call():
        calls.append(1)
        raise PredictionError("HTTP 403")

    with pytest.raises(PredictionError):
        call_with_retries(call, RetryPolicy(sleep=NoSleep()))
    assert len(calls) == 1


class RecordingRanker:
    description = {"kind": "recording"}  # noqa: RUF012

    def __init__(self, max_batch):
        self.max_batch = max_batch
        self.batches: list[int] = []

    def rank(self, tickets, k):
        self.batches.append(len(tickets))
        # Answer with the ticket's own priority name, to check order is kept.
        return [[Priority(title)] for title, _ in tickets]


def test_predict_all_batches_within_the_rankers_limit_and_keeps_order():
    tickets = [LabelledTicket(p.value, "", p) for p in [MAJ, MIN, BLO] * 20]
    ranker = RecordingRanker(max_batch=25)

    rankings = predict_all(tickets, ranker, batch_size=100)

    assert ranker.batches == [25, 25, 10]
    assert [r[0] for r in rankings] == [t.priority for t in tickets]


def test_predict_all_uses_the_requested_batch_size_below_the_limit():
    tickets = [LabelledTicket("Major", "", MAJ)] * 7
    ranker = RecordingRanker(max_batch=None)

    predict_all(tickets, ranker, batch_size=3)

    assert ranker.batches == [3, 3, 1]


def test_progress_bar_counts_the_tickets_on_its_stream():
    stream = io.StringIO()
    tickets = [LabelledTicket("Major", "", MAJ)] * 7

    predict_all(tickets, RecordingRanker(max_batch=None), batch_size=3,
                progress=progress_bar(7, stream=stream))  # fmt: skip

    assert re.search(r"evaluating: 100%.*7/7", stream.getvalue())


def test_retry_messages_go_above_the_progress_bar():
    stream = io.StringIO()
    bar = progress_bar(1, stream=stream)

    class FlakyRanker(RecordingRanker):
        def rank(self, tickets, k):
            if not self.batches:
                self.batches.append(0)
                raise RetryableError("HTTP 503")
            return super().rank(tickets, k)

    tickets = [LabelledTicket("Major", "", MAJ)]
    predict_all(tickets, FlakyRanker(max_batch=None), retry=RetryPolicy(sleep=NoSleep()),
                progress=bar)  # fmt: skip

    assert "attempt 1 failed (HTTP 503); retrying in 1 s\n" in stream.getvalue()


def test_disabled_progress_bar_writes_nothing():
    stream = io.StringIO()
    tickets = [LabelledTicket("Major", "", MAJ)] * 4

    predict_all(tickets, RecordingRanker(max_batch=None),
                progress=progress_bar(4, stream=stream, enabled=False))  # fmt: skip

    assert stream.getvalue() == ""


# --- outputs -------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_a_one_class_predictor_gets_nulls_and_n_a_in_the_outputs(tmp_path):
    # GIVEN a predictor that always answers Major on tickets of three priorities
    tickets = [
        LabelledTicket("a", "", MAJ, "HIVE"),
        LabelledTicket("b", "", MAJ, "HIVE"),
        LabelledTicket("c", "", MIN, "HIVE"),
        LabelledTicket("d", "", BLO, "AMQ"),
    ]
    ranker = PredictorRanker(FakePredictor(("__label__4", "__label__3")), "fake")

    # WHEN it is evaluated with a per-project breakdown
    rankings = predict_all(tickets, ranker, k=2)
    evaluation = evaluate_rankings(tickets, rankings)
    report = write_outputs(
        tmp_path,
        evaluation,
        per_project(tickets, rankings),
        title="one class",
        source={"path": "x.csv", "format": "tickets"},
        predictor=ranker.description,
        k=2,
    )

    # THEN it scores exactly the majority baseline (Major 2 of 4), with undefined figures as null
    saved = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(report))
    assert saved["majority_baseline"] == {"always": "Major", "top2": ["Major", "Minor"]}
    for name, row in saved["comparison"].items():
        assert row["model"] == pytest.approx(row["baseline"]), name
    assert saved["comparison"]["accuracy"]["model"] == pytest.approx(0.5)
    minor = saved["metrics"]["per_class"][2]
    assert (minor["priority"], minor["precision"], minor["recall"]) == ("Minor", None, 0.0)
    assert saved["metrics"]["per_class"][0]["recall"] is None  # Optional: no support
    # per project: HIVE's majority is Major; AMQ's one ticket is Blocker: a perfect baseline
    assert saved["per_project"]["HIVE"]["comparison"]["accuracy"]["model"] == pytest.approx(2 / 3)
    assert saved["per_project"]["AMQ"]["majority_baseline"]["always"] == "Blocker"
    assert saved["per_project"]["AMQ"]["comparison"]["accuracy"] == {
        "model": 0.0,
        "baseline": 1.0,
        "difference": -1.0,
    }

    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "| Accuracy | 0.500 | 0.500 | +0.000 |" in summary
    assert "| Minor | 1 | 0 | n/a | 0.000 | 0.000 | 0.000 |" in summary
    assert "| Optional | 0 | 0 | n/a | n/a | n/a | n/a |" in summary
    assert "| AMQ | 1 | Blocker | 0.000 (1.000) |" in summary
    assert "![confusion counts](confusion_counts.png)" in summary
    for name in ("confusion_counts.png", "confusion_normalised.png", "per_class.png"):
        assert png_size(tmp_path / name) == (800, 650)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A real fastText model trained on the same normaliser's output, in well under a second."""
    fasttext = pytest.importorskip("fasttext")
    directory = tmp_path_factory.mktemp("model")
    train = directory / "train.txt"
    lines = []
    for row in ticket_rows() * 5:
        label = Priority(row["priority"]).label
        lines.append(f"{label} {normalise_ticket(row['title'], row['description'])}")
    train.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = fasttext.train_supervised(
        str(train), epoch=30, lr=0.5, dim=10, minCount=1, bucket=1000, thread=1, seed=1, verbose=0
    )
    path = directory / "model.bin"
    model.save_model(str(path))
    return path


def test_evaluate_command_end_to_end_with_a_local_model(tmp_path, tiny_model, capsys):
    # GIVEN a labelled CSV where one AMQ Major ticket uses Blocker words (the model gets it wrong)
    rows = ticket_rows()
    rows[8]["title"] = f"{WORDS['Blocker']} in broker"
    rows[8]["description"] = WORDS["Blocker"]
    source = write_csv(tmp_path / "bugs.csv", rows)
    output = tmp_path / "report"

    # WHEN the command runs on it
    code = main(
        [
            "evaluate",
            str(source),
            "--model",
            str(tiny_model),
            "--output-dir",
            str(output),
            "--by-project",
            "--batch-size",
            "5",
            "--no-progress",
        ]
    )

    # THEN it reports 11 of 12 right, beside always-Major (8 of 12)
    assert code == 0
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    assert report["count"] == 12
    assert report["predictor"]["kind"] == "local-model"
    assert report["predictor"]["model"].startswith("model.bin@sha256:")
    assert report["comparison"]["accuracy"]["model"] == pytest.approx(11 / 12)
    assert report["comparison"]["accuracy"]["baseline"] == pytest.approx(8 / 12)
    assert report["metrics"]["confusion_matrix"]["counts"][3][5] == 1  # Major -> Blocker
    assert report["comparison"]["within_one_accuracy"]["model"] == pytest.approx(11 / 12)
    assert report["comparison"]["mean_absolute_error"]["model"] == pytest.approx(2 / 12)
    # top-2 cross-checked against the model itself (the wrong ticket's runner-up is its choice)
    model = pytest.importorskip("fasttext").load_model(str(tiny_model))
    labels, _ = model.predict([normalise_ticket(r["title"], r["description"]) for r in rows], k=2)
    hits = sum(Priority(r["priority"]).label in top for r, top in zip(rows, labels, strict=True))
    assert report["comparison"]["top2_accuracy"]["model"] == pytest.approx(hits / 12)
    assert set(report["per_project"]) == {"AMQ", "HIVE"}
    assert report["per_project"]["HIVE"]["comparison"]["accuracy"]["model"] == pytest.approx(1.0)
    assert report["per_project"]["AMQ"]["comparison"]["accuracy"]["model"] == pytest.approx(3 / 4)
    assert report["input"]["sha256"]
    assert "accuracy 0.917 (majority 0.667)" in capsys.readouterr().out
    for name in ("summary.md", "confusion_counts.png", "confusion_normalised.png", "per_class.png"):
        assert (output / name).stat().st_size > 0


def test_evaluate_command_reads_a_prepared_file(tmp_path, tiny_model):
    prepared = tmp_path / "validation.txt"
    prepared.write_text(
        f"__label__3 {normalise_ticket(WORDS['Minor'])}\n"
        f"__label__6 {normalise_ticket(WORDS['Blocker'])}\n",
        encoding="utf-8",
    )

    code = main(
        ["evaluate", str(prepared), "--model", str(tiny_model), "--output-dir", str(tmp_path / "o")]
    )

    assert code == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    assert report["input"]["format"] == "prepared"
    assert report["comparison"]["accuracy"]["model"] == pytest.approx(1.0)
    assert report["comparison"]["accuracy"]["baseline"] == pytest.approx(0.5)


def test_evaluate_command_exits_2_for_a_missing_input(tmp_path, tiny_model, capsys):
    code = main(["evaluate", str(tmp_path / "nope.csv"), "--model", str(tiny_model)])

    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_evaluate_command_exits_1_for_a_model_that_cannot_load(tmp_path, capsys):
    source = write_csv(tmp_path / "bugs.csv", ticket_rows())
    broken = tmp_path / "model.bin"
    broken.write_bytes(b"not a model")

    code = main(["evaluate", str(source), "--model", str(broken), "--output-dir", str(tmp_path)])

    assert code == 1
    assert "cannot load the model" in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()


def test_evaluate_command_needs_exactly_one_scorer(tmp_path, capsys):
    source = write_csv(tmp_path / "bugs.csv", ticket_rows())

    code = main(["evaluate", str(source), "--model", "m.bin", "--api-url", "http://127.0.0.1:9"])

    assert code == 2
    assert "give exactly one of --model, --endpoint, --api-url" in capsys.readouterr().err


# --- SageMaker endpoint adapter ---------------------------------------------------------


def stubbed_runtime():
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    return client, Stubber(client)


def test_sagemaker_ranker_invokes_the_endpoint_with_normalised_instances():
    from botocore.response import StreamingBody

    client, stubber = stubbed_runtime()
    answer = json.dumps(
        [
            {"label": ["__label__6", "__label__5"], "prob": [0.7, 0.2]},
            {"label": ["__label__3", "__label__4"], "prob": [0.5, 0.4]},
        ]
    ).encode()
    tickets = [("Crash: data LOSS!", "on restart"), ("Typo in {code}docs{code}", "")]
    expected_body = json.dumps(
        {
            "instances": [normalise_ticket(*ticket) for ticket in tickets],
            "configuration": {"k": 6},
        }
    ).encode()
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(answer), len(answer)), "ContentType": "application/json"},
        {
            "EndpointName": "jira-priority",
            "Body": expected_body,
            "ContentType": "application/json",
            "Accept": "application/json",
        },
    )

    with stubber:
        rankings = sagemaker_ranker("jira-priority", client=client).rank(tickets, 2)

    assert rankings == [[BLO, Priority.CRITICAL], [MIN, MAJ]]
    stubber.assert_no_pending_responses()


def test_sagemaker_ranker_makes_throttling_retryable():
    client, stubber = stubbed_runtime()
    stubber.add_client_error("invoke_endpoint", "ThrottlingException", http_status_code=400)

    with stubber, pytest.raises(RetryableError):
        sagemaker_ranker("jira-priority", client=client).rank([("a", "")], 2)


def test_sagemaker_ranker_does_not_retry_a_missing_endpoint():
    client, stubber = stubbed_runtime()
    stubber.add_client_error("invoke_endpoint", "ValidationError", http_status_code=400)

    with stubber, pytest.raises(PredictionError, match="rejected"):
        sagemaker_ranker("jira-priority", client=client).rank([("a", "")], 2)


def test_projects_of_a_prepared_file_are_recovered_from_its_ticket_file(tmp_path):
    source = write_csv(tmp_path / "bugs.csv", ticket_rows())
    row = ticket_rows()[9]  # an AMQ Major ticket
    prepared = tmp_path / "validation.txt"
    prepared.write_text(
        f"__label__4 {normalise_ticket(row['title'], row['description'])}\n"
        "__label__3 text that no ticket has\n",
        encoding="utf-8",
    )

    data = read_labelled(prepared, projects_from=source)

    assert [t.project for t in data.tickets] == ["AMQ", ""]
    assert data.source["lines_with_project"] == 1
    assert set(per_project(data.tickets, [[MAJ], [MAJ]])) == {"AMQ", "(unknown)"}


def test_projects_from_is_refused_for_a_ticket_file(tmp_path):
    source = write_csv(tmp_path / "bugs.csv", ticket_rows())

    with pytest.raises(ValueError, match="for prepared files"):
        read_labelled(source, projects_from=source)


def test_an_endpoint_without_a_region_fails_with_a_message_not_a_traceback(
    tmp_path, monkeypatch, capsys
):
    from jira_priority.predictors.sagemaker import runtime_client

    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    runtime_client.cache_clear()
    source = write_csv(tmp_path / "bugs.csv", ticket_rows())
    try:
        code = main(["evaluate", str(source), "--endpoint", "jira-priority"])
    finally:
        runtime_client.cache_clear()

    assert code == 2
    assert capsys.readouterr().err == (
        "evaluate: --endpoint needs a region: pass --region or set AWS_REGION\n"
    )


def test_the_endpoint_client_uses_aws_region_alone(monkeypatch):
    # GIVEN only AWS_REGION, as a shell or the Lambda docs set it (boto3 reads AWS_DEFAULT_REGION)
    from jira_priority.predictors.sagemaker import runtime_client

    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    runtime_client.cache_clear()
    try:
        ranker = sagemaker_ranker("jira-priority", region="eu-west-1")
    finally:
        runtime_client.cache_clear()

    assert ranker._predictor._client.meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    ("argv", "environment", "region"),
    [
        ([], {"AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ([], {"AWS_DEFAULT_REGION": "eu-north-1"}, "eu-north-1"),
        (["--region", "ap-south-1"], {"AWS_REGION": "eu-west-1"}, "ap-south-1"),
    ],
)
def test_evaluate_endpoint_takes_region_from_option_or_environment(
    tmp_path, monkeypatch, capsys, argv, environment, region
):
    from training_jobs.evaluation import scorers

    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    asked: list[str | None] = []

    def fake_ranker(endpoint_name, region=None, client=None, scheme=None):
        asked.append(region)
        raise PredictionError("stop here")

    monkeypatch.setattr(scorers, "sagemaker_ranker", fake_ranker)
    source = write_csv(tmp_path / "bugs.csv", ticket_rows())

    assert main(["evaluate", str(source), "--endpoint", "jira-priority", *argv]) == 1
    assert asked == [region]


@pytest.mark.parametrize(
    "url",
    [
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/predict",
    ],
)
def test_api_url_may_be_the_base_or_the_stack_output(url: str) -> None:
    ranker = HttpApiRanker(url, "key")
    assert ranker.url == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"


def test_urgency_thresholds_give_share_flagged_precision_and_recall():
    from training_jobs.evaluation.metrics import urgency_thresholds

    rows = urgency_thresholds([0.9, 0.6, 0.3, 0.1], [True, False, True, False], (0.5, 0.95))

    assert rows[0] == {"threshold": 0.5, "flagged": 2, "share_flagged": 0.5,
                       "precision": 0.5, "recall": 0.5}  # fmt: skip
    assert rows[1]["precision"] is None
    assert rows[1]["recall"] == 0.0


def test_evaluate_prints_the_urgency_table_of_a_post_processed_model(tmp_path, tiny_model, capsys):
    import shutil

    from training_jobs.modelling import postprocessing as fitting

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    shutil.copy(tiny_model, model_dir / "model.bin")
    model = pytest.importorskip("fasttext").load_model(str(tiny_model))
    rows = ticket_rows() * 3
    labels = [str(label) for label in model.get_labels()]
    texts = [normalise_ticket(r["title"], r["description"]) for r in rows]
    fitted = fitting.fit(
        fitting.probability_matrix(model, texts, labels),
        [Priority(r["priority"]).label for r in rows],
        labels,
        dict.fromkeys(labels, 10),
        default_label=MAJ.label,
    )
    (model_dir / "postprocessing.json").write_text(fitted.postprocessing.to_json())
    source = write_csv(tmp_path / "bugs.csv", ticket_rows())

    code = main(["evaluate", str(source), "--model", str(model_dir / "model.bin"),
                 "--output-dir", str(tmp_path / "o"), "--no-progress"])  # fmt: skip

    assert code == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text(encoding="utf-8"))
    urgent = sum(Priority(r["priority"]).rank > MAJ.rank for r in ticket_rows())
    first = report["urgency_thresholds"][0]
    assert first["threshold"] == 0.1
    assert first["recall"] * urgent == pytest.approx(round(first["recall"] * urgent))
    assert (
        "## Urgency (a priority above the default)" in (tmp_path / "o" / "summary.md").read_text()
    )
    assert "| urgency >= | flagged | precision | recall |" in capsys.readouterr().out
