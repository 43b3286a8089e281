"""JSON from outside (a request, a server's answer, a file), parsed with its nesting bounded.

``json.loads`` recurses once per level: 100,000 ``[`` raise RecursionError, which
is not a ValueError and so escapes every ``except ValueError`` around a parse.
``loads`` turns that into ``JSONDepthError`` (a ValueError), and refuses a value
nested deeper than ``max_depth`` even when the parser coped, since whoever
walks it next (pydantic, ``json.dumps``, ``repr``) may recurse too. The depth is
measured without recursion. Every caller that parses outside JSON uses this.
"""

from __future__ import annotations

import json
from typing import Any

#: Deeper than any document the project reads (a Jira answer with rich text
#: nests a few dozen levels), far below where any parser or walker recurses out.
DEFAULT_MAX_DEPTH = 512


class JSONDepthError(ValueError):
    """The JSON is nested deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested more than {max_depth} levels deep")
        self.max_depth = max_depth


def loads(data: str | bytes | bytearray, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """``json.loads(data)``, or JSONDepthError past ``max_depth`` levels; other faults: ValueError.

    (Malformed JSON raises json.JSONDecodeError, undecodable bytes UnicodeDecodeError,
    an integer of more than sys.get_int_max_str_digits() digits a plain ValueError.)
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise JSONDepthError(max_depth) from None
    if depth(value, max_depth) > max_depth:
        raise JSONDepthError(max_depth)
    return value


def depth(value: object, limit: int = DEFAULT_MAX_DEPTH) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), walked without recursion.

    The walk stops once it is past ``limit``: the answer is then some depth above it.
    """
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending and deepest <= limit:
        item, level = pending.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in item)
    return deepest
