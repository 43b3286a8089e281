"""Fetched issues with ``priority_changes`` (the JSON lines ``fetch --changelog`` writes),
written by the tests of prepare --exclude-bot, monitor and the loop's end-to-end run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: The "Automation for Jira" user of Jira Cloud sites.
BOT_ID = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
BOT_NAME = "Automation for Jira"
PERSON_ID = "5b10ac8d82e05b22cc7d4ef5"
PERSON_NAME = "Ada Lovelace"
START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday: ISO week 2024-W10


def jira_time(moment: datetime) -> str:
    """A timestamp as Jira Cloud writes it: 2024-03-04T09:00:00.000+0000."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}+0000"
    )


def change(
    at: datetime, to: str, *, bot: bool, previous: str | None = "Major", **extra: Any
) -> dict[str, Any]:
    """One priority change by the bot or by a person."""
    return {
        "at": jira_time(at),
        "by": BOT_ID if bot else PERSON_ID,
        "by_name": BOT_NAME if bot else PERSON_NAME,
        "from": previous,
        "to": to,
        **extra,
    }


def issue(
    key: str,
    priority: str,
    changes: Sequence[dict[str, Any]] | None,
    *,
    summary: str = "",
    description: str = "",
    project: str = "ACME",
    created: datetime = START,
) -> dict[str, Any]:
    """One fetched issue; ``changes`` None writes no ``priority_changes`` field."""
    record: dict[str, Any] = {
        "key": key,
        "summary": summary or f"ticket {key} fails when the server restarts",
        "description": description,
        "priority": priority,
        "project": project,
        "issuetype": "Bug",
        "status": "Done",
        "created": jira_time(created),
    }
    if changes is not None:
        record["priority_changes"] = list(changes)
    return record


def write_issues(path: Path, issues: Sequence[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i) + "\n" for i in issues), encoding="utf-8")
    return path


def days(n: float) -> timedelta:
    return timedelta(days=n)
