"""Fitting postprocessing.json, calibration measures, the balanced copy, compare's tables."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from training_jobs.evaluation.calibration import expected_calibration_error, reliability_bins
from training_jobs.modelling import postprocessing as fitting

from jira_priority.postprocessing import TopLabelMap

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


def step_miscalibrated(rows: int = 3000, seed: int = 0):
    """A model always answering Major whose answers are right 30 % of the time below a top
    probability of 0.7 and 95 % above: no temperature makes that calibrated."""
    rng = np.random.default_rng(seed)
    top = rng.uniform(0.4, 0.95, rows)
    probabilities = np.stack([top, (1 - top) * 0.6, (1 - top) * 0.4], axis=1)
    right = rng.uniform(size=rows) < np.where(top < 0.7, 0.3, 0.95)
    truth = np.where(right, 0, rng.choice([1, 2], size=rows, p=[0.6, 0.4]))
    return probabilities, [LABELS[t] for t in truth]


def answers_ece(postprocessing, probabilities, truth) -> float:
    answers = [
        postprocessing.apply(list(zip(LABELS, row.tolist(), strict=True)), k=1)
        for row in probabilities
    ]
    return expected_calibration_error(
        [a.calibrated_probability for a in answers],
        [a.ranking[0].label == t for a, t in zip(answers, truth, strict=True)],
    )


def test_the_top_label_map_calibrates_the_answer_where_temperature_cannot() -> None:
    probabilities, truth = step_miscalibrated()

    fitted = fitting.fit(probabilities, truth, LABELS, {MAJOR: 700, MINOR: 200, CRITICAL: 100})

    report = fitted.report
    assert report["ece_temperature"] > 0.08
    assert report["ece_after"] < report["ece_temperature"] - 0.08  # in-sample
    # On fresh tickets from the same model:
    fresh, fresh_truth = step_miscalibrated(seed=1)
    with_map = fitted.postprocessing
    without = replace(with_map, top_label_map=None)
    assert answers_ece(without, fresh, fresh_truth) > 0.08
    assert answers_ece(with_map, fresh, fresh_truth) < 0.03


def test_the_threshold_is_chosen_on_the_answers_calibrated_confidence() -> None:
    probabilities, truth = step_miscalibrated()

    pp = fitting.fit(
        probabilities, truth, LABELS, {MAJOR: 700, MINOR: 200, CRITICAL: 100}
    ).postprocessing

    answers = [pp.apply(list(zip(LABELS, row.tolist(), strict=True)), k=1) for row in probabilities]
    flagged = [a.ranking[0].label == t for a, t in zip(answers, truth, strict=True) if a.confident]
    assert pp.confidence is not None
    assert len(flagged) / len(answers) == pytest.approx(pp.confidence.coverage, abs=1e-4)
    assert sum(flagged) / len(flagged) == pytest.approx(pp.confidence.precision, abs=1e-4)
    # The lowest answer confidence flagged, after the map (which the file carries).
    assert pp.top_label_map is not None
    lowest = min(a.calibrated_probability or 0.0 for a in answers if a.confident)
    assert pp.confidence.threshold == round(lowest, 6)


def test_the_stored_map_answers_as_sklearns_isotonic_regression_predicts() -> None:
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(3)
    probability = rng.uniform(0.2, 0.9, 2000)
    correct = rng.uniform(size=2000) < probability**2

    stored = fitting.fit_top_label_map(probability.tolist(), correct.tolist())

    reference = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
    reference.fit(probability, correct.astype(float))
    # The file keeps sklearn's knots, to 6 digits ...
    assert stored.x == tuple(round(float(v), 6) for v in reference.X_thresholds_)
    assert stored.y == tuple(round(float(v), 6) for v in reference.y_thresholds_)
    # ... and serving applies knots as sklearn's predict does.
    exact = TopLabelMap(tuple(reference.X_thresholds_), tuple(reference.y_thresholds_))
    points = np.concatenate([np.linspace(0, 1, 501), probability])
    assert [exact(p) for p in points] == pytest.approx(reference.predict(points), abs=1e-12)


def test_a_map_with_too_many_knots_is_refitted_on_quantile_bins() -> None:
    # Every point its own block: the plain fit has 1000 knots.
    probability = np.linspace(0.1, 0.9, 1000)

    stored = fitting.fit_top_label_map(probability.tolist(), (probability > 0.5).tolist(), 40)

    assert len(stored.x) <= 40
    assert stored(0.2) == 0.0
    assert stored(0.8) == 1.0
    assert 0.2 < stored(0.5) < 0.8  # the bin straddling the step


def test_the_threshold_keeps_the_largest_coverage_at_the_target_precision() -> None:
    confidence = [0.9] * 40 + [0.6] * 40 + [0.3] * 40
    correct = [True] * 36 + [False] * 4 + [True] * 24 + [False] * 16 + [False] * 40

    chosen = fitting.choose_threshold(confidence, correct, target_precision=0.75)

    assert chosen.threshold == 0.6
    assert chosen.coverage == pytest.approx(80 / 120, abs=1e-4)
    assert chosen.precision == 0.75


def test_a_floor_keeps_unlikely_answers_out_of_a_precise_pool() -> None:
    # 0.6 and up reach 75 % together, but a 0.6 answer alone is under the target
    confidence = [0.9] * 40 + [0.6] * 40 + [0.3] * 40
    correct = [True] * 36 + [False] * 4 + [True] * 24 + [False] * 16 + [False] * 40

    chosen = fitting.choose_threshold(confidence, correct, target_precision=0.75, floor=0.75)

    assert chosen.threshold == 0.9
    assert chosen.coverage == pytest.approx(40 / 120, abs=1e-4)
    assert chosen.precision == 0.9


def test_fit_never_calls_an_answer_under_the_target_precision_confident() -> None:
    rng = np.random.default_rng(7)
    labels = ["__label__3", "__label__4"]
    # a model sure of Major (right 90 %) and unsure of Minor (right 30 %)
    rows, truth = [], []
    for _ in range(600):
        if rng.random() < 0.7:
            rows.append([0.1, 0.9])
            truth.append(labels[1] if rng.random() < 0.9 else labels[0])
        else:
            rows.append([0.55, 0.45])
            truth.append(labels[0] if rng.random() < 0.3 else labels[1])
    fitted = fitting.fit(np.array(rows), truth, labels, {labels[0]: 300, labels[1]: 700}, 0.7)

    confidence = fitted.postprocessing.confidence
    assert confidence is not None
    assert confidence.threshold >= 0.7


def test_no_threshold_reaching_the_target_means_never_confident() -> None:
    chosen = fitting.choose_threshold([0.9] * 50, [False] * 50, target_precision=0.7)

    assert (chosen.threshold, chosen.coverage) == (None, 0.0)
    assert not chosen.reached(1.0)


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
    assert "| A | 10 | 0.210 | n/a | 0.050 | n/a / n/a | n/a / n/a | n/a / n/a |" in table
    assert "| B | 10 | 0.310 | n/a | 0.050 | n/a / n/a | n/a / n/a | n/a / n/a |" in table


def test_the_commands_target_precision_default_is_the_fittings() -> None:
    from training_jobs.cli.options import DEFAULT_TARGET_PRECISION

    assert DEFAULT_TARGET_PRECISION == fitting.DEFAULT_TARGET_PRECISION
