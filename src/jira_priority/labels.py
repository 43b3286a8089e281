"""The one map between Jira priorities and BlazingText labels.

The order is the original tutorial's: ``__label__1`` is the least urgent
priority and ``__label__6`` the most, so label numbers are also ordinal ranks.
Training, serving and evaluation all import this module; nothing else spells
out a label.
"""

from __future__ import annotations

from enum import StrEnum

LABEL_PREFIX = "__label__"


class Priority(StrEnum):
    OPTIONAL = "Optional"
    TRIVIAL = "Trivial"
    MINOR = "Minor"
    MAJOR = "Major"
    CRITICAL = "Critical"
    BLOCKER = "Blocker"

    @property
    def rank(self) -> int:
        """1 for Optional up to 6 for Blocker (the label number)."""
        return PRIORITIES.index(self) + 1

    @property
    def label(self) -> str:
        return f"{LABEL_PREFIX}{self.rank}"


PRIORITIES: tuple[Priority, ...] = tuple(Priority)
LABELS: tuple[str, ...] = tuple(p.label for p in PRIORITIES)

_BY_LABEL = {p.label: p for p in PRIORITIES}
_BY_NAME = {p.value.casefold(): p for p in PRIORITIES}


class UnknownLabelError(ValueError):
    """A label or priority name outside the six known ones."""


def priority_from_label(label: str) -> Priority:
    """``__label__4`` -> ``Priority.MAJOR``; raises UnknownLabelError otherwise."""
    try:
        return _BY_LABEL[label]
    except KeyError:
        raise UnknownLabelError(f"unknown label {label!r}") from None


def priority_from_name(name: str) -> Priority:
    """Case-insensitive priority name (``"major"``, ``" Major "``) -> Priority."""
    try:
        return _BY_NAME[name.strip().casefold()]
    except KeyError:
        raise UnknownLabelError(f"unknown priority {name!r}") from None
