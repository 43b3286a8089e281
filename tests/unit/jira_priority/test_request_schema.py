"""The request schema of the OpenAPI document and the service agree, in both directions.

A body the document allows is answered 200, one it refuses is answered 400,
whatever its form; the pattern for "a word to classify" is the normaliser's own
notion of a word character; every example of the document is valid and answered.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jira_priority import app as handler
from jira_priority.openapi import JSON_EXAMPLES, TEXT_EXAMPLES, openapi_document
from jira_priority.request_schema import BATCH_REQUEST, REQUEST_FORMS, word_character_class
from jira_priority.text import tokenise
from tests.support.events import FakeLambdaContext, load_event
from tests.unit.jira_priority.test_predict_properties import HealthyPredictor

DOCUMENT = openapi_document()
MAX_BATCH = handler.settings.max_batch_size


def validator(name: str) -> Any:
    """A JSON Schema 2020-12 validator for ``components/schemas/NAME`` of the document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


REQUEST = validator("PredictRequest")
TEXT_BODY = jsonschema_rs.Draft202012Validator(
    DOCUMENT["paths"]["/predict"]["post"]["requestBody"]["content"]["text/plain"]["schema"]
    | {"components": DOCUMENT["components"]}
)
BRANCHES = {name: validator(name) for name in [*REQUEST_FORMS.values(), BATCH_REQUEST]}


@pytest.fixture(scope="module", autouse=True)
def _healthy_backend() -> Iterator[None]:
    saved = handler.classifier.predictor
    handler.classifier.predictor = HealthyPredictor()
    yield
    handler.classifier.predictor = saved


def answer(body: str, content_type: str = "application/json") -> int:
    event = load_event("predict-text")
    event["headers"] = {"Content-Type": content_type}
    event["multiValueHeaders"] = {"Content-Type": [content_type]}
    event["body"] = body
    status = handler.lambda_handler(event, FakeLambdaContext())["statusCode"]
    assert status in {HTTPStatus.OK, HTTPStatus.BAD_REQUEST}
    return int(status)


def accepted(payload: Any) -> bool:
    return answer(json.dumps(payload)) == HTTPStatus.OK


def test_a_word_character_is_what_the_normaliser_reads_as_one() -> None:
    # Every code point, read by a JSON Schema validator (by code point, as ECMA-262's u flag).
    word = jsonschema_rs.validator_for({"type": "string", "pattern": word_character_class()})
    disagree = [
        hex(code)
        for code in (*range(0xD800), *range(0xE000, sys.maxunicode + 1))
        if word.is_valid(character := chr(code)) != bool(tokenise(character))
    ]
    assert disagree == []


def test_the_pattern_is_plain_character_ranges() -> None:
    # No shorthand or property escape: Python's re, Rust's regex and ECMA-262 read it alike.
    pattern = word_character_class()
    assert pattern.startswith("[0-9A-Za-z")
    assert "\\" not in pattern
    assert re.fullmatch(pattern, "é")
    assert not re.fullmatch(pattern, "_")


# Text without the markup, entities and lengths the normaliser reads differently: the
# strings of the document's world (letters of several scripts, digits, blanks, punctuation).
texts = st.text(alphabet="aZ9é日٣ \t\n!?-_.,", max_size=6)
nullable_texts = st.none() | texts
scalars = st.none() | st.booleans() | st.integers(-2, 8) | st.sampled_from([2.0, 2.5, "2"]) | texts
adf: st.SearchStrategy[Any] = st.recursive(
    st.fixed_dictionaries({"type": st.just("text"), "text": texts}) | scalars,
    lambda inner: (
        st.fixed_dictionaries({"content": st.lists(inner, max_size=3)})
        | st.lists(inner, max_size=3)
    ),
    max_leaves=6,
)
fields = st.fixed_dictionaries(
    {}, optional={"summary": nullable_texts | st.integers(), "description": nullable_texts | adf}
)
issues = st.none() | scalars | st.fixed_dictionaries({"fields": fields}, optional={"key": texts})
ticket_fields = {
    "title": nullable_texts | scalars,
    "description": nullable_texts | scalars,
    "text": nullable_texts | scalars,
    "issue": issues,
    "other": scalars,
}
tickets = st.fixed_dictionaries({}, optional=ticket_fields)
requests = st.fixed_dictionaries(
    {},
    optional={
        **ticket_fields,
        "k": scalars,
        "tickets": st.none()
        | st.lists(tickets, max_size=3)
        | st.integers(0, 2).map(lambda extra: [{"text": "crash"}] * (MAX_BATCH - 1 + extra)),
    },
)


@given(payload=requests)
def test_the_document_allows_exactly_what_the_service_answers(payload: dict[str, Any]) -> None:
    assert REQUEST.is_valid(payload) == accepted(payload)


@given(payload=requests)
def test_a_valid_request_matches_exactly_one_form(payload: dict[str, Any]) -> None:
    matched = [name for name, branch in BRANCHES.items() if branch.is_valid(payload)]
    assert len(matched) == REQUEST.is_valid(payload)  # oneOf: never two forms at once


@given(text=texts)
def test_the_plain_text_body_is_described_exactly(text: str) -> None:
    assert TEXT_BODY.is_valid(text) == (answer(text, "text/plain") == HTTPStatus.OK)


ADF_WITH_A_WORD = {"type": "doc", "content": [[{"type": "text", "text": "a"}]]}


@pytest.mark.parametrize(
    ("payload", "valid"),
    [
        ({}, False),
        ({"text": ""}, False),
        ({"text": " \t"}, False),
        ({"text": "!?"}, False),
        ({"text": "日本"}, True),
        ({"title": "", "description": "crash"}, True),  # one of them holds a word
        ({"title": "!", "description": None}, False),
        ({"text": "crash", "title": None}, True),  # another form's field, null, is absent
        ({"text": "crash", "k": 2.0}, True),  # JSON Schema's integer: no fraction
        ({"text": "crash", "k": True}, False),
        ({"text": "crash", "issue": None, "other": 1}, False),  # no webhook body: unknown
        ({"issue": {"fields": {"summary": "a"}}, "other": 1}, True),  # the webhook's rest
        ({"issue": {"fields": {"summary": "!", "description": {}}}}, False),
        (
            {"issue": {"fields": {"summary": "!", "description": {"content": [[{"text": "a"}]]}}}},
            True,
        ),
        ({"tickets": [{"issue": {"fields": {"summary": "a"}}, "k": "x"}]}, True),
        ({"tickets": [{"text": "a", "k": 1}]}, False),
        ({"tickets": [{"text": "a"}] * MAX_BATCH}, True),
        ({"tickets": [{"text": "a"}] * (MAX_BATCH + 1)}, False),
    ],
)
def test_the_edges_of_the_forms(payload: dict[str, Any], valid: bool) -> None:
    assert (REQUEST.is_valid(payload), accepted(payload)) == (valid, valid)


@pytest.mark.parametrize("name", sorted(JSON_EXAMPLES))
def test_every_json_example_is_one_form_and_answered(name: str) -> None:
    example = JSON_EXAMPLES[name]["value"]
    assert [form for form, branch in BRANCHES.items() if branch.is_valid(example)] != []
    assert REQUEST.is_valid(example)
    assert accepted(example)


@pytest.mark.parametrize("name", sorted(TEXT_EXAMPLES))
def test_every_text_example_is_valid_and_answered(name: str) -> None:
    example = TEXT_EXAMPLES[name]["value"]
    assert TEXT_BODY.is_valid(example)
    assert answer(example, "text/plain") == HTTPStatus.OK


def test_the_document_names_the_markup_it_cannot_describe() -> None:
    # Letters only inside an HTML entity are no word to the normaliser; no schema says so.
    assert REQUEST.is_valid({"text": "&lt;"})
    assert not accepted({"text": "&lt;"})
