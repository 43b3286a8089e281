"""Every file in events/ through lambda_handler, with exact status codes and bodies.

SageMaker answers come from moto's sagemaker-runtime (results queued through
moto's endpoint-results API), so the request goes through boto3 for real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from jira_priority import app as handler
from jira_priority.predictors.sagemaker import SageMakerPredictor
from tests.conftest import TEST_ENDPOINT, event_names, load_event

MOTO_RESULTS_API = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"


def queue_endpoint_answers(*answers: list[dict[str, Any]]) -> None:
    """Make moto's InvokeEndpoint return these BlazingText answers, in order."""
    results = [
        {"Body": json.dumps(answer), "ContentType": "application/json"} for answer in answers
    ]
    requests.post(MOTO_RESULTS_API, json={"results": results}, timeout=5)


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mock_aws():
        predictor = SageMakerPredictor(TEST_ENDPOINT, boto3.client("sagemaker-runtime"))
        monkeypatch.setattr(handler.classifier, "predictor", predictor)
        yield


def invoke(name: str, context: Any) -> tuple[int, Any, dict[str, list[str]]]:
    response = handler.lambda_handler(load_event(name), context)
    return response["statusCode"], json.loads(response["body"]), response["multiValueHeaders"]


def prediction(priority: str, label: str, ranking: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "priority": priority,
        "label": label,
        "probability": ranking[0][1],
        "ranking": [{"priority": p, "probability": prob} for p, prob in ranking],
        "model": TEST_ENDPOINT,
    }


ONE_MAJOR = [{"label": ["__label__4"], "prob": [0.61]}]

PREDICTIONS: dict[str, tuple[list[dict[str, Any]], Any]] = {
    "predict-title-description": (
        [{"label": ["__label__6"], "prob": [0.83]}],
        prediction("Blocker", "__label__6", [("Blocker", 0.83)]),
    ),
    "predict-text": (
        [{"label": ["__label__2"], "prob": [0.57]}],
        prediction("Trivial", "__label__2", [("Trivial", 0.57)]),
    ),
    "predict-jira-webhook": (ONE_MAJOR, prediction("Major", "__label__4", [("Major", 0.61)])),
    "predict-text-plain": (ONE_MAJOR, prediction("Major", "__label__4", [("Major", 0.61)])),
    "predict-top-k": (
        [{"label": ["__label__5", "__label__4", "__label__6"], "prob": [0.5, 0.3, 0.2]}],
        prediction("Critical", "__label__5", [("Critical", 0.5), ("Major", 0.3), ("Blocker", 0.2)]),
    ),
    "predict-jira-automation": (
        [{"label": ["__label__5", "__label__4", "__label__3"], "prob": [0.62, 0.25, 0.08]}],
        prediction(
            "Critical", "__label__5", [("Critical", 0.62), ("Major", 0.25), ("Minor", 0.08)]
        ),
    ),
    "predict-batch": (
        [
            {"label": ["__label__5", "__label__4"], "prob": [0.7, 0.2]},
            {"label": ["__label__2", "__label__3"], "prob": [0.6, 0.3]},
            {"label": ["__label__4", "__label__5"], "prob": [0.55, 0.4]},
        ],
        {
            "predictions": [
                prediction("Critical", "__label__5", [("Critical", 0.7), ("Major", 0.2)]),
                prediction("Trivial", "__label__2", [("Trivial", 0.6), ("Minor", 0.3)]),
                prediction("Major", "__label__4", [("Major", 0.55), ("Critical", 0.4)]),
            ]
        },
    ),
}


def error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


REFUSALS: dict[str, tuple[HTTPStatus, dict[str, Any]]] = {
    "invalid-json": (
        HTTPStatus.BAD_REQUEST,
        error("invalid_request", "the body is not valid JSON"),
    ),
    "invalid-no-ticket-fields": (
        HTTPStatus.BAD_REQUEST,
        error(
            "invalid_request",
            "unknown field(s) 'summary'; expected description, issue, k, text, tickets, title",
        ),
    ),
    "invalid-k-out-of-range": (
        HTTPStatus.BAD_REQUEST,
        error("invalid_request", "k: Input should be less than or equal to 6"),
    ),
    "invalid-batch-too-large": (
        HTTPStatus.BAD_REQUEST,
        error("invalid_request", "tickets: at most 25 tickets per request, got 26"),
    ),
    "invalid-empty-text": (
        HTTPStatus.BAD_REQUEST,
        error("invalid_request", "ticket: no words to classify"),
    ),
    "invalid-content-type": (
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        error(
            "unsupported_media_type",
            "Content-Type 'application/xml' is not accepted; send application/json or text/plain.",
        ),
    ),
    "invalid-body-too-large": (
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        error(
            "payload_too_large",
            "The request body is 1092070 bytes; the limit is 1048576 bytes.",
        ),
    ),
    "not-found": (HTTPStatus.NOT_FOUND, error("not_found", "No route for POST /predictions.")),
    "invalid-huge-integer": (
        HTTPStatus.BAD_REQUEST,
        error("invalid_request", "a number in the body has more than 4300 digits"),
    ),
    "invalid-path-null": (
        HTTPStatus.BAD_REQUEST,
        error("invalid_request", "The function was invoked without an API Gateway proxy event."),
    ),
}


def test_every_event_file_has_an_expected_outcome() -> None:
    assert set(event_names()) == set(PREDICTIONS) | set(REFUSALS) | {"health"}


@pytest.mark.parametrize("name", sorted(PREDICTIONS))
def test_prediction_events(name: str, moto_endpoint: None, lambda_context: Any) -> None:
    answer, expected = PREDICTIONS[name]
    queue_endpoint_answers(answer)

    status, body, headers = invoke(name, lambda_context)

    assert status == HTTPStatus.OK
    assert body == expected
    assert headers["Content-Type"] == ["application/json"]


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refused_events(name: str, moto_endpoint: None, lambda_context: Any) -> None:
    expected_status, expected_body = REFUSALS[name]

    status, body, headers = invoke(name, lambda_context)

    assert (status, body) == (expected_status, expected_body)
    assert headers["Content-Type"] == ["application/json"]


def test_health_event(moto_endpoint: None, lambda_context: Any) -> None:
    status, body, _ = invoke("health", lambda_context)

    assert status == HTTPStatus.OK
    assert body == {"status": "ok", "backend": "sagemaker", "model": TEST_ENDPOINT, "ready": True}
