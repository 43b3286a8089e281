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
from tests.support.event_expectations import HEALTH, PREDICTIONS, REFUSALS
from tests.support.events import TEST_ENDPOINT, event_names, load_event

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
    assert body == HEALTH
