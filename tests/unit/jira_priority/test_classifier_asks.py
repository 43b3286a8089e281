"""How many labels the classifier asks a backend for: all, only for post-processing."""

from __future__ import annotations

import math

import pytest

from jira_priority.classifier import PriorityClassifier
from jira_priority.labels import DEFAULT_SCHEME
from jira_priority.postprocessing import PostProcessing
from jira_priority.schemas import Ticket

LABELS = tuple(f"__label__{n}" for n in range(1, 7))


class RecordingPredictor:
    backend, model_id = "test", "m"

    def __init__(self, postprocessing: PostProcessing | None) -> None:
        self._postprocessing = postprocessing
        self.asked: list[int] = []

    def is_ready(self) -> bool:
        return True

    def postprocessing(self) -> PostProcessing | None:
        return self._postprocessing

    def predict(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
        self.asked.append(k)
        return [[(label, 1 / 6) for label in LABELS[:k]] for _ in texts]


@pytest.mark.parametrize("k", [1, 3, 6])
def test_without_post_processing_the_clients_k_is_asked(k: int) -> None:
    predictor = RecordingPredictor(None)
    answers = PriorityClassifier(predictor, 5).classify([Ticket(title="disk full")], k=k)
    assert predictor.asked == [k]
    assert len(answers[0].ranking) == k


@pytest.mark.parametrize("k", [1, 3])
def test_post_processing_is_given_every_label_of_the_scheme(k: int) -> None:
    postprocessing = PostProcessing(
        labels=LABELS, log_prior=(math.log(1 / 6),) * 6, prior_weight=0.5, temperature=1.0
    )
    predictor = RecordingPredictor(postprocessing)
    answers = PriorityClassifier(predictor, 5).classify([Ticket(title="disk full")], k=k)
    assert predictor.asked == [len(DEFAULT_SCHEME)]
    assert len(answers[0].ranking) == k
