"""InvokeEndpoint's exact request, and every upstream failure's HTTP answer.

A botocore Stubber stands in for SageMaker: it checks the exact parameters we
send and returns the errors SageMaker documents. The client is built with one
attempt so that each stubbed answer is used once (retries are tested against a
real loopback server in tests/integration).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
    SSLError,
)
from botocore.response import StreamingBody
from botocore.stub import Stubber

from jira_priority import app as handler
from jira_priority.predictors.sagemaker import SageMakerPredictor
from tests.support.events import TEST_ENDPOINT, load_event


@pytest.fixture
def stubber(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("sagemaker-runtime", config=Config(retries={"total_max_attempts": 1}))
    predictor = SageMakerPredictor(TEST_ENDPOINT, client)
    monkeypatch.setattr(handler.classifier, "predictor", predictor)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def body(raw: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(raw), len(raw))


def answer(raw: bytes) -> dict[str, Any]:
    return {"Body": body(raw), "ContentType": "application/json"}


def expect_invocation(stubber: Stubber, instances: list[str], *, k: int, reply: bytes) -> None:
    """One InvokeEndpoint call with exactly this BlazingText request, answered with ``reply``."""
    stubber.add_response(
        "invoke_endpoint",
        answer(reply),
        expected_params={
            "EndpointName": TEST_ENDPOINT,
            "Body": json.dumps({"instances": instances, "configuration": {"k": k}}).encode(),
            "ContentType": "application/json",
            "Accept": "application/json",
        },
    )


def call(name: str, context: Any) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    response = handler.lambda_handler(load_event(name), context)
    return response["statusCode"], json.loads(response["body"]), response["multiValueHeaders"]


def test_request_is_normalised_blazingtext_json(stubber: Stubber, lambda_context: Any) -> None:
    expect_invocation(
        stubber,
        ["data loss when the datanode disk fills up " * 3 + "blocks are silently dropped"],
        # The client's k: this model has no post-processing, which would need every
        # label (tests/integration/test_postprocessing_backends.py: every label).
        k=3,
        reply=b'[{"label": ["__label__6"], "prob": [0.9]}]',
    )

    status, _, _ = call("predict-top-k", lambda_context)

    assert status == HTTPStatus.OK


def test_batch_sends_all_tickets_in_one_call(stubber: Stubber, lambda_context: Any) -> None:
    reply = json.dumps([{"label": ["__label__4", "__label__3"], "prob": [0.6, 0.3]}] * 3)
    expect_invocation(
        stubber,
        [
            "broker runs out of memory under load " * 3 + "oom after 2 hours with 10k consumers",
            "misspelled word in log message",
            " ".join(["resourcemanager fails over repeatedly"] * 3),
        ],
        k=2,
        reply=reply.encode(),
    )

    status, payload, _ = call("predict-batch", lambda_context)

    assert status == HTTPStatus.OK
    assert [p["priority"] for p in payload["predictions"]] == ["Major", "Major", "Major"]


@pytest.mark.parametrize(
    ("aws_code", "http_status", "expected_status", "code", "retry_after"),
    [
        ("ValidationError", 400, HTTPStatus.BAD_GATEWAY, "endpoint_rejected", None),
        ("AccessDeniedException", 403, HTTPStatus.BAD_GATEWAY, "endpoint_rejected", None),
        ("ModelError", 424, HTTPStatus.BAD_GATEWAY, "model_error", None),
        (
            "ModelNotReadyException",
            429,
            HTTPStatus.SERVICE_UNAVAILABLE,
            "upstream_unavailable",
            "5",
        ),
        ("ThrottlingException", 400, HTTPStatus.TOO_MANY_REQUESTS, "upstream_throttled", "2"),
        ("ServiceUnavailable", 503, HTTPStatus.SERVICE_UNAVAILABLE, "upstream_unavailable", "5"),
        ("InternalFailure", 500, HTTPStatus.SERVICE_UNAVAILABLE, "upstream_unavailable", "5"),
        ("SomethingNew", 400, HTTPStatus.BAD_GATEWAY, "endpoint_rejected", None),
        ("SomethingNewAndBroken", 502, HTTPStatus.SERVICE_UNAVAILABLE, "upstream_unavailable", "5"),
    ],
)
def test_sagemaker_errors_map_to_documented_statuses(
    stubber: Stubber,
    lambda_context: Any,
    aws_code: str,
    http_status: int,
    expected_status: HTTPStatus,
    code: str,
    retry_after: str | None,
) -> None:
    internal = f"{aws_code}: arn:aws:sagemaker:us-east-1:123456789012:endpoint/secret-detail"
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code=aws_code,
        service_message=internal,
        http_status_code=http_status,
    )

    status, payload, headers = call("predict-text", lambda_context)

    assert status == expected_status
    assert payload["error"]["code"] == code
    assert "secret-detail" not in json.dumps(payload)
    assert headers.get("Retry-After", [None])[0] == retry_after


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "The model's answer is not JSON."),
        (b"\xff\xfe\x00", "The model's answer is not JSON."),
        (
            b'{"label": ["__label__4"], "prob": [0.5]}',
            "The model answered a JSON dict for 1 ticket(s).",
        ),
        (b"[]", "The model answered 0 result(s) for 1 ticket(s)."),
        (b'[{"prob": [0.5]}]', "A model answer lacks matching label and prob lists."),
        (
            b'[{"label": ["__label__4"], "prob": []}]',
            "A model answer lacks matching label and prob lists.",
        ),
        (b'[{"label": [], "prob": []}]', "A model answer has 0 labels; asked for 1."),
        (
            b'[{"label": ["__label__9"], "prob": [0.5]}]',
            "The model answered a label outside the priorities of its scheme (apache).",
        ),
        (
            b'[{"label": ["Major"], "prob": [0.5]}]',
            "The model answered a label outside the priorities of its scheme (apache).",
        ),
        (b'[{"label": ["__label__4"], "prob": ["high"]}]', "A model probability is not a number."),
        (b'[{"label": ["__label__4"], "prob": [1.7]}]', "A model probability is outside [0, 1]."),
        (b'[{"label": [4], "prob": [0.5]}]', "A model label is not a string."),
        (b'["__label__4"]', "A model answer is not an object with label and prob."),
    ],
)
def test_unreadable_model_answers_are_502(
    stubber: Stubber, lambda_context: Any, raw: bytes, message: str
) -> None:
    stubber.add_response("invoke_endpoint", answer(raw))

    status, payload, _ = call("predict-text", lambda_context)

    assert status == HTTPStatus.BAD_GATEWAY
    assert payload == {"error": {"code": "bad_model_response", "message": message}}


def test_probability_rounding_noise_is_clamped(stubber: Stubber, lambda_context: Any) -> None:
    stubber.add_response(
        "invoke_endpoint", answer(b'[{"label": ["__label__4"], "prob": [1.00001]}]')
    )

    status, payload, _ = call("predict-text", lambda_context)

    assert status == HTTPStatus.OK
    assert payload["probability"] == 1.0


class RaisingClient:
    """A sagemaker-runtime client whose InvokeEndpoint fails as botocore's transport does."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def invoke_endpoint(self, **_: Any) -> dict[str, Any]:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected_status", "code"),
    [
        (
            ConnectionClosedError(endpoint_url="http://127.0.0.1"),
            HTTPStatus.SERVICE_UNAVAILABLE,
            "upstream_unavailable",
        ),
        (
            ResponseStreamingError(error="reset"),
            HTTPStatus.SERVICE_UNAVAILABLE,
            "upstream_unavailable",
        ),
        (
            SSLError(endpoint_url="https://127.0.0.1", error="bad cert"),
            HTTPStatus.SERVICE_UNAVAILABLE,
            "upstream_unavailable",
        ),
        (
            ReadTimeoutError(endpoint_url="http://127.0.0.1"),
            HTTPStatus.GATEWAY_TIMEOUT,
            "upstream_timeout",
        ),
        (
            ConnectTimeoutError(endpoint_url="http://127.0.0.1"),
            HTTPStatus.GATEWAY_TIMEOUT,
            "upstream_timeout",
        ),
        (NoCredentialsError(), HTTPStatus.BAD_GATEWAY, "endpoint_rejected"),
    ],
)
def test_transport_failures_map_to_documented_statuses(
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
    error: Exception,
    expected_status: HTTPStatus,
    code: str,
) -> None:
    predictor = SageMakerPredictor(TEST_ENDPOINT, RaisingClient(error))  # type: ignore[arg-type]
    monkeypatch.setattr(handler.classifier, "predictor", predictor)

    status, payload, _ = call("predict-text", lambda_context)

    assert status == expected_status
    assert payload["error"]["code"] == code
    assert "127.0.0.1" not in json.dumps(payload)
