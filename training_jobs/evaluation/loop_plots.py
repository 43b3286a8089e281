"""PNG plots of the loop with Jira: the override rate per week (``monitor``) and the rule's dry
run (``backtest``).

Same size and dpi as the evaluation plots (``plots.FIGURE_PIXELS``). Priority names come
from the site: every figure is drawn with mathtext and LaTeX off, so a ``$`` is a dollar
sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from training_jobs.evaluation.plots import DPI, FIGURE_INCHES, plain_text

#: Week labels shown at most (every n-th week otherwise).
MAX_WEEK_LABELS = 16
ACTIONS = ("set", "keep", "triage")


def plot_override_rate(weeks: Sequence[dict[str, Any]], days: int, path: Path) -> Path:
    """Decisions per ISO week (bars; open ones hatched) and the share overridden (line)."""
    with plain_text():
        fig, ax = plt.subplots(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
        try:
            ax.set_title(f"Share of the bot's priorities a person changed within {days} days")
            if not weeks:
                ax.text(0.5, 0.5, "no decision of the bot in the data", ha="center",
                        va="center", transform=ax.transAxes)  # fmt: skip
                ax.set_axis_off()
            else:
                _weekly(ax, weeks)
            fig.savefig(path, dpi=DPI, format="png")
        finally:
            plt.close(fig)
    return path


def _weekly(ax: Any, weeks: Sequence[dict[str, Any]]) -> None:
    x = np.arange(len(weeks))
    closed = np.array([w["bot_set"] for w in weeks], dtype=float)
    open_ = np.array([w["open"] for w in weeks], dtype=float)
    counts = ax.twinx()
    counts.bar(x, closed, color="#c8d3e0", label="decisions")
    counts.bar(x, open_, bottom=closed, color="white", edgecolor="#8899aa", hatch="//",
               label="open (window not over)")  # fmt: skip
    counts.set_ylabel("decisions of the bot")
    counts.set_ylim(0, max(1.0, float((closed + open_).max()) * 1.15))
    rate = np.array(
        [w["override_rate"] if w["override_rate"] is not None else np.nan for w in weeks]
    )
    ax.set_zorder(counts.get_zorder() + 1)  # the line above the bars
    ax.patch.set_visible(False)
    ax.plot(x, rate, marker="o", color="#c44e52", label="overridden")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share overridden")
    step = max(1, -(-len(weeks) // MAX_WEEK_LABELS))
    ax.set_xticks(x[::step], [w["week"] for w in weeks][::step], rotation=45, ha="right")
    ax.set_xlabel("ISO week of the decision")
    ax.grid(axis="y", alpha=0.3)
    handles = ax.get_legend_handles_labels()
    more = counts.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left")


def plot_backtest(report: dict[str, Any], path: Path) -> Path:
    """Left: tickets per action, right and wrong; right: urgency precision and recall."""
    with plain_text():
        fig, (left, right) = plt.subplots(
            1, 2, figsize=FIGURE_INCHES, dpi=DPI, layout="constrained"
        )
        try:
            fig.suptitle(f"The rule's dry run on {report['tickets']} tickets")
            actions = report["actions"]
            right_counts = np.array([report["right"][a] for a in ACTIONS], dtype=float)
            totals = np.array([actions[a] for a in ACTIONS], dtype=float)
            x = np.arange(len(ACTIONS))
            left.bar(x, right_counts, color="#55a868", label="right")
            left.bar(x, totals - right_counts, bottom=right_counts, color="#c44e52",
                     label="wrong")  # fmt: skip
            for index, action in enumerate(ACTIONS):
                share = report["precision"][action]
                text = "n/a" if share is None else f"{share:.0%} right"
                left.annotate(text, (index, totals[index]), xytext=(0, 2),
                              textcoords="offset points", ha="center", va="bottom",
                              fontsize=9)  # fmt: skip
            left.set_xticks(x, ["set", "keep", "triage (its answer)"])
            left.set_ylabel("tickets")
            left.set_ylim(0, max(1.0, float(totals.max()) * 1.15))
            left.set_title("What the rule would have done")
            left.legend(loc="upper right")
            rows = report.get("urgency_thresholds") or []
            if rows:
                thresholds = [r["threshold"] for r in rows]
                for name, colour in (("precision", "#4c72b0"), ("recall", "#dd8452")):
                    values = [np.nan if r[name] is None else r[name] for r in rows]
                    right.plot(thresholds, values, marker="o", color=colour, label=name)
                shares = [r["share_flagged"] for r in rows]
                right.plot(thresholds, shares, linestyle="--", color="#777777",
                           label="share flagged")  # fmt: skip
                right.set_ylim(0, 1.05)
                right.set_xlabel("urgency threshold")
                right.legend(loc="upper right")
                right.grid(alpha=0.3)
            else:
                right.text(0.5, 0.5, "no urgency in the answers", ha="center", va="center",
                           transform=right.transAxes)  # fmt: skip
                right.set_axis_off()
            right.set_title(f"Urgency: above {report.get('default_priority') or 'the default'}")
            fig.savefig(path, dpi=DPI, format="png")
        finally:
            plt.close(fig)
    return path
