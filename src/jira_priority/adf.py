"""Jira Cloud's rich text (Atlassian Document Format) as plain text.

Used by the request models (a webhook's description), by the readers of
fetched or exported issues, and by ``fetch``: one walker, without pydantic,
so the command line's readers need not import the request models.
"""

from __future__ import annotations

from typing import Any


def adf_text(document: dict[str, Any]) -> str:
    """Plain text of an Atlassian Document Format tree (Jira Cloud's rich text), in order.

    Walked with an explicit stack: the edge already caps JSON nesting, and this
    never recurses whatever it is given.
    """
    words: list[str] = []
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(reversed(node))
        elif isinstance(node, dict):
            if isinstance(node.get("text"), str):
                words.append(node["text"])
            if isinstance(node.get("content"), list):
                pending.extend(reversed(node["content"]))
    return " ".join(words)
