"""Checks that run on the raw event before routing: size, media type, encoding."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any

import pytest

from jira_priority import app as handler
from jira_priority.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from jira_priority.http_edge import prepare_event
from tests.support.events import load_event


def event_with(body: str | None, content_type: str | None, **extra: Any) -> dict[str, Any]:
    event = load_event("predict-text")
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "Content-Type"}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    event["body"] = body
    event.update(extra)
    return event


def test_text_plain_becomes_the_text_shape() -> None:
    prepared = prepare_event(event_with("Crash on start", "text/plain; charset=utf-8"), 1000)
    assert json.loads(prepared["body"]) == {"text": "Crash on start"}
    assert prepared["headers"]["Content-Type"] == "application/json"
    assert "content-type" not in prepared["headers"]


def test_missing_content_type_is_read_as_json() -> None:
    prepared = prepare_event(event_with('{"text": "x"}', None), 1000)
    assert prepared["body"] == '{"text": "x"}'


def test_json_with_charset_parameter_is_accepted() -> None:
    prepared = prepare_event(event_with('{"text": "x"}', "Application/JSON; charset=UTF-8"), 1000)
    assert prepared["body"] == '{"text": "x"}'


def test_base64_bodies_are_decoded() -> None:
    raw = base64.b64encode(b'{"text": "x"}').decode()
    prepared = prepare_event(event_with(raw, "application/json", isBase64Encoded=True), 1000)
    assert prepared["body"] == '{"text": "x"}'
    assert prepared["isBase64Encoded"] is False


def test_size_limit_counts_bytes_not_characters() -> None:
    body = json.dumps({"text": "é" * 300}, ensure_ascii=False)  # 300 characters, 600+ bytes
    with pytest.raises(PayloadTooLargeError):
        prepare_event(event_with(body, "application/json"), 500)


@pytest.mark.parametrize(
    "content_type",
    ["application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_other_media_types_are_refused(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        prepare_event(event_with("title=x", content_type), 1000)


def test_invalid_utf8_is_a_bad_request() -> None:
    raw = base64.b64encode(b'{"text": "\xff\xfe"}').decode()
    with pytest.raises(InvalidRequestError, match="UTF-8"):
        prepare_event(event_with(raw, "application/json", isBase64Encoded=True), 1000)


def test_invalid_base64_is_a_bad_request() -> None:
    with pytest.raises(InvalidRequestError, match="base64"):
        prepare_event(event_with("%%%not base64", "text/plain", isBase64Encoded=True), 1000)


def test_get_requests_pass_untouched() -> None:
    event = load_event("health")
    assert prepare_event(event, 10) is event


ONE_SHAPE = (
    "give exactly one of 'title' (with optional 'description'), 'text', or 'issue' "
    "(a Jira webhook payload)"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "the body is empty: send a JSON ticket or plain text"),
        ("", "the body is empty: send a JSON ticket or plain text"),
        ("[1, 2]", "the body must be a JSON object"),
        ('{"title": 5}', "title: Input should be a valid string"),
        (
            '{"title": "x", "text": "y"}',
            f"{ONE_SHAPE}; got title, text",
        ),
        ('{"tickets": []}', "tickets: List should have at least 1 item after validation, not 0"),
        (
            '{"tickets": [{"text": "a"}, {}]}',
            f"tickets.1: {ONE_SHAPE}; got none",
        ),
        (
            '{"tickets": [{"text": "a"}], "text": "b"}',
            "a batch puts ticket fields inside 'tickets', not beside it: ['text']",
        ),
        ('{"text": "a", "k": 0}', "k: Input should be greater than or equal to 1"),
        ('{"text": "a", "k": "two"}', "k: Input should be a valid integer"),
        ('{"text": "a", "k": "2"}', "k: Input should be a valid integer"),
        (
            '{"title": "NPE", "descripton": "typo"}',
            "unknown field(s) 'descripton'; expected description, issue, k, text, tickets, title",
        ),
        (
            '{"tickets": [{"text": "a", "priority": "Major"}]}',
            "tickets.0: unknown field(s) 'priority'; expected description, issue, text, title",
        ),
        ('{"text": "a", "k": true}', "k: Input should be a valid integer"),
        ('{"text": "a", "k": 2.5}', "k: Input should be a valid integer"),
        (
            '{"text": "a", "issue": null, "priority": "Major"}',  # null: no webhook body
            "unknown field(s) 'priority'; expected description, issue, k, text, tickets, title",
        ),
        ('{"tickets": [{"text": "???"}]}', "tickets.0: no words to classify"),
        (
            '{"issue": {"fields": {"summary": "s", "description": 5}}}',
            "issue.fields.description: must be text or an Atlassian Document Format object",
        ),
        ('{"issue": {"key": "X-1", "fields": {}}}', "issue.fields.summary: Field required"),
        ('{"tickets": [{"text": "fine"}, {"text": "???"}]}', "tickets.1: no words to classify"),
    ],
)
def test_invalid_bodies_name_the_field(body: str | None, message: str, lambda_context: Any) -> None:
    event = event_with(body, "application/json")

    response = handler.lambda_handler(event, lambda_context)

    assert response["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(response["body"]) == {
        "error": {"code": "invalid_request", "message": message}
    }


@pytest.mark.parametrize(
    "body",
    [
        "[" * 990 + "]" * 990,  # deep enough to exhaust json's recursion
        '{"text": "a", "x": ' + "[" * 70 + "]" * 70 + "}",  # parses, but deeper than allowed
    ],
)
def test_deeply_nested_bodies_are_a_bad_request(body: str, lambda_context: Any) -> None:
    response = handler.lambda_handler(event_with(body, "application/json"), lambda_context)

    assert response["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(response["body"]) == {
        "error": {
            "code": "invalid_request",
            "message": "the body is nested more than 64 levels deep",
        }
    }


def test_a_jira_cloud_description_is_read_in_document_order(
    lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    class Recorder:
        backend, model_id = "test", "recorder"

        def is_ready(self) -> bool:
            return True

        def postprocessing(self) -> None:
            return None

        def predict(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
            seen.extend(texts)
            return [[("__label__4", 0.5)] for _ in texts]

    monkeypatch.setattr(handler.classifier, "predictor", Recorder())
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": "disk"}]}
    nested: dict[str, Any] = {"type": "doc", "content": [{"type": "text", "text": "NameNode"}]}
    inner = nested
    for _ in range(20):  # deep, but within the limit
        child: dict[str, Any] = {"type": "blockquote", "content": []}
        inner["content"].append(child)
        inner = child
    inner["content"].append(paragraph)
    nested["content"].append({"type": "text", "text": "full"})
    body = json.dumps({"issue": {"fields": {"summary": "Crash", "description": nested}}})

    response = handler.lambda_handler(event_with(body, "application/json"), lambda_context)

    assert response["statusCode"] == HTTPStatus.OK
    assert seen == ["crash crash crash namenode disk full"]


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"body": '{"text": "x"}'},
        {"httpMethod": "POST", "path": "/predict", "body": '{"text": "x"}'},
    ],
)
def test_events_that_are_not_proxy_events_are_refused(
    event: dict[str, Any], lambda_context: Any
) -> None:
    response = handler.lambda_handler(event, lambda_context)

    assert response["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(response["body"])["error"]["code"] == "invalid_request"


def test_a_body_that_is_not_a_string_is_refused(lambda_context: Any) -> None:
    event = event_with(None, "application/json")
    event["body"] = {"text": "a dict, as a console test event might send"}

    response = handler.lambda_handler(event, lambda_context)

    assert response["statusCode"] == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(
    "body",
    [
        '{"text": "a", "k": ' + "9" * 4_301 + "}",
        '{"text": "a", "x": [1, {"y": -' + "1" * 5_000 + "}]}",
        "1" * 10_000,
    ],
    ids=["k", "nested", "bare"],
)
def test_an_integer_of_more_than_4300_digits_is_a_bad_request(
    body: str, lambda_context: Any
) -> None:
    response = handler.lambda_handler(event_with(body, "application/json"), lambda_context)

    assert response["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(response["body"]) == {
        "error": {
            "code": "invalid_request",
            "message": "a number in the body has more than 4300 digits",
        }
    }


@pytest.mark.parametrize(
    "event",
    [
        [],
        None,
        "POST /predict",
        42,
        [{"httpMethod": "POST"}],
        {"httpMethod": "POST", "requestContext": {}, "body": '{"text": "x"}'},
        {"httpMethod": "POST", "path": None, "requestContext": {}, "body": '{"text": "x"}'},
        {"httpMethod": "POST", "path": 5, "requestContext": {}, "body": '{"text": "x"}'},
        {"httpMethod": "POST", "path": "/predict", "requestContext": {}, "headers": "x"},
        {"httpMethod": "POST", "path": "/predict", "requestContext": {}, "headers": {"a": 1}},
        {
            "httpMethod": "POST",
            "path": "/predict",
            "requestContext": {},
            "multiValueHeaders": {"content-type": "text/plain"},
        },
        {"httpMethod": "GET", "path": "/health", "requestContext": {}, "headers": []},
        {
            "httpMethod": "GET",
            "path": "/health",
            "requestContext": {},
            "queryStringParameters": "x",
        },
    ],
    ids=repr,
)
def test_odd_direct_invocations_get_a_bad_request_answer(event: Any, lambda_context: Any) -> None:
    response = handler.lambda_handler(event, lambda_context)

    assert response["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(response["body"])["error"]["code"] == "invalid_request"


def test_an_integral_k_written_as_a_float_is_that_integer(
    lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # JSON Schema's "integer" (what the OpenAPI document says k is) includes 2.0.
    class Ranker:
        backend, model_id = "test", "ranker"

        def is_ready(self) -> bool:
            return True

        def postprocessing(self) -> None:
            return None

        def predict(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
            return [[(f"__label__{n}", 0.5 / n) for n in range(1, k + 1)] for _ in texts]

    monkeypatch.setattr(handler.classifier, "predictor", Ranker())
    body = '{"text": "Broker crashes on restart", "k": 2.0}'

    response = handler.lambda_handler(event_with(body, "application/json"), lambda_context)

    assert response["statusCode"] == HTTPStatus.OK
    assert len(json.loads(response["body"])["ranking"]) == 2
