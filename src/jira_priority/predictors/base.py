"""The small interface every prediction backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

#: One ranked alternative as the model gives it: (``__label__N``, probability).
LabelScore = tuple[str, float]


class Predictor(Protocol):
    """Ranks the six labels for already-normalised ticket texts.

    ``predict`` returns, for each text and in the same order, up to ``k``
    (label, probability) pairs, most probable first. Implementations raise the
    domain errors of ``jira_priority.errors``, never SDK exceptions.
    """

    backend: str

    @property
    def model_id(self) -> str:
        """The endpoint name or model identifier reported to clients."""
        ...

    def is_ready(self) -> bool:
        """Whether a prediction can be attempted now (cheap; no model call)."""
        ...

    def predict(self, texts: Sequence[str], k: int) -> list[list[LabelScore]]: ...
