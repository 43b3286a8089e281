"""Every metric on small cases worked out by hand (the working is in the comments)."""

from __future__ import annotations

import json
import math

import pytest
from training_jobs.evaluation.metrics import (
    HEADLINE_METRICS,
    compute_metrics,
    confusion_matrix,
    majority_baseline,
    majority_ranking,
)

from jira_priority.labels import Priority

OPT, TRI, MIN, MAJ, CRI, BLO = (
    Priority.OPTIONAL,
    Priority.TRIVIAL,
    Priority.MINOR,
    Priority.MAJOR,
    Priority.CRITICAL,
    Priority.BLOCKER,
)

# Five tickets. True:      Major Major Major    Minor   Blocker
#               Predicted: Major Minor Major    Minor   Major
#               Runner-up: Minor Major Critical Trivial Critical
TRUE = [MAJ, MAJ, MAJ, MIN, BLO]
RANKINGS = [(MAJ, MIN), (MIN, MAJ), (MAJ, CRI), (MIN, TRI), (MAJ, CRI)]


def by_priority(metrics, priority):
    return next(c for c in metrics.per_class if c.priority is priority)


def test_confusion_matrix_rows_are_true_columns_predicted_in_rank_order():
    matrix = confusion_matrix(TRUE, [r[0] for r in RANKINGS])

    expected = [[0] * 6 for _ in range(6)]
    expected[3][3] = 2  # Major -> Major
    expected[3][2] = 1  # Major -> Minor
    expected[2][2] = 1  # Minor -> Minor
    expected[5][3] = 1  # Blocker -> Major
    assert matrix.tolist() == expected


def test_accuracy_counts_top1_hits():
    # 3 of 5 first choices are right.
    assert compute_metrics(TRUE, RANKINGS).accuracy == pytest.approx(3 / 5)


def test_top2_accuracy_counts_the_true_class_in_the_first_two():
    # Tickets 1-4 have the truth in their first two; the Blocker ticket does not.
    assert compute_metrics(TRUE, RANKINGS).top2_accuracy == pytest.approx(4 / 5)


def test_per_class_precision_recall_f1_and_support():
    metrics = compute_metrics(TRUE, RANKINGS)

    major = by_priority(metrics, MAJ)  # TP 2, predicted 3, support 3
    assert (major.support, major.predicted, major.true_positives) == (3, 3, 2)
    assert major.precision == pytest.approx(2 / 3)
    assert major.recall == pytest.approx(2 / 3)
    assert major.f1 == pytest.approx(2 / 3)

    minor = by_priority(metrics, MIN)  # TP 1, predicted 2, support 1
    assert minor.precision == pytest.approx(1 / 2)
    assert minor.recall == pytest.approx(1.0)
    assert minor.f1 == pytest.approx(2 * 1 / (2 * 1 + 1 + 0))


def test_class_present_but_never_predicted_has_no_precision_and_zero_recall_and_f1():
    blocker = by_priority(compute_metrics(TRUE, RANKINGS), BLO)

    assert (blocker.support, blocker.predicted) == (1, 0)
    assert blocker.precision is None
    assert blocker.recall == 0.0
    assert blocker.f1 == 0.0


@pytest.mark.parametrize("absent", [OPT, TRI, CRI])
def test_class_absent_from_data_and_predictions_is_undefined_not_zero(absent):
    # Trivial and Critical appear as runner-ups only: that does not make them predicted.
    cls = by_priority(compute_metrics(TRUE, RANKINGS), absent)

    assert (cls.support, cls.predicted) == (0, 0)
    assert (cls.precision, cls.recall, cls.f1) == (None, None, None)


def test_macro_averages_cover_only_the_classes_present_in_the_data():
    metrics = compute_metrics(TRUE, RANKINGS)

    # Present: Major, Minor, Blocker. Recalls 2/3, 1, 0; F1 2/3, 2/3, 0.
    assert metrics.balanced_accuracy == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert metrics.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_weighted_f1_weights_each_class_by_support():
    # (3 x 2/3 + 1 x 2/3 + 1 x 0) / 5
    assert compute_metrics(TRUE, RANKINGS).weighted_f1 == pytest.approx(8 / 15)


def test_ordinal_figures_use_rank_distance():
    metrics = compute_metrics(TRUE, RANKINGS)

    # Distances |pred - true|: 0, 1 (Major->Minor), 0, 0, 2 (Blocker->Major).
    assert metrics.mean_absolute_error == pytest.approx(3 / 5)
    assert metrics.within_one_accuracy == pytest.approx(4 / 5)


def test_a_predicted_class_absent_from_the_data_has_precision_but_no_recall():
    # Minor, Minor predicted as Minor, Blocker.
    metrics = compute_metrics([MIN, MIN], [(MIN,), (BLO,)])

    blocker = by_priority(metrics, BLO)
    assert (blocker.support, blocker.predicted, blocker.precision) == (0, 1, 0.0)
    assert blocker.recall is None
    assert blocker.f1 is None
    # Only Minor is present: P 1, R 1/2, F1 2/3; Blocker adds nothing to the averages.
    assert metrics.macro_f1 == pytest.approx(2 / 3)
    assert metrics.balanced_accuracy == pytest.approx(1 / 2)
    assert metrics.weighted_f1 == pytest.approx(2 / 3)
    assert metrics.mean_absolute_error == pytest.approx(3 / 2)  # 0 and |6 - 3|
    assert metrics.within_one_accuracy == pytest.approx(1 / 2)


def test_a_predictor_that_only_ever_answers_one_class():
    # True Major, Minor, Critical, Critical; always "Critical".
    metrics = compute_metrics([MAJ, MIN, CRI, CRI], [(CRI,)] * 4)

    critical = by_priority(metrics, CRI)
    assert critical.precision == pytest.approx(2 / 4)
    assert critical.recall == pytest.approx(1.0)
    assert critical.f1 == pytest.approx(2 * 2 / (2 * 2 + 2 + 0))
    for other in (MAJ, MIN):
        cls = by_priority(metrics, other)
        assert (cls.precision, cls.recall, cls.f1) == (None, 0.0, 0.0)
    assert metrics.accuracy == pytest.approx(1 / 2)
    assert metrics.top2_accuracy == pytest.approx(1 / 2)  # a ranking of one is top-1
    assert metrics.balanced_accuracy == pytest.approx(1 / 3)
    assert metrics.macro_f1 == pytest.approx((2 / 3) / 3)
    assert metrics.weighted_f1 == pytest.approx(2 * (2 / 3) / 4)
    assert metrics.mean_absolute_error == pytest.approx((1 + 2 + 0 + 0) / 4)
    assert metrics.within_one_accuracy == pytest.approx(3 / 4)


def test_a_perfect_predictor_scores_one_everywhere_and_zero_error():
    metrics = compute_metrics([TRI, MAJ, BLO], [(TRI,), (MAJ,), (BLO,)])

    headline = metrics.headline()
    assert headline.pop("mean_absolute_error") == 0.0
    assert all(value == 1.0 for value in headline.values())


def test_majority_ranking_is_most_then_second_most_frequent():
    assert majority_ranking([MIN, MAJ, MAJ, BLO, BLO, BLO]) == (BLO, MAJ)


def test_majority_ranking_breaks_ties_toward_the_lower_rank():
    # Major 3; Minor and Blocker tie at 1.
    assert majority_ranking(TRUE) == (MAJ, MIN)
    assert majority_ranking([BLO, TRI]) == (TRI, BLO)


def test_majority_ranking_of_one_class_adds_the_lowest_absent_class():
    assert majority_ranking([MAJ, MAJ]) == (MAJ, OPT)


def test_majority_baseline_always_answers_the_majority_class():
    baseline = majority_baseline(TRUE)

    # Always Major (3 of 5); top-2 Major or Minor (4 of 5).
    assert baseline.accuracy == pytest.approx(3 / 5)
    assert baseline.top2_accuracy == pytest.approx(4 / 5)
    major = by_priority(baseline, MAJ)  # TP 3, predicted 5, support 3
    assert major.precision == pytest.approx(3 / 5)
    assert major.f1 == pytest.approx(2 * 3 / (3 + 5))
    assert by_priority(baseline, MIN).precision is None
    assert baseline.balanced_accuracy == pytest.approx(1 / 3)
    assert baseline.macro_f1 == pytest.approx(0.75 / 3)
    assert baseline.weighted_f1 == pytest.approx(3 * 0.75 / 5)
    # Distances: 0, 0, 0, |4 - 3|, |4 - 6|.
    assert baseline.mean_absolute_error == pytest.approx(3 / 5)
    assert baseline.within_one_accuracy == pytest.approx(4 / 5)


def test_as_dict_is_json_with_nulls_for_undefined_figures():
    data = json.loads(json.dumps(compute_metrics(TRUE, RANKINGS).as_dict()))

    assert set(HEADLINE_METRICS) <= set(data)
    optional = data["per_class"][0]
    assert optional["priority"] == "Optional"
    assert optional["label"] == "__label__1"
    assert optional["precision"] is None
    assert data["confusion_matrix"]["counts"][5][3] == 1
    assert all(not isinstance(v, float) or math.isfinite(v) for v in data.values())


@pytest.mark.parametrize(
    ("y_true", "rankings", "message"),
    [
        ([], [], "no tickets"),
        ([MAJ], [], "1 true priorities but 0 rankings"),
        ([MAJ], [()], "at least one priority"),
    ],
)
def test_bad_input_is_refused_with_a_reason(y_true, rankings, message):
    with pytest.raises(ValueError, match=message):
        compute_metrics(y_true, rankings)


def test_majority_of_no_tickets_is_refused():
    with pytest.raises(ValueError, match="no tickets"):
        majority_baseline([])
