"""What ``evaluate`` scores: labelled tickets from a ticket file or a prepared file.

A ticket file (tutorial CSV, Jira export, JSON lines, gzipped or not) keeps
its projects; a prepared BlazingText file gets them back from the ticket file
it was made from (``projects_from``) or, for a hold-out file, from its manifest.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jira_priority.labels import DEFAULT_SCHEME, LABEL_PREFIX, Level, PriorityScheme
from jira_priority.text import MAX_TOKENS, normalise_ticket
from training_jobs.data.manifest import holdout_project_of, prepare_settings
from training_jobs.data.readers import (
    DatasetError,
    ReadStats,
    file_sha256,
    read_prepared,
    read_tickets,
)

UNKNOWN_PROJECT = "(unknown)"


@dataclass(frozen=True, slots=True)
class LabelledTicket:
    title: str
    description: str
    priority: Level
    project: str = ""


@dataclass
class LabelledData:
    tickets: list[LabelledTicket]
    #: What was read and how: path, format, digest, rows rejected by reason.
    source: dict[str, Any]


def _head(path: Path, size: int = 4096) -> str:
    """The first ``size`` bytes of the file, gunzipped if needed, as text."""
    try:
        with path.open("rb") as raw:
            is_gzip = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            if is_gzip:
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    return unzipped.read(size).decode("utf-8", errors="replace")
            return raw.read(size).decode("utf-8", errors="replace")
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc


def detect_format(path: Path) -> str:
    """``prepared`` for a BlazingText file (lines start with ``__label__``), else ``tickets``."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    head = _head(path).lstrip("\ufeff \t\r\n")
    return "prepared" if head.startswith(LABEL_PREFIX) else "tickets"


def project_lookup(tickets_path: Path, max_tokens: int = MAX_TOKENS) -> dict[str, str]:
    """Normalised text -> project, from the ticket file a prepared file was made from.

    ``prepare`` drops duplicate texts, so a text names one ticket; a text that
    two projects share maps to "" (unknown) rather than to either of them.
    """
    lookup: dict[str, str] = {}
    for ticket in read_tickets(tickets_path, require_priority=False):
        text = normalise_ticket(ticket.title, ticket.description, max_tokens)
        if lookup.setdefault(text, ticket.project) != ticket.project:
            lookup[text] = ""
    return lookup


def read_labelled(
    path: Path,
    input_format: str = "auto",
    projects: Sequence[str] = (),
    limit: int | None = None,
    projects_from: Path | None = None,
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> LabelledData:
    """The labelled tickets of ``path``.

    ``projects`` keeps only those projects' tickets (case-insensitive).
    ``projects_from`` (prepared files only) is the ticket file they were made
    from, to recover each line's project for a per-project breakdown.
    """
    if input_format == "auto":
        input_format = detect_format(path)
    wanted = {p.strip().casefold() for p in projects}
    tickets: list[LabelledTicket] = []
    source: dict[str, Any] = {"path": str(path), "format": input_format}
    if input_format == "prepared":
        if wanted:
            raise DatasetError(
                f"{path}: a prepared BlazingText file has no project column; "
                "select projects on the ticket file (or hold them out in prepare)"
            )
        project = holdout_project_of(path)
        if project:
            source["holdout_project"] = project
        lookup: dict[str, str] = {}
        if projects_from is not None:
            max_tokens = prepare_settings(path).get("max_tokens", MAX_TOKENS)
            lookup = project_lookup(projects_from, int(max_tokens))
            source["projects_from"] = str(projects_from)
        for example in read_prepared(path, scheme):
            # Prepared text is already normalised. As a description (no title, so the title
            # is not weighed again) normalising it again changes nothing.
            tickets.append(
                LabelledTicket(
                    "",
                    example.text,
                    example.level(scheme),
                    project or lookup.get(example.text, ""),
                )
            )
            if limit is not None and len(tickets) >= limit:
                break
        source["lines_read"] = len(tickets)
        if projects_from is not None:
            source["lines_with_project"] = sum(1 for t in tickets if t.project)
    elif input_format == "tickets":
        if projects_from is not None:
            raise ValueError("--projects-from is for prepared files; a ticket file has projects")
        stats = ReadStats()
        for ticket in read_tickets(path, stats=stats, scheme=scheme):
            if wanted and ticket.project.casefold() not in wanted:
                continue
            priority = ticket.level(scheme)
            if priority is None:  # read_tickets already rejects these; be explicit anyway
                continue
            tickets.append(
                LabelledTicket(ticket.title, ticket.description, priority, ticket.project)
            )
            if limit is not None and len(tickets) >= limit:
                break
        source["read"] = stats.as_dict()
    else:
        raise ValueError(f"unknown input format {input_format!r}")
    if wanted:
        source["projects"] = sorted(projects)
    if limit is not None:
        source["limit"] = limit
    source["sha256"] = file_sha256(path)
    source["tickets"] = len(tickets)
    if not tickets:
        raise DatasetError(f"{path}: no labelled tickets to evaluate")
    return LabelledData(tickets, source)
