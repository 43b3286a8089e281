"""Property: whatever a client sends to POST /predict, a healthy backend never gives a 5xx.

Arbitrary JSON (ticket-shaped or not), raw bytes, any content type and sizes
around the body limit go through lambda_handler. The answer is always JSON
with a JSON content type; an error is exactly ``{"error": {"code", "message"}}``
with a 4xx status, and no message carries HTML or internal text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jira_priority import app as handler
from jira_priority.labels import LABELS
from tests.support.events import FakeLambdaContext, load_event

#: Text that would show an internal error or a web server's page leaking out.
LEAKS = ("Traceback", "<html", "<!DOCTYPE", 'File "', "jira_priority", "Exception", "Error(")


class HealthyPredictor:
    """A backend that always answers: any 5xx is then the function's own fault."""

    backend, model_id = "test", "healthy"

    def is_ready(self) -> bool:
        return True

    def predict(self, texts: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        return [[(label, 1 / len(LABELS)) for label in LABELS[:k]] for _ in texts]


@pytest.fixture(scope="module", autouse=True)
def _healthy_backend() -> Iterator[None]:
    saved = handler.classifier.predictor
    handler.classifier.predictor = HealthyPredictor()
    yield
    handler.classifier.predictor = saved


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
ticket_fields = st.fixed_dictionaries(
    {},
    optional={
        "title": json_values | st.text(),
        "description": json_values | st.text(),
        "text": json_values | st.text(),
        "k": json_values | st.integers(-2, 8),
        "issue": json_values
        | st.fixed_dictionaries(
            {
                "fields": st.dictionaries(
                    st.sampled_from(["summary", "description"]), json_values | st.text()
                )
            }
        ),
    },
)
bodies = st.one_of(
    json_values.map(json.dumps),
    ticket_fields.map(json.dumps),
    st.lists(ticket_fields, max_size=30).map(lambda tickets: json.dumps({"tickets": tickets})),
    st.text(),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(
        ["application/json", "text/plain", "APPLICATION/JSON; charset=utf-8", "text/plain;x=y",
         "application/xml", "multipart/form-data; boundary=x", "", ";", "text/html"]
    ),
    st.text(max_size=30),
)  # fmt: skip


def _invoke(body: str | None, content_type: str | None, is_base64: bool = False) -> dict[str, Any]:
    event = load_event("predict-text")
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "content-type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    event["body"] = body
    event["isBase64Encoded"] = is_base64
    response: dict[str, Any] = handler.lambda_handler(event, FakeLambdaContext())
    return response


def _assert_well_formed(response: dict[str, Any]) -> None:
    status = response["statusCode"]
    assert status < HTTPStatus.INTERNAL_SERVER_ERROR, response
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(name.lower(), values[0])
    assert headers.get("content-type", "").startswith("application/json")
    document = json.loads(response["body"])
    if status >= HTTPStatus.BAD_REQUEST:
        assert set(document) == {"error"}
        assert set(document["error"]) == {"code", "message"}
        assert all(isinstance(v, str) for v in document["error"].values())
        assert not any(leak in document["error"]["message"] for leak in LEAKS)
    else:
        assert status == HTTPStatus.OK
        assert "priority" in document or "predictions" in document


@given(body=bodies, content_type=content_types)
def test_any_text_body_gets_a_json_answer_and_never_a_5xx(
    body: str, content_type: str | None
) -> None:
    _assert_well_formed(_invoke(body, content_type))


@given(raw=st.binary(max_size=2_000), content_type=content_types)
def test_any_bytes_body_gets_a_json_answer_and_never_a_5xx(
    raw: bytes, content_type: str | None
) -> None:
    _assert_well_formed(_invoke(base64.b64encode(raw).decode(), content_type, is_base64=True))


@given(
    piece=st.sampled_from(["a ", "[", "{code:", "é", "9", '"', "\\", "\u2028"]),
    size=st.integers(min_value=0, max_value=handler.settings.max_body_bytes + 4_096),
    shape=st.sampled_from(["text", "json-text", "json-number"]),
)
def test_bodies_of_any_size_get_a_json_answer_and_never_a_5xx(
    piece: str, size: int, shape: str
) -> None:
    filler = (piece * (size // len(piece) + 1))[:size]
    if shape == "text":
        _assert_well_formed(_invoke(filler, "text/plain"))
    elif shape == "json-text":
        _assert_well_formed(_invoke(json.dumps({"text": filler}), "application/json"))
    else:
        _assert_well_formed(_invoke('{"text": "x", "k": ' + "9" * (size % 10_000 + 1) + "}", None))
