"""Fitting ``postprocessing.json`` on data the model did not train on.

The served model's corrections (``jira_priority.postprocessing``) are fitted
here, in this order, all on the same calibration tickets:

1. the prior weight: the one ``alpha`` (grid 0 .. 1.5) whose corrected argmax
   ``log p - alpha * log prior`` gives the best macro-F1;
2. the temperature: ``softmax(log p / T)`` with the smallest negative
   log-likelihood of the true priority (bounded scalar search over log T);
3. the top-label map: an isotonic regression from the chosen (prior-corrected)
   priority's temperature-scaled probability to whether that answer was right,
   so that the answer's confidence says how often such answers are right (the
   prior correction makes the temperature-scaled probability over-promise on
   the rarer priorities it chooses);
4. the confidence thresholds, one per promise: answers equal to the scheme's
   default priority (``keep``) and the others (``set``, what a Jira rule acts
   on), each the lowest calibrated confidence at which its answers at or above
   it are right at least ``target_precision`` of the time, pooled and, when the
   rows come from several projects, in every project where the answers it
   flags are a real share (``choose_threshold``). A promise no threshold keeps
   is not made;
5. the urgency map: Platt scaling of the temperature-scaled probability of a
   priority above the default against whether the truth was above it.

Where the rows are out-of-fold answers of models that did not see their
project (``training_jobs.modelling.crossfit``), every figure is one a site the
model never saw would meet. The final figures are computed by the serving
module itself, so what is fitted is exactly what answers.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from jira_priority.postprocessing import (
    MAX_KNOTS,
    PROBABILITY_FLOOR,
    Confidence,
    PostProcessed,
    PostProcessing,
    Promises,
    TopLabelMap,
    UrgencyMap,
    label_rank,
)
from training_jobs.evaluation.calibration import expected_calibration_error

#: Prior weights tried: 0 (no correction) to 1.5 in steps of 0.05.
PRIOR_WEIGHTS = tuple(round(0.05 * step, 2) for step in range(31))
#: Default precision the confidence flag promises on calibration data.
DEFAULT_TARGET_PRECISION = 0.7
#: Fewest confident calibration tickets a threshold may rest on.
MIN_CONFIDENT = 30
#: A project counts against a threshold when the answers it flags there are at least this
#: share of the project's rows of that kind and at least MIN_PROJECT_FLAGGED tickets: the
#: promise must hold there too, not only pooled. (Below that, a project's precision is noise.)
MIN_PROJECT_SHARE = 0.05
MIN_PROJECT_FLAGGED = 20
#: How far below the promise a counted project's precision may fall at the chosen threshold.
PROJECT_TOLERANCE = 0.0

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def probability_matrix(model: Any, texts: Sequence[str], labels: Sequence[str]) -> FloatArray:
    """Every label's probability for each text (rows) from a fastText model, in ``labels`` order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(texts), len(labels)))
    for row, text in enumerate(texts):
        answered, probabilities = model.predict(" ".join(text.split()), k=-1)
        for label, probability in zip(answered, probabilities, strict=True):
            matrix[row, index[str(label)]] = probability
    return matrix


def macro_f1(truth: IntArray, predicted: IntArray) -> float:
    """Macro-F1 over the classes present in ``truth`` (the project's convention)."""
    from sklearn.metrics import f1_score

    present = np.unique(truth)
    return float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0))


def fit_prior_weight(log_p: FloatArray, log_prior: FloatArray, truth: IntArray) -> float:
    best_weight, best_f1 = 0.0, -1.0
    for weight in PRIOR_WEIGHTS:
        score = macro_f1(truth, (log_p - weight * log_prior).argmax(axis=1))
        if score > best_f1 + 1e-12:
            best_weight, best_f1 = weight, score
    return best_weight


def _softmax(z: FloatArray) -> FloatArray:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    result: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def fit_temperature(log_p: FloatArray, truth: IntArray) -> float:
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        calibrated = _softmax(log_p / math.exp(log_t))
        return float(-np.log(calibrated[rows, truth] + 1e-12).mean())

    result = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    return round(math.exp(float(result.x)), 4)


def choose_threshold(
    confidence: Sequence[float],
    correct: Sequence[bool],
    target_precision: float,
    floor: float = 0.0,
    groups: Sequence[str] | None = None,
) -> Confidence:
    """The lowest threshold, at least ``floor``, whose confident answers reach ``target_precision``.

    Among thresholds at the observed confidences, the one with the largest
    coverage whose precision is at least the target, resting on at least
    MIN_CONFIDENT tickets; with ``groups`` (each row's project), also in every
    project where it flags at least MIN_PROJECT_SHARE of the project's rows and
    MIN_PROJECT_FLAGGED tickets (less PROJECT_TOLERANCE). None qualifies: the
    promise is not made (threshold None, coverage 0).
    ``fit`` passes the target as the floor: the pool of confident answers may
    reach the target with a low threshold (many sure answers carry a few
    unlikely ones), but an answer whose own calibrated probability is 0.3
    should not be called confident.
    """
    order = sorted(range(len(confidence)), key=lambda i: confidence[i], reverse=True)
    sizes: Counter[str] = Counter(groups or ())
    flagged: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    failing: set[str] = set()  # projects that count and miss the promise at this threshold
    best: Confidence | None = None
    right = 0
    for taken, i in enumerate(order, start=1):
        right += bool(correct[i])
        if groups is not None:
            group = groups[i]
            flagged[group] += 1
            hits[group] += bool(correct[i])
            counts = (
                flagged[group] >= MIN_PROJECT_FLAGGED
                and flagged[group] >= MIN_PROJECT_SHARE * sizes[group]
            )
            if counts and hits[group] / flagged[group] < target_precision - PROJECT_TOLERANCE:
                failing.add(group)
            else:
                failing.discard(group)
        is_last_of_tie = taken == len(order) or confidence[order[taken]] < confidence[i]
        if confidence[i] < floor:
            break
        if (
            taken >= MIN_CONFIDENT
            and is_last_of_tie
            and right / taken >= target_precision
            and not failing
        ):
            best = Confidence(
                threshold=round(confidence[i], 6),
                target_precision=target_precision,
                coverage=round(taken / len(order), 4),
                precision=round(right / taken, 4),
            )
    if best is None:
        return Confidence(
            threshold=None, target_precision=target_precision, coverage=0.0, precision=0.0
        )
    return best


def promise_spread(
    confidence: Sequence[float],
    correct: Sequence[bool],
    groups: Sequence[str],
    promise: Confidence,
) -> dict[str, Any]:
    """How the promise did per project on the rows it was fitted on (the projects that count)."""
    per_project: dict[str, dict[str, float]] = {}
    for group in sorted(set(groups)):
        rows = [i for i, g in enumerate(groups) if g == group]
        flagged = [i for i in rows if promise.reached(confidence[i])]
        if len(flagged) >= MIN_PROJECT_FLAGGED and len(flagged) >= MIN_PROJECT_SHARE * len(rows):
            per_project[group] = {
                "coverage": round(len(flagged) / len(rows), 4),
                "precision": round(sum(correct[i] for i in flagged) / len(flagged), 4),
            }
    precisions = [p["precision"] for p in per_project.values()]
    return {
        "projects_counted": len(per_project),
        "precision_min": min(precisions) if precisions else None,
        "precision_mean": round(statistics.fmean(precisions), 4) if precisions else None,
        "per_project": per_project,
    }


def fit_urgency_map(log_p: FloatArray, truth_above: Sequence[bool]) -> UrgencyMap:
    """Logistic regression of "the truth is above the default" on every label's log p
    (scikit-learn, L2 with C=1: six weights on thousands of rows)."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(truth_above, dtype=np.int64)
    if y.min() == y.max():  # one class only: a constant at its rate (never 0 or 1)
        rate = min(max(float(y.mean()), 0.001), 0.999)
        return UrgencyMap((0.0,) * log_p.shape[1], round(math.log(rate / (1 - rate)), 6))
    regression = LogisticRegression(C=1.0, max_iter=1000)
    regression.fit(log_p, y)
    return UrgencyMap(
        tuple(round(float(w), 6) for w in regression.coef_[0]),
        round(float(regression.intercept_[0]), 6),
    )


def fit_top_label_map(
    probability: Sequence[float], correct: Sequence[bool], max_knots: int = MAX_KNOTS
) -> TopLabelMap:
    """Isotonic regression of ``correct`` on ``probability`` (the chosen priority's
    temperature-scaled probability), as knots rounded to 6 digits.

    A fit with more than ``max_knots`` knots is refitted on ``probability``'s
    quantile bins (the mean probability and accuracy of each of ``max_knots // 2``
    equal-count bins), which bounds the knots without moving the map by more than
    a bin's width.
    """
    from sklearn.isotonic import IsotonicRegression

    x = np.asarray(probability, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    weights = np.ones_like(x)
    regression = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    regression.fit(x, y)
    if len(regression.X_thresholds_) > max_knots:
        order = np.argsort(x, kind="stable")
        bins = np.array_split(order, max_knots // 2)
        x = np.array([x[b].mean() for b in bins])
        y = np.array([y[b].mean() for b in bins])
        weights = np.array([len(b) for b in bins], dtype=np.float64)
        regression.fit(x, y, sample_weight=weights)
    return TopLabelMap(
        x=tuple(round(float(v), 6) for v in regression.X_thresholds_),
        y=tuple(round(float(v), 6) for v in regression.y_thresholds_),
    )


@dataclass(frozen=True)
class Fitted:
    postprocessing: PostProcessing
    #: Figures on the calibration tickets, before and after.
    report: dict[str, Any]


def fit(
    probabilities: FloatArray,
    truth_labels: Sequence[str],
    labels: Sequence[str],
    train_counts: Mapping[str, int],
    target_precision: float = DEFAULT_TARGET_PRECISION,
    default_label: str | None = None,
    groups: Sequence[str] | None = None,
) -> Fitted:
    """Fit the corrections on calibration rows (``probabilities`` x ``labels``).

    ``default_label``: the scheme's default priority's label; with it, a promise per
    action and the urgency map (format 3), else one threshold (format 2).
    ``groups``: each row's project, when the rows are out-of-fold answers grouped by
    project: the thresholds must then hold in every project that counts.
    """
    if not 0 < target_precision < 1:
        raise ValueError("the target precision must be between 0 and 1")
    if default_label is not None and default_label not in labels:
        raise ValueError(f"the default label {default_label} is not one of the model's labels")
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index[label] for label in truth_labels], dtype=np.int64)
    counts = np.array([train_counts.get(label, 0) + 1 for label in labels], dtype=np.float64)
    log_prior = np.log(counts / counts.sum())
    log_p = np.log(np.maximum(probabilities, PROBABILITY_FLOOR))
    weight = fit_prior_weight(log_p, log_prior, truth)
    temperature = fit_temperature(log_p, truth)
    unfinished = PostProcessing(
        labels=tuple(labels),
        log_prior=tuple(round(float(v), 6) for v in log_prior),
        prior_weight=weight,
        temperature=temperature,
        default_label=default_label,
    )
    rows = [list(zip(labels, row.tolist(), strict=True)) for row in probabilities]
    tempered = [unfinished.apply(row, k=1) for row in rows]
    chosen = [index[answer.ranking[0].label] for answer in tempered]
    correct = [c == t for c, t in zip(chosen, truth.tolist(), strict=True)]
    tempered_confidence = [float(answer.calibrated_probability or 0.0) for answer in tempered]
    top_label_map = fit_top_label_map(tempered_confidence, correct)
    mapped = replace(unfinished, top_label_map=top_label_map)
    # what mapped.apply answers: the map of the chosen priority's tempered probability
    confidence = [mapped.answer_confidence(value) for value in tempered_confidence]
    raw = probabilities.argmax(axis=1)
    report: dict[str, Any] = {
        "tickets": len(truth),
        "macro_f1_before": round(macro_f1(truth, raw), 4),
        "macro_f1_after": round(macro_f1(truth, np.array(chosen, dtype=np.int64)), 4),
        # the model's own top probability and answer; the chosen priority's temperature-
        # scaled probability; the answer's confidence after the top-label map. In-sample:
        # the map is fitted on these tickets, so its ECE here is optimistic.
        "ece_before": round(expected_calibration_error(probabilities.max(axis=1), raw == truth), 4),
        "ece_temperature": round(expected_calibration_error(tempered_confidence, correct), 4),
        "ece_after": round(expected_calibration_error(confidence, correct), 4),
        "top_label_knots": len(top_label_map.x),
    }
    if default_label is None:
        threshold = choose_threshold(
            confidence, correct, target_precision, floor=target_precision, groups=groups
        )
        return Fitted(replace(mapped, confidence=threshold), report)

    is_default = [labels[c] == default_label for c in chosen]
    promises: dict[str, Confidence] = {}
    for kind, wanted in (("keep", True), ("set", False)):
        mine = [i for i, d in enumerate(is_default) if d == wanted]
        promise = choose_threshold(
            [confidence[i] for i in mine],
            [correct[i] for i in mine],
            target_precision,
            floor=target_precision,
            groups=[groups[i] for i in mine] if groups is not None else None,
        )
        # coverage over every calibration ticket (a rule sees them all), not only this kind's
        flagged = [i for i in mine if promise.reached(confidence[i])]
        promises[kind] = replace(promise, coverage=round(len(flagged) / len(truth), 4))
        entry: dict[str, Any] = {
            "made": promise.threshold is not None,
            "threshold": promise.threshold,
            "precision": promise.precision,
            "coverage": promises[kind].coverage,
            "answers_of_this_kind": len(mine),
        }
        if groups is not None:
            entry["spread"] = promise_spread(
                [confidence[i] for i in mine],
                [correct[i] for i in mine],
                [groups[i] for i in mine],
                promise,
            )
        report[f"promise_{kind}"] = entry
    calibrated = [unfinished.scores(dict(row))[1] for row in rows]
    default_rank = label_rank(default_label)
    above = [
        sum(p for label, p in zip(labels, row, strict=True) if label_rank(label) > default_rank)
        for row in calibrated
    ]
    truth_above = [label_rank(labels[t]) > default_rank for t in truth.tolist()]
    urgency_map = fit_urgency_map(log_p, truth_above)
    urgency = [urgency_map(row) for row in log_p.tolist()]
    report["urgency"] = {
        "share_above_default": round(statistics.fmean(truth_above), 4),
        # the temperature-scaled probability above the default, then the urgency map
        "ece_before": round(expected_calibration_error(above, truth_above), 4),
        "ece_after": round(expected_calibration_error(urgency, truth_above), 4),
    }
    fitted = replace(
        mapped,
        promises=Promises(keep=promises["keep"], set=promises["set"]),
        urgency_map=urgency_map,
    )
    return Fitted(fitted, report)


class Labelled(Protocol):
    @property
    def label(self) -> str: ...


Example = TypeVar("Example", bound=Labelled)


def hold_out_for_calibration(
    examples: Sequence[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """(to train on, to calibrate on): ``fraction`` of each label's examples, seeded."""
    if not 0 <= fraction < 1:
        raise ValueError("the calibration fraction must be in [0, 1)")
    rng = random.Random(seed)
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_label[example.label].append(example)
    train: list[Example] = []
    calibration: list[Example] = []
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        taken = min(round(len(members) * fraction), len(members) - 1)
        calibration.extend(members[:taken])
        train.extend(members[taken:])
    rng.shuffle(train)  # fastText's SGD reads the file in order
    return train, calibration


def post_processed_answers(
    model: Any, texts: Sequence[str], postprocessing: PostProcessing
) -> list[PostProcessed]:
    """The answer (top label, its calibrated confidence, the flag) for each text after
    post-processing, as the service answers it."""
    labels = postprocessing.labels
    matrix = probability_matrix(model, texts, labels)
    return [
        postprocessing.apply(list(zip(labels, row.tolist(), strict=True)), k=1) for row in matrix
    ]


def post_processed_labels(
    model: Any, texts: Sequence[str], postprocessing: PostProcessing
) -> list[str]:
    """The top label of each text after post-processing, as the service answers it."""
    return [
        answer.ranking[0].label for answer in post_processed_answers(model, texts, postprocessing)
    ]
