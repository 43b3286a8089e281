"""The triage answer's promises: per-action thresholds, projects that count, urgency,
cross-fitting by project and the thinning of the default priority."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from training_jobs.data.prepare import Example
from training_jobs.evaluation.calibration import expected_calibration_error
from training_jobs.evaluation.comparison import older_and_newer
from training_jobs.modelling import crossfit, sampling
from training_jobs.modelling import postprocessing as fitting

from jira_priority.postprocessing import PostProcessing

TRIVIAL, MINOR, MAJOR, CRITICAL, BLOCKER = (f"__label__{n}" for n in range(2, 7))
LABELS = (MAJOR, MINOR, CRITICAL, TRIVIAL, BLOCKER)


def triage_rows(rows: int = 4000, seed: int = 0, projects: int = 4):
    """A model whose Major answers are mostly right and whose others are often wrong:
    the set promise cannot be kept, the keep promise can (on the sure Major answers)."""
    rng = np.random.default_rng(seed)
    mix = [0.69, 0.15, 0.08, 0.03, 0.05]  # in LABELS order
    truth = rng.choice(5, size=rows, p=mix)
    logits = rng.normal(0, 1, size=(rows, 5)) + np.eye(5)[truth] * 1.0
    logits[:, 0] += 1.2
    probabilities = np.exp(2 * logits) / np.exp(2 * logits).sum(axis=1, keepdims=True)
    groups = [f"P{i % projects}" for i in range(rows)]
    return probabilities, [LABELS[t] for t in truth], groups


COUNTS = {MAJOR: 690, MINOR: 150, CRITICAL: 80, TRIVIAL: 30, BLOCKER: 50}


def answers(pp: PostProcessing, probabilities: np.ndarray) -> list[Any]:
    return [pp.apply(list(zip(LABELS, row.tolist(), strict=True)), k=1) for row in probabilities]


def test_fit_with_a_default_makes_a_promise_per_action_and_the_answers_say_what_to_do() -> None:
    probabilities, truth, _ = triage_rows()

    fitted = fitting.fit(probabilities, truth, LABELS, COUNTS, 0.7, default_label=MAJOR)

    pp = fitted.postprocessing
    assert pp.default_label == MAJOR
    assert pp.promises is not None
    assert pp.urgency_map is not None
    given = answers(pp, probabilities)
    for answer in given:
        top = answer.ranking[0].label
        if answer.confident:
            assert answer.action == ("keep" if top == MAJOR else "set")
        else:
            assert answer.action == "triage"
    # each promise holds on its own answers where it is made
    for kind in ("keep", "set"):
        flagged = [(a, t) for a, t in zip(given, truth, strict=True) if a.action == kind]
        if flagged:
            assert sum(a.ranking[0].label == t for a, t in flagged) / len(flagged) >= 0.7
    report = fitted.report
    assert report["promise_keep"]["made"] is (pp.promises.keep.threshold is not None)
    assert report["promise_set"]["coverage"] == pp.promises.set.coverage


def test_a_set_promise_no_threshold_keeps_is_not_made_and_never_confident() -> None:
    probabilities, truth, _ = triage_rows()
    # every non-Major answer is wrong: no threshold gives 70 % on them
    chosen = fitting.fit(probabilities, truth, LABELS, COUNTS, 0.7, default_label=MAJOR)
    wrong = [MAJOR if t != MAJOR else MINOR for t in truth]
    spoiled = [
        t if a.ranking[0].label == MAJOR else w
        for a, t, w in zip(answers(chosen.postprocessing, probabilities), truth, wrong, strict=True)
    ]

    fitted = fitting.fit(probabilities, spoiled, LABELS, COUNTS, 0.7, default_label=MAJOR)

    assert fitted.postprocessing.promises is not None
    assert fitted.postprocessing.promises.set.threshold is None
    assert fitted.report["promise_set"]["made"] is False
    given = answers(fitted.postprocessing, probabilities)
    assert "set" not in {a.action for a in given}
    text = PostProcessing.from_json(fitted.postprocessing.to_json())
    assert text == fitted.postprocessing  # "not made" survives the file


def test_a_project_where_the_promise_fails_blocks_the_threshold() -> None:
    # 200 sure answers: project A right 90 %, project B (a real share of it) right 50 %
    confidence = [0.95] * 100 + [0.9] * 100
    correct = [i % 10 != 0 for i in range(100)] + [i % 2 == 0 for i in range(100)]
    groups = ["A"] * 100 + ["B"] * 100

    pooled = fitting.choose_threshold(confidence, correct, 0.7)
    by_project = fitting.choose_threshold(confidence, correct, 0.7, groups=groups)

    assert pooled.threshold == 0.9  # 70 % pooled
    assert by_project.threshold == 0.95  # B counts and misses: only A's sure answers remain
    assert by_project.precision == pytest.approx(0.9)


def test_a_project_with_too_few_flagged_answers_does_not_count() -> None:
    confidence = [0.95] * 100 + [0.9] * 10
    correct = [True] * 75 + [False] * 25 + [False] * 10
    groups = ["A"] * 100 + ["B"] * 10  # B: 10 flagged, under MIN_PROJECT_FLAGGED

    chosen = fitting.choose_threshold(confidence, correct, 0.6, groups=groups)

    assert chosen.threshold == 0.9


def test_the_urgency_map_is_calibrated_and_ranks_urgent_tickets_first() -> None:
    probabilities, truth, _ = triage_rows(rows=6000)
    fitted = fitting.fit(probabilities, truth, LABELS, COUNTS, 0.7, default_label=MAJOR)
    fresh, fresh_truth, _ = triage_rows(rows=6000, seed=1)

    urgency = [a.urgency for a in answers(fitted.postprocessing, fresh)]
    urgent = [t in (CRITICAL, BLOCKER) for t in fresh_truth]

    assert expected_calibration_error(urgency, urgent) < 0.03
    assert np.mean([u for u, x in zip(urgency, urgent, strict=True) if x]) > np.mean(
        [u for u, x in zip(urgency, urgent, strict=True) if not x]
    )
    assert fitted.report["urgency"]["ece_after"] <= fitted.report["urgency"]["ece_before"]


def test_without_a_default_the_fit_keeps_one_threshold_and_format_2() -> None:
    probabilities, truth, _ = triage_rows()

    pp = fitting.fit(probabilities, truth, LABELS, COUNTS, 0.7).postprocessing

    assert pp.promises is None
    assert pp.confidence is not None
    assert json.loads(pp.to_json())["format"] == 2
    assert {a.action for a in answers(pp, probabilities)} == {None}


def test_cross_fitting_answers_every_line_with_a_model_that_never_saw_its_project() -> None:
    lines = [crossfit.Line(MAJOR, f"ticket {i}", f"P{i % 7}") for i in range(70)]
    seen_by: list[set[str]] = []

    class Recorder:
        def __init__(self, projects: set[str]) -> None:
            self.projects = projects

        def predict(self, text: str, k: int) -> tuple[list[str], list[float]]:
            project = f"P{int(text.split()[1]) % 7}"
            assert project not in self.projects  # the model never trained on this project
            return [MAJOR], [1.0]

    def train(rows: Sequence[crossfit.Line]) -> Recorder:
        projects = {row.project for row in rows}
        seen_by.append(projects)
        return Recorder(projects)

    result = crossfit.cross_fit(lines, [MAJOR], train, folds=5)

    assert result.folds == 5
    assert result.projects == 7
    assert len(seen_by) == 5
    assert result.probabilities.shape == (70, 1)
    assert (result.probabilities == 1.0).all()
    assert result.describe()["method"] == "cross-fitted"


def test_one_project_cannot_be_cross_fitted() -> None:
    lines = [crossfit.Line(MAJOR, "x", "ONLY")] * 10

    assert not crossfit.can_cross_fit(lines)
    with pytest.raises(ValueError, match="two named projects"):
        crossfit.cross_fit(lines, [MAJOR], lambda rows: None)


def test_thinning_keeps_a_seeded_share_of_the_default_and_every_other_line() -> None:
    lines = [crossfit.Line(MAJOR, f"m{i}", "P") for i in range(1000)]
    lines += [crossfit.Line(CRITICAL, f"c{i}", "P") for i in range(50)]

    kept = sampling.thin_default(lines, MAJOR, 0.3, seed=4)

    counts = Counter(line.label for line in kept)
    assert counts[CRITICAL] == 50
    assert 250 <= counts[MAJOR] <= 350
    assert kept == sampling.thin_default(lines, MAJOR, 0.3, seed=4)
    assert sampling.thin_default(lines, MAJOR, 1.0, seed=4) == lines
    assert sampling.thin_default(lines, None, 0.3, seed=4) == lines


def test_a_projects_halves_follow_the_key_numbers() -> None:
    tickets = [Example(MAJOR, "t", "HIVE", f"HIVE-{n}") for n in (30, 4, 100, 7)]

    older, newer = older_and_newer(tickets)

    assert [e.key for e in older] == ["HIVE-4", "HIVE-7"]
    assert [e.key for e in newer] == ["HIVE-30", "HIVE-100"]


def test_format_3_round_trips_and_refuses_an_urgency_map_of_the_wrong_size() -> None:
    probabilities, truth, _ = triage_rows()
    pp = fitting.fit(probabilities, truth, LABELS, COUNTS, 0.7, default_label=MAJOR).postprocessing
    data = json.loads(pp.to_json())

    assert data["format"] == 3
    assert data["default_label"] == MAJOR
    assert set(data["confidence"]) == {"keep", "set"}
    assert PostProcessing.from_json(pp.to_json()) == pp
    data["urgency_map"]["weights"] = data["urgency_map"]["weights"][:-1]
    with pytest.raises(ValueError, match="one weight per label"):
        PostProcessing.from_json(json.dumps(data))


def test_a_400_digit_number_is_a_postprocessing_error_not_an_overflow() -> None:
    probabilities, truth, _ = triage_rows()
    data = json.loads(fitting.fit(probabilities, truth, LABELS, COUNTS).postprocessing.to_json())
    raw = json.dumps(data).replace('"temperature": ', '"temperature": ' + "9" * 400 + ', "x": ', 1)

    with pytest.raises(ValueError, match="lacks a field or has a wrong type"):
        PostProcessing.from_json(raw)
    assert math.isfinite(data["temperature"])
