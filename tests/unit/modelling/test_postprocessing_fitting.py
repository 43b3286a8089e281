"""Fitting postprocessing.json, calibration measures, the balanced copy, compare's tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from training_jobs.evaluation.calibration import expected_calibration_error, reliability_bins
from training_jobs.modelling import postprocessing as fitting

MAJOR, MINOR, CRITICAL = "__label__4", "__label__3", "__label__5"
LABELS = (MAJOR, MINOR, CRITICAL)
#: Major is 70 % of the training data, Minor 20 %, Critical 10 %.
LOG_PRIOR = (math.log(0.7), math.log(0.2), math.log(0.1))


def synthetic_calibration(rows: int = 3000, seed: int = 0):
    """An over-confident model biased to Major: its true classes follow a known mix."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, size=rows, p=[0.7, 0.2, 0.1])
    logits = rng.normal(0, 1, size=(rows, 3)) + np.eye(3)[truth] * 1.2
    logits[:, 0] += 1.0  # prefers Major
    probabilities = np.exp(3 * logits) / np.exp(3 * logits).sum(axis=1, keepdims=True)
    return probabilities, [LABELS[t] for t in truth]


def test_fitting_corrects_the_prior_and_calibrates() -> None:
    probabilities, truth = synthetic_calibration()
    counts = {MAJOR: 700, MINOR: 200, CRITICAL: 100}

    fitted = fitting.fit(probabilities, truth, LABELS, counts, target_precision=0.8)

    pp = fitted.postprocessing
    assert pp.prior_weight > 0
    assert pp.temperature > 1.5  # the synthetic model is over-confident by 3x
    assert fitted.report["macro_f1_after"] > fitted.report["macro_f1_before"]
    assert fitted.report["ece_after"] < fitted.report["ece_before"]
    assert pp.confidence is not None
    assert pp.confidence.precision >= 0.8


def test_the_threshold_keeps_the_largest_coverage_at_the_target_precision() -> None:
    confidence = [0.9] * 40 + [0.6] * 40 + [0.3] * 40
    correct = [True] * 36 + [False] * 4 + [True] * 24 + [False] * 16 + [False] * 40

    chosen = fitting.choose_threshold(confidence, correct, target_precision=0.75)

    assert chosen.threshold == 0.6
    assert chosen.coverage == pytest.approx(80 / 120, abs=1e-4)
    assert chosen.precision == 0.75


def test_no_threshold_reaching_the_target_means_never_confident() -> None:
    chosen = fitting.choose_threshold([0.9] * 50, [False] * 50, target_precision=0.7)

    assert (chosen.threshold, chosen.coverage) == (1.0, 0.0)


def test_ece_and_reliability_bins() -> None:
    confidence = [0.95] * 10 + [0.55] * 10
    correct = [True] * 5 + [False] * 5 + [True] * 5 + [False] * 5

    bins = reliability_bins(confidence, correct)

    assert [(b.count, b.accuracy) for b in bins] == [(10, 0.5), (10, 0.5)]
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.25)
    assert expected_calibration_error([], []) == 0.0


def test_the_balanced_copy_gives_every_priority_the_largest_count() -> None:
    from training_jobs.data.readers import PreparedExample
    from training_jobs.modelling.balanced import class_balanced

    examples = [PreparedExample(MAJOR, f"m{i}", i) for i in range(7)]
    examples += [PreparedExample(MINOR, f"n{i}", i) for i in range(3)]

    balanced = class_balanced(examples, seed=1)

    texts = [e.text for e in balanced if e.label == MINOR]
    assert len(texts) == 7
    assert sorted(set(texts)) == ["n0", "n1", "n2"]
    assert max(texts.count(t) for t in texts) - min(texts.count(t) for t in texts) <= 1
    assert sorted(e.text for e in balanced if e.label == MAJOR) == [f"m{i}" for i in range(7)]


def test_compare_summarises_seeds_then_folds_and_tables_each_project() -> None:
    from training_jobs.evaluation.comparison import Run, per_project_table, summarise

    def run(recipe: str, evaluation: str, seed: int, f1: float) -> Run:
        return Run(recipe, evaluation, seed, 10, f1, 0.3, 0.6, 0.1, 0.2, 0.05, None, None, 5, 1.0)

    runs = [
        run("best", "within", 1, 0.34), run("best", "within", 2, 0.36),
        run("best", "lopo:A", 1, 0.20), run("best", "lopo:B", 1, 0.30),
        run("best", "lopo:A", 2, 0.22), run("best", "lopo:B", 2, 0.32),
    ]  # fmt: skip

    summary = summarise(runs)["best"]

    assert summary["within"]["macro_f1"] == pytest.approx(0.35)
    assert summary["within"]["macro_f1_seed_range"] == pytest.approx([0.34, 0.36])
    assert summary["lopo"]["macro_f1"] == pytest.approx(0.26)  # seeds 0.25 and 0.27
    table = per_project_table([r.as_dict() for r in runs], ["best"])
    assert "| A | 10 | 0.210 | 0.050 |" in table
    assert "| B | 10 | 0.310 | 0.050 |" in table


def test_the_commands_target_precision_default_is_the_fittings() -> None:
    from training_jobs.cli.options import DEFAULT_TARGET_PRECISION

    assert DEFAULT_TARGET_PRECISION == fitting.DEFAULT_TARGET_PRECISION
