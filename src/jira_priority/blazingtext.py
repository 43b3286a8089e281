"""BlazingText's JSON protocol: one codec for the endpoint and for batch transform.

Real-time (InvokeEndpoint, ``application/json``): the request is
``{"instances": [...], "configuration": {"k": k}}`` and the answer a list with
one ``{"label": [...], "prob": [...]}`` per instance. Batch transform
(``application/jsonlines``): one ``{"source": ..., "k": k}`` per input line and
one ``{"label": [...], "prob": [...]}`` per output line, in order. The same
checks apply to both answers; anything unexpected is a BadModelResponseError.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jira_priority.errors import BadModelResponseError
from jira_priority.predictors.base import LabelScore, checked_ranking

JSON = "application/json"
JSON_LINES = "application/jsonlines"


def encode_request(texts: Sequence[str], k: int) -> bytes:
    """The InvokeEndpoint body for already-normalised ``texts``."""
    return json.dumps({"instances": list(texts), "configuration": {"k": k}}).encode("utf-8")


def decode_answer(raw: bytes, expected: int, k: int) -> list[list[LabelScore]]:
    """The endpoint's answer as one ranking per text, best first."""
    try:
        answer: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadModelResponseError("The model's answer is not JSON.") from exc
    if not isinstance(answer, list) or len(answer) != expected:
        raise BadModelResponseError(
            f"The model answered {_describe(answer)} for {expected} ticket(s)."
        )
    return [decode_prediction(item, k) for item in answer]


def encode_batch(texts: Sequence[str], k: int) -> bytes:
    """Batch transform input: one already-normalised text per JSON line."""
    return "".join(json.dumps({"source": text, "k": k}) + "\n" for text in texts).encode("utf-8")


def decode_batch(raw: bytes, expected: int, k: int) -> list[list[LabelScore]]:
    """Batch transform output, one ranking per input line; the message names a bad line."""
    lines = [line for line in raw.decode("utf-8", errors="replace").splitlines() if line.strip()]
    if len(lines) != expected:
        raise BadModelResponseError(
            f"the job returned {len(lines)} prediction(s) for {expected} ticket(s)"
        )
    rankings = []
    for number, line in enumerate(lines, start=1):
        try:
            rankings.append(decode_prediction(json.loads(line), k))
        except (json.JSONDecodeError, BadModelResponseError) as exc:
            raise BadModelResponseError(
                f"output line {number} is not a BlazingText prediction: {exc}"
            ) from exc
    return rankings


def decode_prediction(item: Any, k: int) -> list[LabelScore]:
    """One ``{"label": [...], "prob": [...]}`` with 1..k pairs, best first."""
    if not isinstance(item, dict):
        raise BadModelResponseError("A model answer is not an object with label and prob.")
    labels, probs = item.get("label"), item.get("prob")
    if not isinstance(labels, list) or not isinstance(probs, list) or len(labels) != len(probs):
        raise BadModelResponseError("A model answer lacks matching label and prob lists.")
    if not labels or len(labels) > k:
        raise BadModelResponseError(f"A model answer has {len(labels)} labels; asked for {k}.")
    return checked_ranking(zip(labels, probs, strict=True))


def _describe(answer: Any) -> str:
    if isinstance(answer, list):
        return f"{len(answer)} result(s)"
    return f"a JSON {type(answer).__name__}"
