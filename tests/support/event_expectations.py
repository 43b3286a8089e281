"""What the function answers to each file in events/, with the SageMaker answers that lead to it.

Shared by the tests that run the events through lambda_handler in-process
(tests/unit/jira_priority/test_events.py) and through `sam local invoke` in a container
(tests/integration/test_sam_local.py). The function calls its endpoint
TEST_ENDPOINT; the endpoint answers each prediction event with the BlazingText
answer given here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from tests.support.events import TEST_ENDPOINT


def prediction(priority: str, label: str, ranking: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "priority": priority,
        "label": label,
        "probability": ranking[0][1],
        # null: the endpoint's model has no postprocessing.json (no MODEL_URI)
        "calibrated_probability": None,
        "confident": None,
        "action": None,
        "urgency": None,
        "ranking": [
            {"priority": p, "probability": prob, "calibrated_probability": None}
            for p, prob in ranking
        ],
        "model": TEST_ENDPOINT,
    }


ONE_MAJOR = [{"label": ["__label__4"], "prob": [0.61]}]

#: event name -> (the endpoint's answer to its one InvokeEndpoint call, the function's body).
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


#: event name -> (status, body) of a request refused before any endpoint call.
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

#: The body of the answer to events/health.json (backend sagemaker).
HEALTH: dict[str, Any] = {
    "status": "ok",
    "backend": "sagemaker",
    "model": TEST_ENDPOINT,
    "ready": True,
}
