"""How far stated probabilities are from observed accuracy (top-1 answers).

Equal-width bins over [0, 1] (ten by default), the convention of Guo et al.
(2017): ECE is the support-weighted mean of |accuracy - mean confidence| over
the bins; the reliability curve is each non-empty bin's (mean confidence,
accuracy, count), what the reliability plot draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DEFAULT_BINS = 10


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float


def _bin_index(confidence: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.int64]:
    return np.minimum((confidence * bins).astype(np.int64), bins - 1)


def reliability_bins(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, bins: int = DEFAULT_BINS
) -> list[ReliabilityBin]:
    """The non-empty bins of top-1 confidences with how often those answers were right."""
    conf = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)
    right = np.asarray(correct, dtype=np.float64)
    which = _bin_index(conf, bins)
    result = []
    for b in range(bins):
        members = which == b
        if members.any():
            result.append(
                ReliabilityBin(
                    lower=b / bins,
                    upper=(b + 1) / bins,
                    count=int(members.sum()),
                    mean_confidence=float(conf[members].mean()),
                    accuracy=float(right[members].mean()),
                )
            )
    return result


def expected_calibration_error(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, bins: int = DEFAULT_BINS
) -> float:
    """ECE of top-1 answers; 0.0 for no answers."""
    curve = reliability_bins(confidence, correct, bins)
    total = sum(b.count for b in curve)
    if total == 0:
        return 0.0
    return float(sum(b.count / total * abs(b.mean_confidence - b.accuracy) for b in curve))
