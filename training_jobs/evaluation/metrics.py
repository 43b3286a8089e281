"""Classification metrics for the six ordered priorities: scikit-learn plus what it lacks.

Everything here is pure computation over ``Priority`` values (no I/O), so the
evaluation command, the tests and a notebook all get the same numbers.
``sklearn.metrics`` computes the confusion matrix, accuracy, precision, recall,
F1 (per class, macro, weighted), balanced accuracy and the mean absolute
error; kept here is what it lacks: top-2 accuracy from rankings, within-one-
level accuracy, the majority baseline, and the conventions below for classes
absent from the data or the predictions.

Conventions (the report states them too):

* The confusion matrix always has every priority of the scheme (six for
  Apache's), rows = true priority, columns = predicted priority, in rank order.
* Precision of a class that was never predicted and recall of a class absent
  from the data are undefined: ``None`` (``null`` in JSON, "n/a" in Markdown),
  never 0 and never a division by zero.
* F1 is ``2·TP / (2·TP + FP + FN)``. It is defined whenever the class occurs in
  the data or in the predictions, so a class present in the data but never
  predicted has F1 = 0; a class absent from the data has F1 ``None``.
* Macro averages (macro-F1, balanced accuracy = macro recall) are taken over
  the classes present in the data; weighted-F1 weights each of them by support.
  Classes that appear only in the predictions still count as false positives
  of the classes they were confused with.
* Ordinal figures use the label number as rank (Optional 1 .. Blocker 6):
  within-one-level accuracy counts ``|predicted - true| <= 1`` and the mean
  absolute ordinal error is the mean of ``|predicted - true|``.
* The majority-class baseline always answers the most frequent true class of
  the evaluated data (ties go to the lower rank); its top-2 answer adds the
  second most frequent class (same tie rule, then the lowest-ranked class that
  is absent, if only one class occurs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn import metrics as sk

from jira_priority.labels import DEFAULT_SCHEME, Level, PriorityScheme

NUM_CLASSES = len(DEFAULT_SCHEME)

CONVENTIONS = (
    "Rows of the confusion matrix are true priorities, columns predicted ones. "
    "Precision of a never-predicted class and recall of a class absent from the data are "
    "undefined (null). F1 = 2TP/(2TP+FP+FN): 0 for a class present but never predicted, "
    "null for a class absent from the data. Macro-F1 and balanced accuracy (macro recall) "
    "average over the classes present in the data; weighted-F1 weights them by support. "
    "Ordinal figures use ranks Optional=1 .. Blocker=6. The majority baseline always answers "
    "the most frequent true class (ties to the lower rank); its top-2 adds the second most "
    "frequent class."
)


def conventions(scheme: PriorityScheme) -> str:
    """CONVENTIONS with the ranks of ``scheme`` (the text above for Apache's)."""
    first, last = scheme.priorities[0], scheme.priorities[-1]
    return CONVENTIONS.replace(
        "Optional=1 .. Blocker=6", f"{first.value}={first.rank} .. {last.value}={last.rank}"
    )


#: The headline figures and how summaries name them, in the order they are listed.
#: All are "higher is better" except the mean absolute ordinal error.
HEADLINE_METRICS: dict[str, str] = {
    "accuracy": "Accuracy",
    "top2_accuracy": "Top-2 accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "macro_f1": "Macro-F1",
    "weighted_f1": "Weighted-F1",
    "within_one_accuracy": "Within-one-level accuracy",
    "mean_absolute_error": "Mean absolute ordinal error",
}


@dataclass(frozen=True)
class ClassMetrics:
    priority: Level
    support: int
    predicted: int
    true_positives: int
    precision: float | None
    recall: float | None
    f1: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "priority": self.priority.value,
            "label": self.priority.label,
            "support": self.support,
            "predicted": self.predicted,
            "true_positives": self.true_positives,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(frozen=True)
class Metrics:
    """Every figure of one evaluation (one model, or the baseline, on one data set)."""

    count: int
    accuracy: float
    top2_accuracy: float
    balanced_accuracy: float
    macro_f1: float
    weighted_f1: float
    within_one_accuracy: float
    mean_absolute_error: float
    per_class: tuple[ClassMetrics, ...]
    #: ``confusion[i][j]``: tickets of true rank i+1 predicted as rank j+1.
    confusion: tuple[tuple[int, ...], ...]

    def headline(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in HEADLINE_METRICS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            **self.headline(),
            "per_class": [c.as_dict() for c in self.per_class],
            "confusion_matrix": {
                "labels": [c.priority.value for c in self.per_class],
                "rows": "true",
                "columns": "predicted",
                "counts": [list(row) for row in self.confusion],
            },
        }

    def confusion_array(self) -> npt.NDArray[np.int64]:
        size = len(self.per_class)
        return np.array(self.confusion, dtype=np.int64).reshape(size, size)


def _ranks(priorities: Sequence[Level], what: str, scheme: PriorityScheme) -> npt.NDArray[np.int64]:
    try:
        ranks = np.fromiter((p.rank for p in priorities), dtype=np.int64, count=len(priorities))
    except AttributeError:
        raise TypeError(f"{what} must be priorities of a scheme") from None
    if ranks.size and not (ranks.min() >= 1 and ranks.max() <= len(scheme)):
        raise ValueError(f"{what} holds a priority outside the {scheme.name} scheme")
    return ranks


def _scheme_ranks(scheme: PriorityScheme) -> list[int]:
    """The label numbers of the scheme's priorities: the labels every sklearn call gets."""
    return [p.rank for p in scheme.priorities]


def confusion_matrix(
    y_true: Sequence[Level], y_pred: Sequence[Level], scheme: PriorityScheme = DEFAULT_SCHEME
) -> npt.NDArray[np.int64]:
    """N x N counts (N priorities of the scheme), rows true, columns predicted, in rank order."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true priorities but {len(y_pred)} predictions")
    matrix: npt.NDArray[np.int64] = sk.confusion_matrix(
        _ranks(y_true, "y_true", scheme),
        _ranks(y_pred, "y_pred", scheme),
        labels=_scheme_ranks(scheme),
    ).astype(np.int64)
    return matrix


def _defined(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def per_class_metrics(
    y_true: Sequence[Level], y_pred: Sequence[Level], scheme: PriorityScheme = DEFAULT_SCHEME
) -> tuple[ClassMetrics, ...]:
    """Precision, recall and F1 of each priority, ``None`` where undefined."""
    true, pred = _ranks(y_true, "y_true", scheme), _ranks(y_pred, "y_pred", scheme)
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        true, pred, labels=_scheme_ranks(scheme), zero_division=np.nan
    )
    matrix = confusion_matrix(y_true, y_pred, scheme)
    result = []
    for index, priority in enumerate(scheme.priorities):
        present = bool(support[index])
        result.append(
            ClassMetrics(
                priority,
                support=int(support[index]),
                predicted=int(matrix[:, index].sum()),
                true_positives=int(matrix[index, index]),
                precision=_defined(precision[index]),
                recall=_defined(recall[index]),
                # sklearn gives 0 to a class only predicted; here it is undefined.
                f1=float(f1[index]) if present else None,
            )
        )
    return tuple(result)


def majority_ranking(
    y_true: Sequence[Level], scheme: PriorityScheme = DEFAULT_SCHEME
) -> tuple[Level, Level]:
    """The most and second most frequent true priorities (ties to the lower rank)."""
    if not y_true:
        raise ValueError("no tickets: the majority class is undefined")
    counts = np.bincount(_ranks(y_true, "y_true", scheme) - 1, minlength=len(scheme))
    # A stable sort on -count keeps rank order among equal counts.
    order = np.argsort(-counts, kind="stable")
    return scheme.priorities[int(order[0])], scheme.priorities[int(order[1])]


def compute_metrics(
    y_true: Sequence[Level],
    rankings: Sequence[Sequence[Level]],
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> Metrics:
    """All figures for true priorities and the predictor's rankings (most probable first).

    ``rankings[i][0]`` is the prediction for ticket ``i``; top-2 accuracy
    looks at its first two entries (a ranking of one entry counts as top-1).
    """
    if len(y_true) != len(rankings):
        raise ValueError(f"{len(y_true)} true priorities but {len(rankings)} rankings")
    if not y_true:
        raise ValueError("no tickets to evaluate")
    if any(len(ranking) == 0 for ranking in rankings):
        raise ValueError("every ranking needs at least one priority")
    y_pred = [ranking[0] for ranking in rankings]
    true, pred = _ranks(y_true, "y_true", scheme), _ranks(y_pred, "y_pred", scheme)
    present = sorted(set(true.tolist()))  # macro and weighted averages: classes in the data
    top2_hits = sum(truth in ranking[:2] for truth, ranking in zip(y_true, rankings, strict=True))
    matrix = confusion_matrix(y_true, y_pred, scheme)

    return Metrics(
        count=len(y_true),
        accuracy=float(sk.accuracy_score(true, pred)),
        top2_accuracy=top2_hits / len(y_true),
        # balanced_accuracy_score, without its warning for a predicted class not in the data
        balanced_accuracy=float(sk.recall_score(true, pred, labels=present, average="macro")),
        macro_f1=float(sk.f1_score(true, pred, labels=present, average="macro")),
        weighted_f1=float(sk.f1_score(true, pred, labels=present, average="weighted")),
        within_one_accuracy=float(np.mean(np.abs(pred - true) <= 1)),
        mean_absolute_error=float(sk.mean_absolute_error(true, pred)),
        per_class=per_class_metrics(y_true, y_pred, scheme),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
    )


def majority_baseline(y_true: Sequence[Level], scheme: PriorityScheme = DEFAULT_SCHEME) -> Metrics:
    """The figures of always answering the majority class (top-2: plus the runner-up)."""
    first, second = majority_ranking(y_true, scheme)
    return compute_metrics(y_true, [(first, second)] * len(y_true), scheme)


#: Urgency cut-offs a site chooses its "likely urgent" label from.
URGENCY_THRESHOLDS: tuple[float, ...] = (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6)


def urgency_thresholds(
    urgency: Sequence[float],
    urgent: Sequence[bool],
    thresholds: Sequence[float] = URGENCY_THRESHOLDS,
) -> list[dict[str, Any]]:
    """For each threshold: the share of tickets whose urgency reaches it (what a rule would
    label), how many of those are above the default (precision) and how many of the urgent
    tickets it finds (recall). Precision None when none is flagged, recall None when no
    ticket is urgent."""
    if len(urgency) != len(urgent):
        raise ValueError("one urgency per ticket")
    total_urgent = sum(urgent)
    rows = []
    for threshold in thresholds:
        flagged = [u for value, u in zip(urgency, urgent, strict=True) if value >= threshold]
        rows.append(
            {
                "threshold": threshold,
                "flagged": len(flagged),
                "share_flagged": len(flagged) / len(urgency) if urgency else 0.0,
                "precision": sum(flagged) / len(flagged) if flagged else None,
                "recall": sum(flagged) / total_urgent if total_urgent else None,
            }
        )
    return rows


def urgency_table_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The urgency threshold table as Markdown lines (train-local and evaluate print it)."""

    def cell(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    lines = ["| urgency >= | flagged | precision | recall |", "|---:|---:|---:|---:|"]
    lines += [
        f"| {r['threshold']:.2f} | {cell(r['share_flagged'])} | {cell(r['precision'])} "
        f"| {cell(r['recall'])} |"
        for r in rows
    ]
    return lines
