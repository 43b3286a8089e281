"""The one JSON loader for outside text: nesting bounded, every failure a ValueError."""

from __future__ import annotations

import json

import pytest

from jira_priority import safe_json

HUNDRED_THOUSAND_DEEP = "[" * 100_000


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_json_nested_100_000_deep_is_a_value_error_not_a_recursion_error() -> None:
    with pytest.raises(safe_json.JSONDepthError, match="nested more than 512 levels deep"):
        safe_json.loads(HUNDRED_THOUSAND_DEEP)


def test_deep_bytes_are_refused_the_same_way() -> None:
    with pytest.raises(ValueError, match="levels deep"):
        safe_json.loads(b'{"a": ' + b"[" * 100_000)


def test_parseable_but_deeper_than_allowed_is_refused() -> None:
    # 600 levels parse (json recurses in C), but whoever walks the value next may not cope.
    with pytest.raises(safe_json.JSONDepthError):
        safe_json.loads(nested(600))


def test_up_to_the_limit_is_parsed() -> None:
    assert safe_json.loads(nested(4), max_depth=4) == [[[[]]]]
    with pytest.raises(safe_json.JSONDepthError, match="more than 3 levels"):
        safe_json.loads(nested(4), max_depth=3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 0), ("x", 0), ([], 1), ({}, 1), ({"a": [1, {"b": []}]}, 4), ([[], [[[]]]], 4)],
)
def test_depth_counts_containers(value: object, expected: int) -> None:
    assert safe_json.depth(value) == expected


def test_other_faults_stay_the_json_modules_value_errors() -> None:
    with pytest.raises(json.JSONDecodeError):
        safe_json.loads("{")
    with pytest.raises(ValueError, match="digits"):
        safe_json.loads("1" * 5000)
    with pytest.raises(UnicodeDecodeError):
        safe_json.loads(b"\xff\xfe\xfd")


def test_a_document_like_a_jira_answer_is_parsed_as_json_would() -> None:
    text = json.dumps({"issues": [{"key": "A-1", "fields": {"description": {"content": []}}}]})

    assert safe_json.loads(text) == json.loads(text)
