"""The SageMaker backend through boto3's real HTTP stack, against a fake endpoint on 127.0.0.1.

Timeouts, retries and error codes are what botocore really does with real
sockets; only the endpoint is a stand-in.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest

from jira_priority import app as handler
from jira_priority.predictors.sagemaker import SageMakerPredictor, runtime_client
from jira_priority.settings import load_settings
from tests.fakes.blazingtext_endpoint import FakeEndpoint, running_fake_endpoint
from tests.support.events import TEST_ENDPOINT, load_event

pytestmark = pytest.mark.integration


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEndpoint]:
    with running_fake_endpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint.url)
        monkeypatch.setenv("SAGEMAKER_CONNECT_TIMEOUT_SECONDS", "1")
        monkeypatch.setenv("SAGEMAKER_READ_TIMEOUT_SECONDS", "1")
        monkeypatch.setenv("SAGEMAKER_MAX_ATTEMPTS", "2")
        runtime_client.cache_clear()
        predictor = SageMakerPredictor.from_settings(load_settings())
        monkeypatch.setattr(handler.classifier, "predictor", predictor)
        yield endpoint
    runtime_client.cache_clear()


def call(
    context: Any, name: str = "predict-text"
) -> tuple[int, dict[str, Any], dict[str, Any], float]:
    started = time.monotonic()
    response = handler.lambda_handler(load_event(name), context)
    elapsed = time.monotonic() - started
    return (
        response["statusCode"],
        json.loads(response["body"]),
        response["multiValueHeaders"],
        elapsed,
    )


def test_answer_over_http(fake: FakeEndpoint, lambda_context: Any) -> None:
    status, body, _, _ = call(lambda_context, "predict-top-k")

    assert status == HTTPStatus.OK
    assert [r["priority"] for r in body["ranking"]] == ["Major", "Minor", "Critical"]
    (request,) = fake.requests
    assert request["path"] == f"/endpoints/{TEST_ENDPOINT}/invocations"
    assert request["content_type"] == "application/json"
    assert request["accept"] == "application/json"
    # the client's k: this model has no post-processing (with it, every label is
    # asked for: test_postprocessing_backends.py)
    assert json.loads(request["body"])["configuration"] == {"k": 3}


def test_read_timeout_is_504_well_within_29_seconds(
    fake: FakeEndpoint, lambda_context: Any
) -> None:
    fake.default, fake.slow_seconds = "slow", 4.0

    status, body, _, elapsed = call(lambda_context)

    assert status == HTTPStatus.GATEWAY_TIMEOUT
    assert body == {
        "error": {"code": "upstream_timeout", "message": "The model did not answer in time."}
    }
    assert len(fake.requests) == 2  # the configured two attempts, each cut at 1 s
    assert elapsed < 6.0


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose accept queue is full, so a new connect never completes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def use_endpoint_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", url)
    monkeypatch.setenv("SAGEMAKER_CONNECT_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("SAGEMAKER_MAX_ATTEMPTS", "2")
    runtime_client.cache_clear()
    monkeypatch.setattr(
        handler.classifier, "predictor", SageMakerPredictor.from_settings(load_settings())
    )


def test_connect_timeout_is_504(
    monkeypatch: pytest.MonkeyPatch, unanswered_port: int, lambda_context: Any
) -> None:
    use_endpoint_url(monkeypatch, f"http://127.0.0.1:{unanswered_port}")

    status, body, _, elapsed = call(lambda_context)

    runtime_client.cache_clear()
    assert status == HTTPStatus.GATEWAY_TIMEOUT
    assert body["error"]["code"] == "upstream_timeout"
    assert elapsed < 6.0


def test_refused_connection_is_503(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    use_endpoint_url(monkeypatch, f"http://127.0.0.1:{closed_port}")

    status, body, headers, _ = call(lambda_context)

    runtime_client.cache_clear()
    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["error"]["code"] == "upstream_unavailable"
    assert headers["Retry-After"] == ["5"]


def test_throttling_is_retried_then_answered(fake: FakeEndpoint, lambda_context: Any) -> None:
    fake.script = ["throttle", "ok"]

    status, body, _, _ = call(lambda_context)

    assert status == HTTPStatus.OK
    assert body["priority"] == "Major"
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("behaviour", "expected_status", "code", "retry_after", "attempts"),
    [
        ("throttle", HTTPStatus.TOO_MANY_REQUESTS, "upstream_throttled", ["2"], 2),
        ("unavailable", HTTPStatus.SERVICE_UNAVAILABLE, "upstream_unavailable", ["5"], 2),
        ("internal", HTTPStatus.SERVICE_UNAVAILABLE, "upstream_unavailable", ["5"], 2),
        ("model_error", HTTPStatus.BAD_GATEWAY, "model_error", None, 1),
        ("no_endpoint", HTTPStatus.BAD_GATEWAY, "endpoint_rejected", None, 1),
        ("garbage", HTTPStatus.BAD_GATEWAY, "bad_model_response", None, 1),
    ],
)
def test_upstream_failures_over_http(
    fake: FakeEndpoint,
    lambda_context: Any,
    behaviour: str,
    expected_status: HTTPStatus,
    code: str,
    retry_after: list[str] | None,
    attempts: int,
) -> None:
    fake.default = behaviour

    status, body, headers, _ = call(lambda_context)

    assert status == expected_status
    assert body["error"]["code"] == code
    assert headers.get("Retry-After") == retry_after
    assert len(fake.requests) == attempts
