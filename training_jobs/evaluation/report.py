"""The report of an evaluation: figures beside the majority baseline, per project, as files.

The output directory receives:

* ``report.json``: every figure, beside the majority-class baseline on the
  same tickets, per class, and per project with ``--by-project``;
* ``summary.md``: the same for people, with the plots embedded;
* ``confusion_counts.png``, ``confusion_normalised.png``, ``per_class.png``.

The figures and their conventions (undefined precision/recall, macro averages
over the classes present) are those of ``training_jobs.evaluation.metrics``.
Text from outside (the title, project names, paths, priority names) goes into
``summary.md`` through ``markdown_text``, so it cannot end a table cell, start a
heading, or become HTML.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_priority.labels import DEFAULT_SCHEME, Level, PriorityScheme
from training_jobs.evaluation.labelled import UNKNOWN_PROJECT, LabelledTicket
from training_jobs.evaluation.markdown import markdown_text
from training_jobs.evaluation.metrics import (
    HEADLINE_METRICS,
    Metrics,
    compute_metrics,
    conventions,
    majority_baseline,
    majority_ranking,
    urgency_table_lines,
)
from training_jobs.evaluation.plots import FIGURE_PIXELS, write_plots
from training_jobs.evaluation.scorers import (
    Ranking,
)


@dataclass
class Evaluation:
    """The model's figures and the majority baseline's on the same tickets."""

    metrics: Metrics
    baseline: Metrics
    majority: tuple[Level, Level]
    scheme: PriorityScheme = DEFAULT_SCHEME


def evaluate_rankings(
    tickets: Sequence[LabelledTicket],
    rankings: Sequence[Ranking],
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> Evaluation:
    y_true = [t.priority for t in tickets]
    return Evaluation(
        compute_metrics(y_true, rankings, scheme),
        majority_baseline(y_true, scheme),
        majority_ranking(y_true, scheme),
        scheme,
    )


def per_project(
    tickets: Sequence[LabelledTicket],
    rankings: Sequence[Ranking],
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> dict[str, Evaluation]:
    """One Evaluation per project (each with its own majority baseline), by project name."""
    groups: dict[str, tuple[list[LabelledTicket], list[Ranking]]] = {}
    for ticket, ranking in zip(tickets, rankings, strict=True):
        group = groups.setdefault(ticket.project or UNKNOWN_PROJECT, ([], []))
        group[0].append(ticket)
        group[1].append(ranking)
    return {name: evaluate_rankings(*groups[name], scheme) for name in sorted(groups)}


def _comparison(evaluation: Evaluation) -> dict[str, dict[str, float]]:
    model, base = evaluation.metrics.headline(), evaluation.baseline.headline()
    return {
        name: {"model": model[name], "baseline": base[name], "difference": model[name] - base[name]}
        for name in HEADLINE_METRICS
    }


def _evaluation_dict(evaluation: Evaluation) -> dict[str, Any]:
    majority, runner_up = evaluation.majority
    return {
        "count": evaluation.metrics.count,
        "majority_baseline": {"always": majority.value, "top2": [majority.value, runner_up.value]},
        "comparison": _comparison(evaluation),
        "metrics": evaluation.metrics.as_dict(),
        "baseline": evaluation.baseline.as_dict(),
    }


def build_report(
    evaluation: Evaluation,
    projects: dict[str, Evaluation] | None,
    *,
    title: str,
    source: dict[str, Any],
    predictor: dict[str, str],
    k: int,
    plots: dict[str, str],
    urgency: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "title": title,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": source,
        "predictor": predictor,
        "k": k,
        **_evaluation_dict(evaluation),
        "per_project": (
            {name: _evaluation_dict(e) for name, e in projects.items()}
            if projects is not None
            else None
        ),
        "plots": plots,
        "urgency_thresholds": urgency,
        "conventions": conventions(evaluation.scheme),
    }


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _signed(value: float) -> str:
    return f"{value:+.3f}"


def render_summary(report: dict[str, Any]) -> str:
    """The Markdown summary of a report made by ``build_report``."""
    md = markdown_text
    always = md(report["majority_baseline"]["always"])
    top2 = " + ".join(md(name) for name in report["majority_baseline"]["top2"])
    source = report["input"]
    predictor = ", ".join(f"{key}: {md(value)}" for key, value in report["predictor"].items())
    projects = ", ".join(md(p) for p in source.get("projects") or [])
    lines = [
        f"# {md(report['title'])}",
        "",
        f"- Input: {md(source['path'])} ({source['format']}, {report['count']} labelled tickets"
        + (f", projects {projects}" if projects else "")
        + ")",
        f"- Predictor: {predictor}",
        *(
            [
                f"- Held-out project: **{md(source['holdout_project'])}** "
                "(no ticket of it in training)"
            ]
            if source.get("holdout_project")
            else []
        ),
        *(
            [
                f"- Projects of the prepared lines matched from {md(source['projects_from'])} "
                f"({source['lines_with_project']} of {source['lines_read']} lines)"
            ]
            if source.get("projects_from")
            else []
        ),
        f"- Majority baseline: always **{always}** (top-2: {top2}), computed on the same tickets",
        f"- Created: {report['created_at']}",
    ]
    read = source.get("read")
    if read and read.get("rows_rejected"):
        reasons = ", ".join(f"{name} {n}" for name, n in read["rejected"].items())
        lines.append(f"- Rows skipped while reading: {read['rows_rejected']} ({reasons})")
    lines += [
        "",
        "## Overall",
        "",
        f"| Metric | Model | Majority baseline ({always}) | Difference |",
        "|---|---:|---:|---:|",
    ]
    for name, label in HEADLINE_METRICS.items():
        row = report["comparison"][name]
        note = " (lower is better)" if name == "mean_absolute_error" else ""
        lines.append(
            f"| {label}{note} | {_number(row['model'])} | {_number(row['baseline'])} "
            f"| {_signed(row['difference'])} |"
        )
    lines += [
        "",
        "## Per class",
        "",
        "| Priority | Support | Predicted | Precision | Recall | F1 | Baseline recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    baseline_classes = {c["priority"]: c for c in report["baseline"]["per_class"]}
    for cls in report["metrics"]["per_class"]:
        base = baseline_classes[cls["priority"]]
        lines.append(
            f"| {md(cls['priority'])} | {cls['support']} | {cls['predicted']} "
            f"| {_number(cls['precision'])} | {_number(cls['recall'])} | {_number(cls['f1'])} "
            f"| {_number(base['recall'])} |"
        )
    matrix = report["metrics"]["confusion_matrix"]
    lines += [
        "",
        "## Confusion matrix (rows: true, columns: predicted)",
        "",
        "| true \\ predicted | " + " | ".join(md(name) for name in matrix["labels"]) + " |",
        "|---|" + "---:|" * len(matrix["labels"]),
    ]
    for name, row in zip(matrix["labels"], matrix["counts"], strict=True):
        lines.append(f"| {md(name)} | " + " | ".join(str(v) for v in row) + " |")
    if report.get("per_project"):
        lines += [
            "",
            "## Per project",
            "",
            "Each cell: model (majority baseline of that project's tickets).",
            "",
            "| Project | n | Majority | Accuracy | Macro-F1 | Balanced accuracy "
            "| Within-one | Mean abs. error |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        columns = (
            "accuracy",
            "macro_f1",
            "balanced_accuracy",
            "within_one_accuracy",
            "mean_absolute_error",
        )
        for name, project in report["per_project"].items():
            cells = [
                f"{_number(project['comparison'][c]['model'])} "
                f"({_number(project['comparison'][c]['baseline'])})"
                for c in columns
            ]
            lines.append(
                f"| {md(name)} | {project['count']} "
                f"| {md(project['majority_baseline']['always'])} | " + " | ".join(cells) + " |"
            )
    if report.get("urgency_thresholds"):
        lines += ["", "## Urgency (a priority above the default)", ""]
        lines += urgency_table_lines(report["urgency_thresholds"])
    if report.get("plots"):
        width, height = FIGURE_PIXELS
        lines += ["", f"## Plots ({width}x{height} PNG)", ""]
        for kind, file_name in report["plots"].items():
            lines.append(f"![{kind.replace('_', ' ')}]({file_name})")
            lines.append("")
    lines += ["", "## Conventions", "", report["conventions"], ""]
    return "\n".join(lines)


def write_outputs(
    output_dir: Path,
    evaluation: Evaluation,
    projects: dict[str, Evaluation] | None,
    *,
    title: str,
    source: dict[str, Any],
    predictor: dict[str, str],
    k: int,
    urgency: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """report.json, summary.md and the PNGs into ``output_dir``; returns the report.

    ``urgency``: the urgency threshold table (``metrics.urgency_thresholds``), when every
    answer carried an urgency."""
    output_dir.mkdir(parents=True, exist_ok=True)
    plot_paths = write_plots(evaluation.metrics, output_dir, title)
    plots = {kind: path.name for kind, path in plot_paths.items()}
    report = build_report(
        evaluation,
        projects,
        title=title,
        source=source,
        predictor=predictor,
        k=k,
        plots=plots,
        urgency=urgency,
    )
    (output_dir / "report.json").write_text(
        json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (output_dir / "summary.md").write_text(render_summary(report), encoding="utf-8")
    return report
