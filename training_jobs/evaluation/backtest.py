"""``backtest``: the Jira Automation rule's dry run on tickets whose priority is known.

The rule acts on each answer's ``action`` (README, "Set priorities from Jira"): ``set``
the answered priority, ``keep`` the default, or leave the ticket to ``triage`` with the
answer as a suggestion. Here every ticket is answered exactly as the service answers it
(``scorers.ClassifierRanker`` for a model file, the API's own answers with ``--api-url``)
and each action is held against the ticket's known priority:

* ``set`` is right when the priority it would set is the ticket's;
* ``keep`` is right when the ticket's priority is the default (what ``keep`` leaves);
* ``triage``'s answer (the suggestion a person would read) is right when it is the
  ticket's priority.

Beside them, the urgency table (``metrics.urgency_thresholds``): for each threshold, the
share of tickets a rule comparing ``urgency`` with it would flag, how many of those are
above the default (precision) and how many of the tickets above it it finds (recall).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_priority.labels import Level, PriorityScheme
from jira_priority.postprocessing import Action
from training_jobs.errors import CommandError
from training_jobs.evaluation.labelled import LabelledTicket
from training_jobs.evaluation.markdown import markdown_text, percent
from training_jobs.evaluation.metrics import urgency_table_lines, urgency_thresholds
from training_jobs.evaluation.scorers import Ranking

ACTIONS: tuple[Action, ...] = ("set", "keep", "triage")
PLOT_FILE = "backtest.png"
CONVENTIONS = (
    "Every ticket is answered as POST /predict answers it. set is right when the priority it "
    "would set is the ticket's; keep is right when the ticket's priority is the default; "
    "triage's answer (the suggestion a person reads) is right when it is the ticket's "
    "priority. Precision is right / answers of the action (n/a when there are none). Urgency: "
    "a ticket is urgent when its priority is above the default; flagged is the share of "
    "tickets whose urgency reaches the threshold, precision the share of those that are "
    "urgent, recall the share of urgent tickets flagged."
)


class NoActionError(CommandError):
    """The answers carry no action: the model has no post-processing that makes promises."""


def _precision(right: int, total: int) -> float | None:
    return right / total if total else None


def backtest(
    tickets: Sequence[LabelledTicket],
    rankings: Sequence[Ranking],
    actions: Sequence[Action | None],
    urgencies: Sequence[float | None],
    scheme: PriorityScheme,
) -> dict[str, Any]:
    """The rule's figures for answered tickets (every answer must carry an action)."""
    if not len(tickets) == len(rankings) == len(actions) == len(urgencies):
        raise ValueError("one ranking, action and urgency per ticket")
    if not tickets:
        raise ValueError("no tickets")
    missing = sum(action is None for action in actions)
    if missing:
        raise NoActionError(
            f"{missing} of {len(actions)} answers carry no action: the model has no "
            "post-processing with promises (postprocessing.json of format 3, which train-local "
            "and calibrate fit), so the rule would do nothing with them"
        )
    answered: list[Level] = [ranking[0] for ranking in rankings]
    counts: Counter[str] = Counter()
    right: Counter[str] = Counter()
    set_by_priority: dict[str, Counter[str]] = {}
    set_errors: Counter[str] = Counter()
    for ticket, answer, action in zip(tickets, answered, actions, strict=True):
        assert action is not None
        counts[action] += 1
        is_right = answer == ticket.priority
        right[action] += is_right
        if action == "set":
            tally = set_by_priority.setdefault(answer.value, Counter())
            tally["set"] += 1
            tally["right"] += is_right
            if not is_right:
                set_errors["too_high" if answer.rank > ticket.priority.rank else "too_low"] += 1
    precision = {a: _precision(right[a], counts[a]) for a in ACTIONS}
    default = scheme.default_level
    urgency = None
    if default is not None and None not in urgencies:
        urgency = urgency_thresholds(
            [u or 0.0 for u in urgencies], [t.priority.rank > default.rank for t in tickets]
        )
    order = {level.value: level.rank for level in scheme.priorities}
    return {
        "tickets": len(tickets),
        "actions": {a: counts[a] for a in ACTIONS},
        "set_precision": precision["set"],
        "keep_precision": precision["keep"],
        "triage_accuracy": precision["triage"],
        "right": {a: right[a] for a in ACTIONS},
        "precision": precision,
        "default_priority": default.value if default is not None else None,
        "tickets_at_default": (
            sum(t.priority == default for t in tickets) if default is not None else None
        ),
        "set_by_priority": {
            name: {
                "set": tally["set"],
                "right": tally["right"],
                "precision": _precision(tally["right"], tally["set"]),
            }
            for name, tally in sorted(set_by_priority.items(), key=lambda kv: -order[kv[0]])
        },
        "set_errors": {"too_high": set_errors["too_high"], "too_low": set_errors["too_low"]},
        "urgency_thresholds": urgency,
        "conventions": CONVENTIONS,
    }


def render_summary(report: dict[str, Any]) -> str:
    md = markdown_text
    n = report["tickets"]
    source = report["input"]
    predictor = ", ".join(f"{key}: {md(value)}" for key, value in report["predictor"].items())
    default = report["default_priority"]
    lines = [
        "# The rule's dry run",
        "",
        f"- Input: {md(source['path'])} ({source['format']}, {n} tickets with a known priority)",
        f"- Answered by: {predictor}",
        f"- Default priority: {md(default) if default else 'none declared'}"
        + (
            f" ({report['tickets_at_default']} tickets, {percent(report['tickets_at_default'] / n)}"
            ", have it)"
            if default
            else ""
        ),
        f"- Created: {report['created_at']}",
        "",
        "## What the rule would have done",
        "",
        "| Action | Tickets | Share | Right | Precision |",
        "|---|---:|---:|---:|---:|",
    ]
    for action in ACTIONS:
        count = report["actions"][action]
        name = "triage (its suggestion)" if action == "triage" else action
        lines.append(
            f"| {name} | {count} | {percent(count / n)} | {report['right'][action]} "
            f"| {percent(report['precision'][action])} |"
        )
    errors = report["set_errors"]
    lines += [
        "",
        f"Wrong `set` answers: {errors['too_high']} above the ticket's priority, "
        f"{errors['too_low']} below it.",
    ]
    if report["set_by_priority"]:
        lines += [
            "",
            "## What it would have set",
            "",
            "| Priority set | Tickets | Right | Precision |",
            "|---|---:|---:|---:|",
        ]
        for name, row in report["set_by_priority"].items():
            lines.append(
                f"| {md(name)} | {row['set']} | {row['right']} | {percent(row['precision'])} |"
            )
    if report.get("urgency_thresholds"):
        lines += ["", f"## Urgency (a priority above {md(default)})", ""]
        lines += urgency_table_lines(report["urgency_thresholds"])
    lines += ["", f"![the dry run]({report['plot']})", "", "## Conventions", "",
              report["conventions"], ""]  # fmt: skip
    return "\n".join(lines)


def write_outputs(
    output_dir: Path,
    figures: dict[str, Any],
    *,
    source: dict[str, Any],
    predictor: dict[str, str],
) -> dict[str, Any]:
    """backtest.json, summary.md and backtest.png into ``output_dir``; returns the report."""
    from training_jobs.evaluation.loop_plots import plot_backtest

    report = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": source,
        "predictor": predictor,
        **figures,
        "plot": PLOT_FILE,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    plot_backtest(report, output_dir / PLOT_FILE)
    (output_dir / "backtest.json").write_text(
        json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (output_dir / "summary.md").write_text(render_summary(report), encoding="utf-8")
    return report
