"""Titles and priority names reach matplotlib as plain text: a ``$`` is a dollar, not mathtext."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_jobs.evaluation.metrics import compute_metrics
from training_jobs.evaluation.plots import write_plots
from training_jobs.evaluation.reliability_plot import reliability_plot

from jira_priority.labels import custom_scheme

#: Each of these is a mathtext ParseException when parsed: an unclosed group, an unknown command.
HOSTILE_TITLES = [r"$\frac{$", r"cost $x^$ and $", r"$\undefinedcommand$", "$$"]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_title_with_dollars_still_gives_every_plot(tmp_path: Path, title: str) -> None:
    scheme = custom_scheme("dollars", [r"$\low{$", "$mid$", r"$\high$"])
    low, mid, high = scheme.priorities
    metrics = compute_metrics([low, mid, high, high], [(low,), (high,), (high,), (mid,)], scheme)

    plots = write_plots(metrics, tmp_path, title)

    assert all(path.stat().st_size > 0 for path in plots.values())


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_reliability_title_and_curve_name_with_dollars_still_plot(
    tmp_path: Path, title: str
) -> None:
    curves = {title: ([0.2, 0.6, 0.9], [False, True, True])}

    path = reliability_plot(curves, title, tmp_path / "reliability.png")

    assert path.stat().st_size > 0
