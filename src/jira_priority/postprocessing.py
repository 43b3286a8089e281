"""What the model answers, post-processed: one definition for every backend.

A fastText/BlazingText softmax learns the training data's priority mix: it
answers Major far too often for macro-F1, and its probabilities are not
probabilities (on the shared data its mean top-1 probability is 0.87 where it is
right 65 % of the time). Three corrections, all fitted on data the model did not
train on (``training_jobs.modelling.postprocessing``) and stored in
``postprocessing.json`` beside ``model.bin``:

* **Prior correction** picks the priority: the argmax of
  ``log p - prior_weight * log prior`` (one weight for all classes, fitted for
  macro-F1). It only reorders the ranking.
* **Temperature** calibrates the probabilities: ``softmax(log p / temperature)``
  over all labels: each ranked priority's calibrated probability (the odds the
  model and the calibration data give that priority).
* **Top-label map** calibrates the answer's confidence. The prior correction
  chooses rarer priorities than the model's argmax, so the chosen priority's
  temperature-scaled probability is not how often such answers are right (on the
  shared data it over-promises on unseen projects). An isotonic regression fitted
  on the calibration tickets maps it to that frequency ("top-label calibration",
  Gupta & Ramdas 2022); stored as its knots and applied as scikit-learn's
  ``IsotonicRegression.predict`` does: linear between knots, clipped at the ends.
  Files of format 1 have no map: there the confidence is the temperature-scaled
  probability.
* **Confidence**: the answer is flagged ``confident`` when its calibrated
  confidence reaches a threshold chosen on the calibration data for a stated
  precision. From format 3 there are two thresholds, two promises: one for
  answers equal to the scheme's default priority (``keep``) and one for the
  others (``set``, the answers a Jira rule acts on), so that the easy default
  answers cannot carry the rare ones. A promise that could not be kept where it
  was measured is not made (no threshold: never confident).
* **Urgency**: the calibrated probability that the right priority is above the
  default: a logistic regression on the model's log-probability of every label
  (``UrgencyMap``), fitted on answers the model did not train on. Format 3;
  before it, the temperature-scaled probabilities above the default, summed.
* **Action**: ``set`` a confident answer other than the default, ``keep`` a
  confident default, ``triage`` the rest.

Pure Python (``math`` only): the Lambda zip carries no numpy.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, NamedTuple

#: The file beside model.bin (and inside model.tar.gz) that holds the corrections.
FILE_NAME = "postprocessing.json"
FORMAT_VERSION = 3
#: Formats read: 1 (no top-label map), 2 (one confidence threshold) and 3 (the default
#: priority, a promise per action, the urgency map).
READABLE_FORMATS = (1, 2, FORMAT_VERSION)
#: fastText adds 1e-5 before its softmax; nothing below this is distinguishable.
PROBABILITY_FLOOR = 1e-8
#: Most knots a top-label map may have. An isotonic fit has at most two per block
#: of equal calibrated frequency; the fitting side merges blocks to stay below this.
MAX_KNOTS = 512
#: Largest postprocessing.json read: a map of MAX_KNOTS knots is about 25 KB.
MAX_FILE_BYTES = 64 * 1024


#: What a Jira rule should do with an answer: set its priority, keep the default, or leave
#: the ticket to a person.
Action = Literal["set", "keep", "triage"]


class PostProcessingError(ValueError):
    """A postprocessing.json that cannot be used (malformed, inconsistent, other labels)."""


class RankedLabel(NamedTuple):
    """One ranked alternative after post-processing."""

    label: str
    #: What the model said (unchanged meaning).
    probability: float
    #: The calibrated probability; None when the model has no post-processing.
    calibrated_probability: float | None


class PostProcessed(NamedTuple):
    ranking: list[RankedLabel]
    #: The answer's calibrated confidence: how often answers given with it were right
    #: on the calibration tickets (the top-label map of the top priority's calibrated
    #: probability; that probability itself without a map); None without post-processing.
    calibrated_probability: float | None
    #: Whether calibrated_probability clears the confidence threshold; None without one.
    confident: bool | None
    #: The calibrated probability of a priority above the default; None without one.
    urgency: float | None = None
    #: "set", "keep" or "triage"; None without a threshold or a default priority.
    action: Action | None = None


@dataclass(frozen=True)
class Confidence:
    """The threshold on the calibrated top probability and what it gave when fitted.

    ``threshold`` None: the promise is not made (it did not hold where it was
    measured), and no answer of its kind is confident."""

    threshold: float | None
    target_precision: float
    #: Share of calibration tickets at or above the threshold, and how often they were right.
    coverage: float
    precision: float

    def reached(self, confidence: float) -> bool:
        return self.threshold is not None and confidence >= self.threshold


@dataclass(frozen=True)
class Promises:
    """Format 3: one threshold for answers equal to the default priority, one for the rest."""

    keep: Confidence
    set: Confidence


@dataclass(frozen=True)
class UrgencyMap:
    """A logistic regression of "the right priority is above the default" on the model's
    log-probability of every label: ``sigmoid(intercept + sum(weight[label] * log p))``.

    Fitted on answers the model did not train on. It reads the whole distribution, not only
    the priorities above the default: a ticket the model also finds likely Minor is less
    likely urgent than its Critical probability alone says."""

    weights: tuple[float, ...]
    intercept: float

    def __post_init__(self) -> None:
        values = (*self.weights, self.intercept)
        if not all(math.isfinite(v) and abs(v) <= 1000 for v in values):
            raise PostProcessingError("the urgency map's weights must be finite, within 1000")

    def __call__(self, log_p: Sequence[float]) -> float:
        z = self.intercept + sum(w * lp for w, lp in zip(self.weights, log_p, strict=True))
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


@dataclass(frozen=True)
class TopLabelMap:
    """A non-decreasing piecewise-linear map from the chosen priority's calibrated
    probability to the calibrated confidence of the answer (isotonic regression knots)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.x) <= MAX_KNOTS or len(self.y) != len(self.x):
            raise PostProcessingError(
                f"the top-label map needs 1 to {MAX_KNOTS} knots, as many x as y"
            )
        if not all(math.isfinite(v) and 0 <= v <= 1 for v in (*self.x, *self.y)):
            raise PostProcessingError("the top-label map's knots must be finite, in [0, 1]")
        if any(b < a for a, b in pairwise(self.x)) or any(b < a for a, b in pairwise(self.y)):
            raise PostProcessingError("the top-label map's x and y must be non-decreasing")

    def __call__(self, value: float) -> float:
        """Linear between knots, the end values outside them; at a repeated x, the last."""
        right = bisect.bisect_right(self.x, value)
        if right == 0:
            return self.y[0]
        if right == len(self.x):
            return self.y[-1]
        x0, x1 = self.x[right - 1], self.x[right]  # x0 <= value < x1
        y0, y1 = self.y[right - 1], self.y[right]
        return y0 + (y1 - y0) * (value - x0) / (x1 - x0)


@dataclass(frozen=True)
class PostProcessing:
    labels: tuple[str, ...]
    #: log of each label's share of the training data, in ``labels`` order.
    log_prior: tuple[float, ...]
    prior_weight: float
    temperature: float
    confidence: Confidence | None = None
    top_label_map: TopLabelMap | None = None
    #: Format 3: the label of the scheme's default priority, what urgency and the two
    #: promises were fitted for.
    default_label: str | None = None
    promises: Promises | None = None
    urgency_map: UrgencyMap | None = None

    def __post_init__(self) -> None:
        if not self.labels or len(set(self.labels)) != len(self.labels):
            raise PostProcessingError("labels must be distinct and not empty")
        if len(self.log_prior) != len(self.labels):
            raise PostProcessingError("log_prior needs one value per label")
        if self.urgency_map is not None and len(self.urgency_map.weights) != len(self.labels):
            raise PostProcessingError("the urgency map needs one weight per label")
        numbers = (*self.log_prior, self.prior_weight, self.temperature)
        if not all(math.isfinite(value) for value in numbers):
            raise PostProcessingError("every value must be a finite number")
        if any(value > 0 for value in self.log_prior):
            raise PostProcessingError("log_prior values are logs of shares: at most 0")
        if not 0 <= self.prior_weight <= 5:
            raise PostProcessingError("prior_weight must be between 0 and 5")
        if not 0.01 <= self.temperature <= 100:
            raise PostProcessingError("temperature must be between 0.01 and 100")
        thresholds = [self.confidence] if self.confidence is not None else []
        if self.promises is not None:
            thresholds += [self.promises.keep, self.promises.set]
        for confidence in thresholds:
            if confidence.threshold is not None and not 0 <= confidence.threshold <= 1:
                raise PostProcessingError("a confidence threshold must be between 0 and 1")
        if self.default_label is not None and self.default_label not in self.labels:
            raise PostProcessingError(f"the default label {self.default_label!r} is not a label")
        if (self.promises is not None or self.urgency_map is not None) and (
            self.default_label is None
        ):
            raise PostProcessingError("promises and an urgency map need the default label")

    # --- applying ---------------------------------------------------------------

    def log_probabilities(self, probabilities: Mapping[str, float]) -> list[float]:
        """``log p`` of every label, in ``labels`` order, floored at PROBABILITY_FLOOR."""
        return [
            math.log(max(probabilities.get(label, 0.0), PROBABILITY_FLOOR)) for label in self.labels
        ]

    def scores(self, probabilities: Mapping[str, float]) -> tuple[list[float], list[float]]:
        """Decision scores and calibrated probabilities, in ``labels`` order.

        ``probabilities`` must hold every label (a backend asked for all of them);
        a label the model does not know is refused.
        """
        unknown = set(probabilities) - set(self.labels)
        if unknown:
            raise PostProcessingError(f"labels outside the post-processing: {sorted(unknown)}")
        log_p = self.log_probabilities(probabilities)
        weight = self.prior_weight
        decision = [lp - weight * prior for lp, prior in zip(log_p, self.log_prior, strict=True)]
        scaled = [lp / self.temperature for lp in log_p]
        top = max(scaled)
        exps = [math.exp(value - top) for value in scaled]
        total = sum(exps)
        return decision, [value / total for value in exps]

    def answer_confidence(self, top_calibrated: float) -> float:
        """The answer's calibrated confidence, from its priority's calibrated probability."""
        if self.top_label_map is None:
            return top_calibrated
        return self.top_label_map(top_calibrated)

    def urgency(
        self, probabilities: Mapping[str, float], calibrated: Sequence[float], default_label: str
    ) -> float:
        """The calibrated probability of a priority above ``default_label``: the urgency map
        of the model's probabilities, or (before format 3) the calibrated ones above it.

        Labels are ordinal (``__label__N``, N = rank): "above" is a larger N."""
        if self.urgency_map is not None:
            return self.urgency_map(self.log_probabilities(probabilities))
        rank = label_rank(default_label)
        return sum(p for label, p in zip(self.labels, calibrated, strict=True)
                   if label_rank(label) > rank)  # fmt: skip

    def apply(
        self, ranking: Sequence[tuple[str, float]], k: int, default_label: str | None = None
    ) -> PostProcessed:
        """The best ``k`` labels by corrected score, with raw and calibrated probabilities,
        the answer's calibrated confidence, its urgency and action.

        ``default_label`` (the scheme's default) serves files before format 3, which do not
        name it; a format-3 file's own default wins."""
        probabilities = dict(ranking)
        decision, calibrated = self.scores(probabilities)
        order = sorted(range(len(self.labels)), key=lambda i: decision[i], reverse=True)
        ranked = [
            RankedLabel(self.labels[i], probabilities.get(self.labels[i], 0.0), calibrated[i])
            for i in order[:k]
        ]
        answer = self.answer_confidence(calibrated[order[0]])
        default = self.default_label or default_label
        is_default = default is not None and self.labels[order[0]] == default
        confident = None
        if self.promises is not None:
            promise = self.promises.keep if is_default else self.promises.set
            confident = promise.reached(answer)
        elif self.confidence is not None:
            confident = self.confidence.reached(answer)
        action: Action | None = None
        if confident is not None and default is not None:
            action = ("keep" if is_default else "set") if confident else "triage"
        urgency = self.urgency(probabilities, calibrated, default) if default is not None else None
        return PostProcessed(ranked, answer, confident, urgency, action)

    # --- the file -----------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """The file's fields: format 3 when the default and the promises are there, else 2."""
        data: dict[str, Any] = {
            "format": FORMAT_VERSION if self.promises is not None else 2,
            "labels": list(self.labels),
            "log_prior": list(self.log_prior),
            "prior_weight": self.prior_weight,
            "temperature": self.temperature,
            "confidence": asdict(self.confidence) if self.confidence is not None else None,
            "top_label_map": (
                {"x": list(self.top_label_map.x), "y": list(self.top_label_map.y)}
                if self.top_label_map is not None
                else None
            ),
        }
        if self.promises is not None:
            data["default_label"] = self.default_label
            data["confidence"] = {
                "keep": asdict(self.promises.keep),
                "set": asdict(self.promises.set),
            }
            data["urgency_map"] = (
                {"weights": list(self.urgency_map.weights), "intercept": self.urgency_map.intercept}
                if self.urgency_map is not None
                else None
            )
        return data

    def to_json(self, extra: Mapping[str, Any] | None = None) -> str:
        """The file's text; ``extra`` (how it was fitted) is kept but never read back."""
        return json.dumps({**self.as_dict(), **(extra or {})}, indent=2) + "\n"

    @classmethod
    def from_json(cls, raw: bytes | str) -> PostProcessing:
        if len(raw) > MAX_FILE_BYTES:
            raise PostProcessingError(f"{FILE_NAME} is larger than {MAX_FILE_BYTES} bytes")
        try:
            data = json.loads(raw)
        except ValueError as exc:  # not UTF-8, not JSON, or an integer too long to convert
            raise PostProcessingError(f"{FILE_NAME} is not JSON") from exc
        version = data.get("format") if isinstance(data, dict) else None
        if type(version) is not int or version not in READABLE_FORMATS:
            raise PostProcessingError(
                f"{FILE_NAME} is not of a format this version reads {READABLE_FORMATS}"
            )
        try:
            confidence = data.get("confidence")
            # Format 1 has no map: its confidence is the temperature-scaled probability.
            knots = data.get("top_label_map") if version >= 2 else None
            promises = None
            if version >= 3:
                promises = Promises(
                    keep=_confidence(confidence["keep"]), set=_confidence(confidence["set"])
                )
                confidence = None
            urgency = data.get("urgency_map") if version >= 3 else None
            return cls(
                labels=tuple(_strings(data["labels"])),
                log_prior=tuple(_numbers(data["log_prior"])),
                prior_weight=_number(data["prior_weight"]),
                temperature=_number(data["temperature"]),
                confidence=_confidence(confidence) if confidence is not None else None,
                top_label_map=(
                    TopLabelMap(x=tuple(_numbers(knots["x"])), y=tuple(_numbers(knots["y"])))
                    if knots is not None
                    else None
                ),
                default_label=_string(data["default_label"]) if version >= 3 else None,
                promises=promises,
                urgency_map=(
                    UrgencyMap(tuple(_numbers(urgency["weights"])), _number(urgency["intercept"]))
                    if urgency is not None
                    else None
                ),
            )
        except (KeyError, TypeError) as exc:
            raise PostProcessingError(f"{FILE_NAME} lacks a field or has a wrong type") from exc


def read_postprocessing(source: Path) -> PostProcessing | None:
    """The postprocessing.json that travels with the model in ``source``, if any.

    ``source`` is what ``model_files.read_sidecar`` accepts: a model file, its
    directory, or its model.tar.gz. Raises PostProcessingError or ModelFileError.
    """
    # Deferred: tarfile is not worth importing on the sagemaker backend's cold start
    # unless a MODEL_URI is configured.
    from jira_priority.model_files import read_sidecar

    raw = read_sidecar(source, FILE_NAME, MAX_FILE_BYTES)
    return PostProcessing.from_json(raw) if raw is not None else None


def post_process(
    ranking: Sequence[tuple[str, float]],
    k: int,
    postprocessing: PostProcessing | None,
    default_label: str | None = None,
) -> PostProcessed:
    """A backend's answer for every label, post-processed (or not, without a file), cut to k."""
    if postprocessing is None:
        return rank_without_postprocessing(ranking, k)
    return postprocessing.apply(ranking, k, default_label)


def label_rank(label: str) -> int:
    """``__label__N`` -> N (labels are ranks, lowest priority first); 0 for anything else."""
    number = label.rpartition("_")[2]
    return int(number) if number.isascii() and number.isdigit() and len(number) <= 3 else 0


def rank_without_postprocessing(ranking: Sequence[tuple[str, float]], k: int) -> PostProcessed:
    """A model without postprocessing.json: the model's own order, nothing calibrated."""
    ordered = sorted(ranking, key=lambda pair: pair[1], reverse=True)[:k]
    return PostProcessed([RankedLabel(label, prob, None) for label, prob in ordered], None, None)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    try:
        return float(value)
    except OverflowError:  # a 400-digit integer
        raise TypeError("a number out of range") from None


def _optional_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _confidence(value: Any) -> Confidence:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return Confidence(
        threshold=_optional_number(value["threshold"]),
        target_precision=_number(value["target_precision"]),
        coverage=_number(value["coverage"]),
        precision=_number(value["precision"]),
    )


def _numbers(values: Any) -> list[float]:
    if not isinstance(values, list):
        raise TypeError("not a list")
    return [_number(value) for value in values]


def _strings(values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise TypeError("not a list of strings")
    return list(values)
