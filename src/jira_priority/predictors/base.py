"""The small interface every prediction backend implements."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Protocol, runtime_checkable

from jira_priority.errors import BadModelResponseError
from jira_priority.labels import DEFAULT_SCHEME, PriorityScheme
from jira_priority.postprocessing import PostProcessing

#: One ranked alternative as the model gives it: (``__label__N``, probability).
LabelScore = tuple[str, float]


class Predictor(Protocol):
    """Ranks the labels of a priority scheme for already-normalised ticket texts.

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

    def postprocessing(self) -> PostProcessing | None:
        """The model's fitted post-processing (postprocessing.json), None if it has none."""
        ...


@runtime_checkable
class KnowsScheme(Protocol):
    """A predictor that can say which priority scheme its model's labels belong to."""

    def scheme(self) -> PriorityScheme: ...


def scheme_of(predictor: Predictor) -> PriorityScheme:
    """The predictor's priority scheme; one that cannot say answers in the default (apache)."""
    return predictor.scheme() if isinstance(predictor, KnowsScheme) else DEFAULT_SCHEME


def checked_ranking(pairs: Iterable[tuple[object, object]]) -> list[LabelScore]:
    """A model's (label, probability) pairs, checked and sorted best first.

    Shared by every backend so that a malformed answer is refused the same way
    (BadModelResponseError); whether a label is one of the six is decided where
    labels become priorities, in the classifier.
    """
    ranking: list[LabelScore] = []
    for label, probability in pairs:
        if not isinstance(label, str):
            raise BadModelResponseError("A model label is not a string.")
        # float first: every backend answers floats, and an ABC check costs ~1 us a pair
        if type(probability) is not float and (
            isinstance(probability, bool) or not isinstance(probability, Real)
        ):
            raise BadModelResponseError("A model probability is not a number.")
        value = float(probability)
        # fastText adds 1e-5 before its softmax, so 1.00001 occurs; nothing else may.
        if not math.isfinite(value) or not -1e-4 <= value <= 1 + 1e-4:
            raise BadModelResponseError("A model probability is outside [0, 1].")
        ranking.append((label, min(max(value, 0.0), 1.0)))
    return sorted(ranking, key=lambda pair: pair[1], reverse=True)
