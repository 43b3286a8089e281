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
4. the confidence threshold: the lowest calibrated confidence at which the
   answers at or above it are right at least ``target_precision`` of the time
   (the largest coverage that keeps that precision).

The final figures are computed by the serving module itself, so what is fitted
is exactly what answers.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
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
    TopLabelMap,
)
from training_jobs.evaluation.calibration import expected_calibration_error

#: Prior weights tried: 0 (no correction) to 1.5 in steps of 0.05.
PRIOR_WEIGHTS = tuple(round(0.05 * step, 2) for step in range(31))
#: Default precision the confidence flag promises on calibration data.
DEFAULT_TARGET_PRECISION = 0.7
#: Fewest confident calibration tickets a threshold may rest on.
MIN_CONFIDENT = 30

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
) -> Confidence:
    """The lowest threshold, at least ``floor``, whose confident answers reach ``target_precision``.

    Among thresholds at the observed confidences, the one with the largest
    coverage whose precision is at least the target, resting on at least
    MIN_CONFIDENT tickets; none qualifies: threshold 1.0 (hardly ever confident).
    ``fit`` passes the target as the floor: the pool of confident answers may
    reach the target with a low threshold (many sure answers carry a few
    unlikely ones), but an answer whose own calibrated probability is 0.3
    should not be called confident.
    """
    order = sorted(range(len(confidence)), key=lambda i: confidence[i], reverse=True)
    best: Confidence | None = None
    right = 0
    for taken, i in enumerate(order, start=1):
        right += bool(correct[i])
        is_last_of_tie = taken == len(order) or confidence[order[taken]] < confidence[i]
        if confidence[i] < floor:
            break
        if taken >= MIN_CONFIDENT and is_last_of_tie and right / taken >= target_precision:
            best = Confidence(
                threshold=round(confidence[i], 6),
                target_precision=target_precision,
                coverage=round(taken / len(order), 4),
                precision=round(right / taken, 4),
            )
    if best is None:
        return Confidence(
            threshold=1.0, target_precision=target_precision, coverage=0.0, precision=0.0
        )
    return best


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
) -> Fitted:
    """Fit the four corrections on calibration rows (``probabilities`` x ``labels``)."""
    if not 0 < target_precision < 1:
        raise ValueError("the target precision must be between 0 and 1")
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
    threshold = choose_threshold(confidence, correct, target_precision, floor=target_precision)
    fitted = replace(mapped, confidence=threshold)
    raw = probabilities.argmax(axis=1)
    report = {
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
