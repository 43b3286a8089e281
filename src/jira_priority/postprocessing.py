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
  over all labels. The calibrated probability of each priority is what the model
  and calibration data say about that priority, so the chosen priority's
  calibrated probability estimates how often such an answer is right.
* **Confidence**: the answer is flagged ``confident`` when the chosen priority's
  calibrated probability reaches a threshold chosen on the calibration data for a
  stated precision.

Pure Python (``math`` only): the Lambda zip carries no numpy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

#: The file beside model.bin (and inside model.tar.gz) that holds the corrections.
FILE_NAME = "postprocessing.json"
FORMAT_VERSION = 1
#: fastText adds 1e-5 before its softmax; nothing below this is distinguishable.
PROBABILITY_FLOOR = 1e-8
#: Largest postprocessing.json read: a few hundred bytes in practice.
MAX_FILE_BYTES = 64 * 1024


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
    #: Whether the top priority clears the confidence threshold; None without one.
    confident: bool | None


@dataclass(frozen=True)
class Confidence:
    """The threshold on the calibrated top probability and what it gave when fitted."""

    threshold: float
    target_precision: float
    #: Share of calibration tickets at or above the threshold, and how often they were right.
    coverage: float
    precision: float


@dataclass(frozen=True)
class PostProcessing:
    labels: tuple[str, ...]
    #: log of each label's share of the training data, in ``labels`` order.
    log_prior: tuple[float, ...]
    prior_weight: float
    temperature: float
    confidence: Confidence | None = None

    def __post_init__(self) -> None:
        if not self.labels or len(set(self.labels)) != len(self.labels):
            raise PostProcessingError("labels must be distinct and not empty")
        if len(self.log_prior) != len(self.labels):
            raise PostProcessingError("log_prior needs one value per label")
        numbers = (*self.log_prior, self.prior_weight, self.temperature)
        if not all(math.isfinite(value) for value in numbers):
            raise PostProcessingError("every value must be a finite number")
        if any(value > 0 for value in self.log_prior):
            raise PostProcessingError("log_prior values are logs of shares: at most 0")
        if not 0 <= self.prior_weight <= 5:
            raise PostProcessingError("prior_weight must be between 0 and 5")
        if not 0.01 <= self.temperature <= 100:
            raise PostProcessingError("temperature must be between 0.01 and 100")
        if self.confidence is not None and not 0 <= self.confidence.threshold <= 1:
            raise PostProcessingError("the confidence threshold must be between 0 and 1")

    # --- applying ---------------------------------------------------------------

    def scores(self, probabilities: Mapping[str, float]) -> tuple[list[float], list[float]]:
        """Decision scores and calibrated probabilities, in ``labels`` order.

        ``probabilities`` must hold every label (a backend asked for all of them);
        a label the model does not know is refused.
        """
        unknown = set(probabilities) - set(self.labels)
        if unknown:
            raise PostProcessingError(f"labels outside the post-processing: {sorted(unknown)}")
        log_p = [
            math.log(max(probabilities.get(label, 0.0), PROBABILITY_FLOOR)) for label in self.labels
        ]
        weight = self.prior_weight
        decision = [lp - weight * prior for lp, prior in zip(log_p, self.log_prior, strict=True)]
        scaled = [lp / self.temperature for lp in log_p]
        top = max(scaled)
        exps = [math.exp(value - top) for value in scaled]
        total = sum(exps)
        return decision, [value / total for value in exps]

    def apply(self, ranking: Sequence[tuple[str, float]], k: int) -> PostProcessed:
        """The best ``k`` labels by corrected score, with raw and calibrated probabilities."""
        probabilities = dict(ranking)
        decision, calibrated = self.scores(probabilities)
        order = sorted(range(len(self.labels)), key=lambda i: decision[i], reverse=True)
        ranked = [
            RankedLabel(self.labels[i], probabilities.get(self.labels[i], 0.0), calibrated[i])
            for i in order[:k]
        ]
        confident = None
        if self.confidence is not None:
            confident = calibrated[order[0]] >= self.confidence.threshold
        return PostProcessed(ranked, confident)

    # --- the file -----------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "labels": list(self.labels),
            "log_prior": list(self.log_prior),
            "prior_weight": self.prior_weight,
            "temperature": self.temperature,
            "confidence": asdict(self.confidence) if self.confidence is not None else None,
        }

    def to_json(self, extra: Mapping[str, Any] | None = None) -> str:
        """The file's text; ``extra`` (how it was fitted) is kept but never read back."""
        return json.dumps({**self.as_dict(), **(extra or {})}, indent=2) + "\n"

    @classmethod
    def from_json(cls, raw: bytes | str) -> PostProcessing:
        if len(raw) > MAX_FILE_BYTES:
            raise PostProcessingError(f"{FILE_NAME} is larger than {MAX_FILE_BYTES} bytes")
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PostProcessingError(f"{FILE_NAME} is not JSON") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise PostProcessingError(f"{FILE_NAME} is not format {FORMAT_VERSION}")
        try:
            confidence = data.get("confidence")
            return cls(
                labels=tuple(_strings(data["labels"])),
                log_prior=tuple(_numbers(data["log_prior"])),
                prior_weight=_number(data["prior_weight"]),
                temperature=_number(data["temperature"]),
                confidence=(
                    Confidence(
                        threshold=_number(confidence["threshold"]),
                        target_precision=_number(confidence["target_precision"]),
                        coverage=_number(confidence["coverage"]),
                        precision=_number(confidence["precision"]),
                    )
                    if confidence is not None
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
    ranking: Sequence[tuple[str, float]], k: int, postprocessing: PostProcessing | None
) -> PostProcessed:
    """A backend's answer for every label, post-processed (or not, without a file), cut to k."""
    if postprocessing is None:
        return rank_without_postprocessing(ranking, k)
    return postprocessing.apply(ranking, k)


def rank_without_postprocessing(ranking: Sequence[tuple[str, float]], k: int) -> PostProcessed:
    """A model without postprocessing.json: the model's own order, nothing calibrated."""
    ordered = sorted(ranking, key=lambda pair: pair[1], reverse=True)[:k]
    return PostProcessed([RankedLabel(label, prob, None) for label, prob in ordered], None)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return float(value)


def _numbers(values: Any) -> list[float]:
    if not isinstance(values, list):
        raise TypeError("not a list")
    return [_number(value) for value in values]


def _strings(values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise TypeError("not a list of strings")
    return list(values)
