"""How much held-out data a figure or a fit may rest on: one rule for train-local and calibrate.

``train-local`` refuses a validation file of fewer than MIN_HELD_OUT_LINES lines
(its metrics and early stopping would be noise). ``calibrate`` fits the served
model's post-processing on such a file, where too little is worse than noise:
30 lines of one priority fitted a temperature of 0.085, after which every answer
claimed a calibrated probability of 1.0 and was called confident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path

from training_jobs.errors import CommandError

#: Fewest held-out lines a figure or a fit rests on.
MIN_HELD_OUT_LINES = 50
#: Fewest priorities among the lines post-processing is fitted on: with one, every
#: answer of that priority is right and the temperature runs to its bound.
MIN_CALIBRATION_PRIORITIES = 2


def check_calibration_lines(
    path: Path,
    labels: Sequence[str],
    model_labels: Collection[str],
    min_lines: int = MIN_HELD_OUT_LINES,
) -> None:
    """CommandError unless the labels of ``path``'s lines can be fitted on: each one the
    model answers, at least ``min_lines`` lines, of at least MIN_CALIBRATION_PRIORITIES."""
    counts = Counter(labels)
    unknown = sorted(set(counts) - set(model_labels))
    if unknown:
        raise CommandError(
            f"{path} has {sum(counts[label] for label in unknown)} line(s) labelled "
            f"{', '.join(unknown)}, which the model does not answer "
            f"(it knows {', '.join(sorted(model_labels))})"
        )
    if len(labels) < min_lines:
        raise CommandError(
            f"{path} has {len(labels)} line(s), fewer than {min_lines}: "
            "post-processing fitted on so few would be noise"
        )
    if len(counts) < MIN_CALIBRATION_PRIORITIES:
        raise CommandError(
            f"{path} holds lines of one priority only ({', '.join(counts)}): post-processing "
            f"needs lines of at least {MIN_CALIBRATION_PRIORITIES} priorities to be fitted on"
        )
