"""Threshold table: coverage and precision of answers whose top probability reaches a cut-off."""

from __future__ import annotations

import math
from typing import Any

import pytest
from training_jobs.data.readers import PreparedExample
from training_jobs.modelling.train_local import THRESHOLDS, threshold_figures

from jira_priority.postprocessing import PostProcessing, TopLabelMap


class ScriptedModel:
    def __init__(self, answers: list[tuple[str, float]]) -> None:
        self.answers = answers

    def predict(self, texts: list[str], k: int) -> tuple[list[Any], list[Any]]:
        assert k == 1
        return [[label] for label, _ in self.answers], [[p] for _, p in self.answers]


def test_coverage_and_precision_by_hand() -> None:
    # Four tickets: right at 0.97, wrong at 0.91, right at 0.65, wrong at 0.3.
    truth = ["__label__4", "__label__5", "__label__3", "__label__4"]
    model = ScriptedModel(
        [("__label__4", 0.97), ("__label__4", 0.91), ("__label__3", 0.65), ("__label__2", 0.3)]
    )
    validation = [PreparedExample(label, "words", n) for n, label in enumerate(truth)]

    figures = {row["threshold"]: row for row in threshold_figures(model, validation)}

    assert tuple(figures) == THRESHOLDS
    assert figures[0.5] == {
        "threshold": 0.5, "tickets": 3, "coverage": 0.75, "precision": pytest.approx(2 / 3),
        "by_priority": {"Minor": {"tickets": 1, "precision": 1.0},
                        "Major": {"tickets": 2, "precision": 0.5}},
    }  # fmt: skip
    assert figures[0.7]["tickets"] == 2
    assert figures[0.7]["precision"] == 0.5
    assert figures[0.95] == {
        "threshold": 0.95, "tickets": 1, "coverage": 0.25, "precision": 1.0,
        "by_priority": {"Major": {"tickets": 1, "precision": 1.0}},
    }  # fmt: skip


def test_no_ticket_above_a_threshold_has_no_precision() -> None:
    model = ScriptedModel([("__label__4", 0.4)])

    figures = threshold_figures(model, [PreparedExample("__label__4", "words", 1)])

    assert figures[-1] == {
        "threshold": 0.95, "tickets": 0, "coverage": 0.0, "precision": None, "by_priority": {}
    }  # fmt: skip


class AllLabelsModel:
    """Answers every label (what probability_matrix asks for), per text."""

    def __init__(self, answers: dict[str, dict[str, float]]) -> None:
        self.answers = answers

    def predict(self, text: str, k: int) -> tuple[list[str], list[float]]:
        assert k == -1
        pairs = self.answers[text]
        return list(pairs), list(pairs.values())


def test_with_post_processing_the_figures_are_the_services_answers() -> None:
    # Prior correction (Major's share 0.9, Critical's 0.1, weight 1) turns ticket "a" from
    # Major (0.6) into Critical (calibrated 0.4, right); "b" stays Major (0.95, right).
    model = AllLabelsModel(
        {
            "a": {"__label__4": 0.6, "__label__5": 0.4},
            "b": {"__label__4": 0.95, "__label__5": 0.05},
        }
    )
    postprocessing = PostProcessing(
        ("__label__4", "__label__5"), (math.log(0.9), math.log(0.1)), 1.0, 1.0
    )
    validation = [PreparedExample("__label__5", "a", 1), PreparedExample("__label__4", "b", 2)]

    figures = {
        row["threshold"]: row
        for row in threshold_figures(model, validation, postprocessing=postprocessing)
    }

    assert figures[0.5] == {
        "threshold": 0.5, "tickets": 1, "coverage": 0.5, "precision": 1.0,
        "by_priority": {"Major": {"tickets": 1, "precision": 1.0}},
    }  # fmt: skip


def test_with_a_top_label_map_the_figures_use_the_answers_calibrated_confidence() -> None:
    # "b" is Major at 0.95 (cleared 0.9 before the map); the map says such answers are
    # right 60 % of the time, so it counts at 0.5 and no longer at 0.9.
    model = AllLabelsModel({"b": {"__label__4": 0.95, "__label__5": 0.05}})
    postprocessing = PostProcessing(
        ("__label__4", "__label__5"),
        (math.log(0.9), math.log(0.1)),
        0.0,
        1.0,
        top_label_map=TopLabelMap((0.0, 1.0), (0.6, 0.6)),
    )
    validation = [PreparedExample("__label__4", "b", 1)]

    figures = {
        row["threshold"]: row["tickets"]
        for row in threshold_figures(model, validation, postprocessing=postprocessing)
    }

    assert (figures[0.5], figures[0.6], figures[0.7], figures[0.9]) == (1, 1, 0, 0)
