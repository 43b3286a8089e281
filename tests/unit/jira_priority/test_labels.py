from __future__ import annotations

import pytest

from jira_priority.labels import (
    LABELS,
    Priority,
    UnknownLabelError,
    priority_from_label,
    priority_from_name,
)


def test_label_order_is_the_tutorials() -> None:
    assert [(p.label, p.value) for p in Priority] == [
        ("__label__1", "Optional"),
        ("__label__2", "Trivial"),
        ("__label__3", "Minor"),
        ("__label__4", "Major"),
        ("__label__5", "Critical"),
        ("__label__6", "Blocker"),
    ]
    assert tuple(f"__label__{n}" for n in range(1, 7)) == LABELS


def test_round_trip() -> None:
    for priority in Priority:
        assert priority_from_label(priority.label) is priority
        assert priority_from_name(f"  {priority.value.upper()} ") is priority


@pytest.mark.parametrize("label", ["__label__0", "__label__7", "Major", "", "__label__4 "])
def test_unknown_labels_are_refused(label: str) -> None:
    with pytest.raises(UnknownLabelError):
        priority_from_label(label)


@pytest.mark.parametrize("name", ["Highest", "P1", "", "none"])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(UnknownLabelError):
        priority_from_name(name)
