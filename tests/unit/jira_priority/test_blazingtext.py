"""BlazingText's protocol, one codec for InvokeEndpoint and batch transform."""

from __future__ import annotations

import json

import pytest

from jira_priority.blazingtext import decode_answer, decode_batch, encode_batch, encode_request
from jira_priority.errors import BadModelResponseError


def test_a_request_carries_the_instances_and_k() -> None:
    body = encode_request(["npe in namenode", "typo"], 2)

    assert json.loads(body) == {
        "instances": ["npe in namenode", "typo"],
        "configuration": {"k": 2},
    }


def test_an_answer_becomes_rankings_best_first() -> None:
    raw = b'[{"label": ["__label__3", "__label__4"], "prob": [0.2, 0.7]}]'

    assert decode_answer(raw, expected=1, k=2) == [[("__label__4", 0.7), ("__label__3", 0.2)]]


def test_batch_input_and_output_are_json_lines_in_order() -> None:
    assert encode_batch(["a b", "c"], 1) == b'{"source": "a b", "k": 1}\n{"source": "c", "k": 1}\n'
    raw = b'{"label": ["__label__4"], "prob": [0.9]}\n\n{"label": ["__label__6"], "prob": [0.6]}\n'

    assert decode_batch(raw, expected=2, k=1) == [[("__label__4", 0.9)], [("__label__6", 0.6)]]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "0 result"),
        (b'[{"label": ["__label__4"], "prob": []}]', "matching label and prob"),
        (b'[{"label": ["__label__4", "__label__3"], "prob": [0.5, 0.4]}]', "asked for 1"),
    ],
)
def test_an_unexpected_answer_is_a_bad_model_response(raw: bytes, message: str) -> None:
    with pytest.raises(BadModelResponseError, match=message):
        decode_answer(raw, expected=1, k=1)


def test_a_bad_batch_line_is_named() -> None:
    raw = b'{"label": ["__label__4"], "prob": [0.9]}\n{"label": 4}\n'

    with pytest.raises(
        BadModelResponseError, match="output line 2 is not a BlazingText prediction"
    ):
        decode_batch(raw, expected=2, k=1)
