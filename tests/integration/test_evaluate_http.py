"""``evaluate --api-url`` against a real HTTP server on 127.0.0.1 that speaks the API's contract."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from training_jobs.cli import main
from training_jobs.evaluation.labelled import LabelledTicket
from training_jobs.evaluation.predicting import RetryPolicy, predict_all
from training_jobs.evaluation.scorers import HttpApiRanker, PredictionError, RetryableError

from jira_priority.labels import Priority

pytestmark = pytest.mark.integration

API_KEY = "test-key"
MODEL = "jira-priority-test"


def answer_for(title: str) -> dict:
    """The fake model: 'crash' -> Blocker, 'typo' -> Minor, anything else Major."""
    if "crash" in title.lower():
        ranking = [("Blocker", 0.7), ("Critical", 0.2)]
    elif "typo" in title.lower():
        ranking = [("Minor", 0.6), ("Trivial", 0.3)]
    else:
        ranking = [("Major", 0.8), ("Minor", 0.1)]
    labels = {"Trivial": 2, "Minor": 3, "Major": 4, "Critical": 5, "Blocker": 6}
    return {
        "priority": ranking[0][0],
        "label": f"__label__{labels[ranking[0][0]]}",
        "probability": ranking[0][1],
        "ranking": [{"priority": p, "probability": prob} for p, prob in ranking],
        "model": MODEL,
    }


class FakeApi(ThreadingHTTPServer):
    """Records every request; answers the queued failures first, then predictions."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.requests: list[dict] = []
        self.delay = 0.0
        self.drop_last = False
        #: None: a server without keys, like `make serve` or `sam local start-api`.
        self.api_key: str | None = API_KEY
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeApi

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append(
                {"path": self.path, "body": body, "x-api-key": self.headers.get("x-api-key")}
            )
            failure = self.server.failures.pop(0) if self.server.failures else None
        if self.server.delay:
            time.sleep(self.server.delay)
        if self.path != "/predict":
            self._send(404, {"error": {"code": "not_found", "message": "no such route"}})
        elif self.server.api_key is not None and self.headers.get("x-api-key") != API_KEY:
            self._send(403, {"error": {"code": "forbidden", "message": "Forbidden"}})
        elif failure is not None:
            status, headers = failure
            self._send(status, {"error": {"code": "busy", "message": "try later"}}, headers)
        elif len(body["tickets"]) > 25:
            self._send(400, {"error": {"code": "invalid_request", "message": "too many"}})
        else:
            predictions = [answer_for(t["title"]) for t in body["tickets"]]
            if self.server.drop_last:
                predictions = predictions[:-1]
            self._send(200, {"predictions": predictions})


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def write_tickets(path: Path) -> Path:
    """60 tickets: 40 Major (2 of them say 'crash'), 10 Blocker 'crash', 10 Minor 'typo'."""
    rows = []
    for i in range(40):
        title = f"crash in scheduler {i}" if i < 2 else f"slow planner {i}"
        rows.append({"title": title, "description": "details", "priority": "Major"})
    rows += [{"title": f"crash on start {i}", "description": "", "priority": "Blocker"}] * 10
    rows += [{"title": f"typo in docs {i}", "description": "", "priority": "Minor"}] * 10
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, ["title", "description", "priority", "project"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "project": "HIVE"})
    return path


def test_evaluate_through_the_api_batches_by_25_and_retries_throttling(api, tmp_path, capsys):
    # GIVEN an API that throttles the first request and is unavailable for the second
    api.failures = [(429, {"Retry-After": "0"}), (503, {"Retry-After": "0"})]
    source = write_tickets(tmp_path / "bugs.csv")

    # WHEN evaluate runs against it
    code = main(
        [
            "evaluate",
            str(source),
            "--api-url",
            api.url + "/",
            "--api-key",
            API_KEY,
            "--output-dir",
            str(tmp_path / "out"),
        ]
    )

    # THEN every ticket was scored in batches of at most 25, after two retries of the first
    assert code == 0
    sizes = [len(r["body"]["tickets"]) for r in api.requests]
    assert sizes == [25, 25, 25, 25, 10]  # the first batch three times, then the other two
    assert all(r["path"] == "/predict" and r["body"]["k"] == 2 for r in api.requests)
    assert api.requests[0]["body"]["tickets"][0] == {
        "title": "crash in scheduler 0",
        "description": "details",
    }
    err = capsys.readouterr().err
    assert "attempt 1 failed (HTTP 429 (busy: try later)); retrying in 0 s" in err
    assert "HTTP 503" in err
    # and the figures follow from the fake model: 58 of 60 right (2 Major said 'crash')
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["predictor"] == {"kind": "http-api", "url": api.url, "model": MODEL}
    assert report["comparison"]["accuracy"]["model"] == pytest.approx(58 / 60)
    assert report["comparison"]["accuracy"]["baseline"] == pytest.approx(40 / 60)
    assert report["comparison"]["mean_absolute_error"]["model"] == pytest.approx(2 * 2 / 60)
    assert report["metrics"]["per_class"][5]["precision"] == pytest.approx(10 / 12)


def test_a_refused_api_key_fails_at_once_without_retrying(api, tmp_path, capsys):
    source = write_tickets(tmp_path / "bugs.csv")

    code = main(["evaluate", str(source), "--api-url", api.url, "--api-key", "wrong"])

    assert code == 1
    assert len(api.requests) == 1
    assert "HTTP 403 (forbidden: Forbidden)" in capsys.readouterr().err


def test_a_keyless_server_is_evaluated_without_a_key(api, tmp_path, monkeypatch):
    # GIVEN a server that asks for no key (make serve) and no key anywhere
    api.api_key = None
    monkeypatch.delenv("JIRA_PRIORITY_API_KEY", raising=False)
    source = write_tickets(tmp_path / "bugs.csv")

    # WHEN evaluate runs with --api-url alone
    code = main(["evaluate", str(source), "--api-url", api.url, "--output-dir", str(tmp_path)])

    # THEN every ticket is scored, and no x-api-key header was sent
    assert code == 0
    assert len(api.requests) == 3
    assert {r["x-api-key"] for r in api.requests} == {None}


def test_a_server_that_wants_a_key_says_how_to_give_it(api, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("JIRA_PRIORITY_API_KEY", raising=False)
    source = write_tickets(tmp_path / "bugs.csv")

    code = main(["evaluate", str(source), "--api-url", api.url, "--output-dir", str(tmp_path)])

    assert code == 1
    assert capsys.readouterr().err.endswith(
        "HTTP 403 (forbidden: Forbidden); the API wants a key: pass --api-key or set "
        "JIRA_PRIORITY_API_KEY\n"
    )


def test_the_api_key_can_come_from_the_environment(api, tmp_path, monkeypatch):
    monkeypatch.setenv("JIRA_PRIORITY_API_KEY", API_KEY)
    source = write_tickets(tmp_path / "bugs.csv")

    code = main(
        ["evaluate", str(source), "--api-url", api.url, "--output-dir", str(tmp_path / "o")]
    )

    assert code == 0


def test_gateway_timeouts_are_retried_with_backoff_then_given_up(api):
    api.failures = [(504, {})] * 3
    ranker = HttpApiRanker(api.url, API_KEY)
    pauses: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_delay=0.25, sleep=pauses.append)

    with pytest.raises(PredictionError, match="gave up after 3 attempts: HTTP 504"):
        predict_all([LabelledTicket("slow", "", Priority.MAJOR)], ranker, retry=policy)
    assert pauses == [0.25, 0.5]
    assert len(api.requests) == 3


def test_a_slow_api_is_a_retryable_timeout(api):
    api.delay = 0.5
    ranker = HttpApiRanker(api.url, API_KEY, timeout=0.1)

    with pytest.raises(RetryableError, match=r"no answer within 0\.1 s"):
        ranker.rank([("slow", "")], 2)


def test_an_unreachable_api_is_retryable(api):
    url = api.url
    api.shutdown()
    api.server_close()

    with pytest.raises(RetryableError, match="cannot reach"):
        HttpApiRanker(url, API_KEY, timeout=1.0).rank([("x", "")], 2)


def test_an_answer_of_the_wrong_length_is_not_retried(api):
    api.drop_last = True
    ranker = HttpApiRanker(api.url, API_KEY)

    with pytest.raises(PredictionError, match="no list of 2 predictions"):
        ranker.rank([("x", ""), ("y", "")], 2)
    assert len(api.requests) == 1


def test_only_http_urls_are_accepted():
    with pytest.raises(PredictionError, match="not an http"):
        HttpApiRanker("file:///etc/passwd", API_KEY)


# --- evaluate --endpoint, through boto3's real HTTP stack to a loopback BlazingText --------


class FakeEndpoint(ThreadingHTTPServer):
    """Answers InvokeEndpoint like a BlazingText endpoint; throttles the first call."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EndpointHandler)
        self.paths: list[str] = []
        self.instances: list[str] = []
        self.throttle_next = True


class EndpointHandler(BaseHTTPRequestHandler):
    server: FakeEndpoint

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.paths.append(self.path)
        if self.server.throttle_next:
            self.server.throttle_next = False
            data = json.dumps({"__type": "ThrottlingException", "message": "slow down"}).encode()
            self.send_response(400)
            self.send_header("x-amzn-ErrorType", "ThrottlingException")
        else:
            self.server.instances.extend(body["instances"])
            labels = {"Blocker": "__label__6", "Minor": "__label__3", "Major": "__label__4"}
            answers = []
            for text in body["instances"]:
                ranking = answer_for(text)["ranking"]
                answers.append(
                    {
                        "label": [labels.get(r["priority"], "__label__5") for r in ranking],
                        "prob": [r["probability"] for r in ranking],
                    }
                )
            data = json.dumps(answers).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_evaluate_against_a_sagemaker_endpoint_retries_throttling(tmp_path, monkeypatch):
    from jira_priority.predictors.sagemaker import runtime_client

    endpoint = FakeEndpoint()
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", f"http://127.0.0.1:{endpoint.server_address[1]}"
    )
    runtime_client.cache_clear()  # a client made earlier would point elsewhere
    try:
        source = write_tickets(tmp_path / "bugs.csv")
        code = main(
            [
                "evaluate",
                str(source),
                "--endpoint",
                "jira-priority",
                "--batch-size",
                "40",
                "--output-dir",
                str(tmp_path / "out"),
            ]
        )
    finally:
        runtime_client.cache_clear()
        endpoint.shutdown()
        endpoint.server_close()
        thread.join(timeout=5)

    assert code == 0
    assert endpoint.paths == ["/endpoints/jira-priority/invocations"] * 3  # throttled, 40, 20
    assert endpoint.instances[0] == "crash in scheduler 0 details"  # normalised, as served
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["predictor"]["endpoint_name"] == "jira-priority"
    assert report["comparison"]["accuracy"]["model"] == pytest.approx(58 / 60)
