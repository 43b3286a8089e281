"""Reliability plots: stated top-1 probability against how often those answers were right.

A calibrated model's points lie on the diagonal. Same conventions as
``training_jobs.plots``: headless, fixed size and dpi, so every PNG is
``FIGURE_PIXELS``, and every text plain (``plain_text``: a ``$`` is a dollar).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from training_jobs.evaluation.calibration import expected_calibration_error, reliability_bins
from training_jobs.evaluation.plots import DPI, FIGURE_INCHES, plain_text

#: name -> (top-1 confidence, whether the answer was right) per ticket.
Curves = Mapping[str, tuple[Sequence[float], Sequence[bool]]]


@plain_text()
def reliability_plot(curves: Curves, title: str, path: Path) -> Path:
    """Write a PNG with one line per curve (marker area ~ tickets in the bin) and the diagonal."""
    fig, (ax, counts_ax) = plt.subplots(
        2, 1, figsize=FIGURE_INCHES, dpi=DPI, height_ratios=(3, 1), sharex=True,
        layout="constrained",
    )  # fmt: skip
    try:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="calibrated")
        for name, (confidence, correct) in curves.items():
            bins = reliability_bins(confidence, correct)
            ece = expected_calibration_error(confidence, correct)
            total = sum(b.count for b in bins) or 1
            xs = [b.mean_confidence for b in bins]
            line = ax.plot(
                xs, [b.accuracy for b in bins], marker="o", label=f"{name} (ECE {ece:.3f})"
            )[0]
            ax.scatter(
                xs, [b.accuracy for b in bins], s=[400 * b.count / total for b in bins],
                color=line.get_color(), alpha=0.3,
            )  # fmt: skip
            counts_ax.plot(xs, [b.count / total for b in bins], marker=".", color=line.get_color())
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_ylabel("Observed accuracy")
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize="small")
        ax.grid(alpha=0.3)
        counts_ax.set_xlabel("Stated probability of the top answer (10 bins)")
        counts_ax.set_ylabel("Share of tickets")
        counts_ax.grid(alpha=0.3)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI)
    finally:
        plt.close(fig)
    return path
