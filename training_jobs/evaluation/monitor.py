"""``monitor``: how often people change the priority the bot (the Jira Automation rule) set.

Read from the ``priority_changes`` of ``fetch --changelog``; the definitions, which
``summary.md`` and ``monitor.json`` state too:

* **Decision**: the bot's *first* priority change of a ticket (a change whose ``by`` or
  ``by_name`` is one of the bot's accounts). Later changes of the same ticket by the bot
  are not new decisions.
* **Overridden**: someone other than the bot changes the ticket's priority within N days
  after the decision (at most N x 24 h later; the first such change says what it became).
* **Open**: a decision less than N days before ``as_of`` (the newest timestamp in the data,
  a priority change or an issue's ``created``, unless given): what people will do within
  its N days is not known yet. Open decisions are reported apart and enter no count and
  no rate: counting the ones already overridden would raise the rate, counting the rest
  as not overridden would lower it.
* **Override rate**: overridden / decisions, over the decisions that are not open; per
  priority the bot set, per project and per ISO week (Monday to Sunday, UTC) of the decision.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from training_jobs.data.changelog import Bots, ChangelogError, first_bot_change, parse_jira_time
from training_jobs.data.readers import ChangelogRecord, DatasetError, ReadStats, file_sha256
from training_jobs.evaluation.markdown import markdown_text, percent

DEFINITIONS = (
    "A decision is the bot's first priority change of a ticket (its accountId or display "
    "name as the change's author); later changes by the bot are not new decisions. It is "
    "overridden when someone other than the bot changes the priority within {days} days "
    "after it. Decisions less than {days} days before {as_of} (the newest timestamp in the "
    "data unless --as-of says otherwise) are open: what people do with them is not known "
    "yet, so they are reported apart and counted in no figure or rate. The override rate "
    "is overridden / decisions over the decisions that are not open; weeks are ISO weeks "
    "(Monday to Sunday, UTC) of the decision."
)
PLOT_FILE = "override_rate.png"
#: Actors listed when the bot made no change: whoever did change priorities.
ACTORS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Decision:
    """The bot's first priority change of one ticket, and what a person made of it."""

    key: str
    project: str
    at: datetime
    #: The priority the bot set.
    priority: str
    #: What someone else changed it to within the window (None: not overridden, so far).
    overridden_to: str | None
    #: Whether the window had not ended by ``as_of``.
    open: bool

    @property
    def overridden(self) -> bool:
        return self.overridden_to is not None

    @property
    def week(self) -> str:
        year, week, _ = self.at.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass
class Monitoring:
    """Every decision found, with what was read to find them."""

    decisions: list[Decision]
    as_of: datetime
    days: int
    tickets: int = 0
    with_changelog: int = 0
    #: Who changed priorities, by (by, by_name): shown when the bot made no change.
    actors: Counter[tuple[str, str]] = field(default_factory=Counter)


def _decision(
    record: ChangelogRecord, bots: Bots, window: timedelta, as_of: datetime
) -> Decision | None:
    changes = record.priority_changes or ()
    first = first_bot_change(changes, bots)
    if first is None:
        return None
    decision = changes[first]
    overridden_to = next(
        (
            change.to_priority
            for change in changes[first + 1 :]
            if not bots.made(change) and change.at - decision.at <= window
        ),
        None,
    )
    return Decision(
        key=record.key,
        project=record.project,
        at=decision.at,
        priority=decision.to_priority,
        overridden_to=overridden_to,
        open=as_of - decision.at < window,
    )


def _newest(records: Iterable[ChangelogRecord]) -> datetime | None:
    """The newest timestamp of the data: a priority change or an issue's creation."""
    moments = []
    for record in records:
        moments += [change.at for change in record.priority_changes or ()]
        with suppress(ChangelogError):  # a missing or odd "created" is one timestamp less
            moments.append(parse_jira_time(record.created))
    return max(moments, default=None)


def monitor(
    records: Sequence[ChangelogRecord], bots: Bots, days: int, as_of: datetime | None = None
) -> Monitoring:
    """The bot's decisions in ``records`` and whether people overrode them within ``days``.

    ``as_of`` (default: the newest timestamp in the data) must not be older than the data.
    """
    if days < 1:
        raise ValueError("the window must be at least one day")
    newest = _newest(records)
    if as_of is not None and newest is not None and as_of < newest:
        raise DatasetError(
            f"--as-of {as_of.isoformat()} is older than the data (its newest timestamp is "
            f"{newest.isoformat()}): a change after it would be counted"
        )
    moment = as_of or newest or datetime.now(UTC)
    window = timedelta(days=days)
    result = Monitoring([], moment, days, tickets=len(records))
    for record in records:
        if record.priority_changes is None:
            continue
        result.with_changelog += 1
        result.actors.update((change.by, change.by_name) for change in record.priority_changes)
        decision = _decision(record, bots, window, moment)
        if decision is not None:
            result.decisions.append(decision)
    result.decisions.sort(key=lambda d: (d.at, d.key))
    return result


def _rate(overridden: int, decided: int) -> float | None:
    return overridden / decided if decided else None


def _counts(decisions: Iterable[Decision]) -> dict[str, Any]:
    closed = [d for d in decisions if not d.open]
    overridden = sum(d.overridden for d in closed)
    return {
        "bot_set": len(closed),
        "overridden": overridden,
        "override_rate": _rate(overridden, len(closed)),
    }


def _grouped(decisions: Iterable[Decision], key: str) -> dict[str, list[Decision]]:
    groups: dict[str, list[Decision]] = {}
    for decision in decisions:
        groups.setdefault(getattr(decision, key), []).append(decision)
    return groups


def _weeks(decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """Every ISO week from the first decision's to the last one's, empty weeks included."""
    if not decisions:
        return []
    by_week = _grouped(decisions, "week")
    first, last = decisions[0].at.date(), decisions[-1].at.date()
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        year, week, _ = monday.isocalendar()
        name = f"{year}-W{week:02d}"
        group = by_week.get(name, [])
        weeks.append(
            {
                "week": name,
                "start": monday.isoformat(),
                **_counts(group),
                "open": sum(d.open for d in group),
            }
        )
        monday += timedelta(days=7)
    return weeks


def build_report(
    result: Monitoring, *, bots: Sequence[str], source: dict[str, Any]
) -> dict[str, Any]:
    """``monitor.json``: counts and rate, by priority, project and week, and the definitions."""
    decisions = result.decisions
    open_decisions = [d for d in decisions if d.open]
    by_priority = {}
    for priority, group in sorted(_grouped(decisions, "priority").items()):
        changed_to = Counter(d.overridden_to for d in group if not d.open and d.overridden_to)
        by_priority[priority] = {**_counts(group), "changed_to": dict(changed_to.most_common())}
    as_of = result.as_of.isoformat(timespec="seconds")
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": source,
        "bot": list(bots),
        "days": result.days,
        "as_of": as_of,
        "tickets": result.tickets,
        "tickets_with_changelog": result.with_changelog,
        **_counts(decisions),
        "open": {
            "bot_set": len(open_decisions),
            "overridden_so_far": sum(d.overridden for d in open_decisions),
            "since": (result.as_of - timedelta(days=result.days)).isoformat(timespec="seconds"),
        },
        "by_priority": by_priority,
        "by_project": {
            project or "(none)": _counts(group)
            for project, group in sorted(_grouped(decisions, "project").items())
        },
        "weeks": _weeks(decisions),
        "definitions": DEFINITIONS.format(days=result.days, as_of=as_of),
    }


def render_summary(report: dict[str, Any], plot: str | None) -> str:
    md = markdown_text
    days = report["days"]
    lines = [
        "# What people changed after the bot",
        "",
        f"- Input: {md(report['input']['path'])} ({report['tickets']} tickets, "
        f"{report['tickets_with_changelog']} with priority changes)",
        f"- Bot: {', '.join(md(b) for b in report['bot'])}",
        f"- Window: {days} days; data as of {report['as_of']}",
        f"- Decisions: **{report['bot_set']}**, overridden within {days} days: "
        f"**{report['overridden']}** ({percent(report['override_rate'])})",
        f"- Open (less than {days} days old, in no figure below): "
        f"{report['open']['bot_set']} decisions, {report['open']['overridden_so_far']} "
        "already overridden",
    ]
    read = report["input"].get("read") or {}
    if read.get("rows_rejected"):
        reasons = ", ".join(f"{md(name)} {n}" for name, n in read["rejected"].items())
        lines.append(f"- Rows skipped while reading: {read['rows_rejected']} ({reasons})")
    lines += [
        "",
        "## By the priority the bot set",
        "",
        "| Priority set | Decisions | Overridden | Rate | Changed to |",
        "|---|---:|---:|---:|---|",
    ]
    for priority, row in report["by_priority"].items():
        changed = ", ".join(f"{md(name)} {n}" for name, n in row["changed_to"].items())
        lines.append(
            f"| {md(priority) or '(none)'} | {row['bot_set']} | {row['overridden']} "
            f"| {percent(row['override_rate'])} | {changed} |"
        )
    if len(report["by_project"]) > 1:
        lines += ["", "## By project", "", "| Project | Decisions | Overridden | Rate |",
                  "|---|---:|---:|---:|"]  # fmt: skip
        for project, row in report["by_project"].items():
            lines.append(
                f"| {md(project)} | {row['bot_set']} | {row['overridden']} "
                f"| {percent(row['override_rate'])} |"
            )
    lines += [
        "",
        "## By week of the decision",
        "",
        "| Week | Decisions | Overridden | Rate | Open |",
        "|---|---:|---:|---:|---:|",
    ]
    for week in report["weeks"]:
        lines.append(
            f"| {week['week']} | {week['bot_set']} | {week['overridden']} "
            f"| {percent(week['override_rate'])} | {week['open']} |"
        )
    if plot:
        lines += ["", f"![override rate per week]({plot})"]
    lines += ["", "## Definitions", "", report["definitions"], ""]
    return "\n".join(lines)


def write_outputs(output_dir: Path, report: dict[str, Any]) -> dict[str, Any]:
    """monitor.json, summary.md and the plot of the rate per week into ``output_dir``."""
    from training_jobs.evaluation.loop_plots import plot_override_rate

    output_dir.mkdir(parents=True, exist_ok=True)
    plot_override_rate(report["weeks"], report["days"], output_dir / PLOT_FILE)
    report = {**report, "plot": PLOT_FILE}
    (output_dir / "monitor.json").write_text(
        json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (output_dir / "summary.md").write_text(render_summary(report, PLOT_FILE), encoding="utf-8")
    return report


def source_of(path: Path, stats: ReadStats) -> dict[str, Any]:
    return {"path": str(path), "sha256": file_sha256(path), "read": stats.as_dict()}
