"""Outside text (priority, project and account names, paths) as literal Markdown text."""

from __future__ import annotations

import re
import unicodedata

#: Characters Markdown (GitHub's included: tables, strikethrough, math) reads as syntax.
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]<>()#+!|&~$])")
_SPACES = frozenset({"\t", "\n", "\r", "\v", "\f", "\u2028", "\u2029", "\x85"})


def markdown_text(value: object) -> str:
    """``value`` as literal text in Markdown: on one line, syntax escaped, controls dropped,
    so that it cannot end a table cell, start a heading, or become HTML."""
    plain = "".join(
        " " if char in _SPACES else char
        for char in str(value)
        if char in _SPACES or not unicodedata.category(char).startswith("C")
    )
    return _MARKDOWN_SYNTAX.sub(r"\\\1", plain)


def percent(value: float | None) -> str:
    """A share as ``12.5%``, or ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:.1%}"
