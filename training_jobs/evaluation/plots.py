"""PNG plots of an evaluation: confusion heatmaps and per-class precision/recall bars.

matplotlib runs headless (Agg). Every figure has a fixed size and dpi and is
saved without ``bbox_inches="tight"``, so each PNG is exactly
``FIGURE_PIXELS`` wide and high: reports and docs can rely on it.

Titles and priority names come from the user (``evaluate --title``, a scheme
file): every figure is drawn under ``plain_text()``, so a ``$`` is a dollar sign,
never mathtext or LaTeX (``$x^$`` would otherwise stop the report with a
ParseException).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt

from training_jobs.evaluation.metrics import Metrics

FIGURE_INCHES = (8.0, 6.5)
DPI = 100
#: (width, height) of every PNG written here.
FIGURE_PIXELS = (round(FIGURE_INCHES[0] * DPI), round(FIGURE_INCHES[1] * DPI))


@contextmanager
def plain_text() -> Iterator[None]:
    """Every text made and drawn inside is shown as written: no mathtext, no LaTeX."""
    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        yield


def row_normalised(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Each row divided by its sum (recall on the diagonal); NaN rows for absent classes."""
    sums = counts.sum(axis=1, keepdims=True).astype(np.float64)
    out = np.full(counts.shape, np.nan, dtype=np.float64)
    np.divide(counts, sums, out=out, where=sums > 0)
    return out


@plain_text()
def _heatmap(
    values: npt.NDArray[np.float64],
    names: list[str],
    labels: list[str],
    title: str,
    colourbar_label: str,
    vmax: float,
    path: Path,
) -> Path:
    fig, ax = plt.subplots(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
    try:
        masked = np.ma.masked_invalid(values)
        cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#dddddd")
        image = ax.imshow(masked, cmap=cmap, vmin=0.0, vmax=max(vmax, 1e-9))
        fig.colorbar(image, ax=ax, label=colourbar_label)
        ticks = np.arange(len(names))
        ax.set_xticks(ticks, names, rotation=30, ha="right")
        ax.set_yticks(ticks, names)
        ax.set_xlabel("Predicted priority")
        ax.set_ylabel("True priority")
        ax.set_title(title)
        threshold = vmax / 2
        for row in range(values.shape[0]):
            for col in range(values.shape[1]):
                value = values[row, col]
                dark = bool(np.isfinite(value) and value > threshold)
                ax.text(
                    col,
                    row,
                    labels[row * values.shape[1] + col],
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if dark else "black",
                )
        fig.savefig(path, dpi=DPI, format="png")
    finally:
        plt.close(fig)
    return path


def _scheme_names(metrics: Metrics) -> list[str]:
    """The priorities of the evaluated scheme, lowest first (the matrix's order)."""
    return [c.priority.value for c in metrics.per_class]


def plot_confusion_counts(metrics: Metrics, path: Path, title: str) -> Path:
    """Heatmap of the raw counts, every cell annotated."""
    counts = metrics.confusion_array()
    labels = [str(int(v)) for v in counts.ravel()]
    return _heatmap(
        counts.astype(np.float64),
        _scheme_names(metrics),
        labels,
        f"{title}\nconfusion matrix (counts, n={metrics.count})",
        "tickets",
        float(counts.max()),
        path,
    )


def plot_confusion_normalised(metrics: Metrics, path: Path, title: str) -> Path:
    """Heatmap of each true class's share of predictions; absent classes grey and "n/a"."""
    normalised = row_normalised(metrics.confusion_array())
    labels = [f"{v:.2f}" if np.isfinite(v) else "n/a" for v in normalised.ravel()]
    return _heatmap(
        normalised,
        _scheme_names(metrics),
        labels,
        f"{title}\nconfusion matrix (row-normalised: share of each true priority)",
        "share of the true priority",
        1.0,
        path,
    )


@plain_text()
def plot_per_class(metrics: Metrics, path: Path, title: str) -> Path:
    """Precision and recall per priority; undefined values marked "n/a" instead of a bar."""
    fig, ax = plt.subplots(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
    try:
        x = np.arange(len(metrics.per_class))
        width = 0.38
        series = (
            ("precision", -width / 2, "#4c72b0"),
            ("recall", width / 2, "#dd8452"),
        )
        for name, offset, colour in series:
            values = [getattr(c, name) for c in metrics.per_class]
            heights = [v if v is not None else 0.0 for v in values]
            bars = ax.bar(x + offset, heights, width, label=name, color=colour)
            for bar, value in zip(bars, values, strict=True):
                text = "n/a" if value is None else f"{value:.2f}"
                ax.annotate(
                    text,
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color="#777777" if value is None else "black",
                )
        names = [f"{c.priority.value}\n(n={c.support})" for c in metrics.per_class]
        ax.set_xticks(x, names)
        ax.set_ylim(0.0, 1.1)
        ax.set_ylabel("score")
        ax.set_title(f"{title}\nper-class precision and recall")
        ax.legend(loc="upper left")
        ax.grid(axis="y", alpha=0.3)
        fig.savefig(path, dpi=DPI, format="png")
    finally:
        plt.close(fig)
    return path


def write_plots(metrics: Metrics, output_dir: Path, title: str) -> dict[str, Path]:
    """All three PNGs into ``output_dir``; returns them by kind."""
    output_dir.mkdir(parents=True, exist_ok=True)
    return {
        "confusion_counts": plot_confusion_counts(
            metrics, output_dir / "confusion_counts.png", title
        ),
        "confusion_normalised": plot_confusion_normalised(
            metrics, output_dir / "confusion_normalised.png", title
        ),
        "per_class": plot_per_class(metrics, output_dir / "per_class.png", title),
    }
