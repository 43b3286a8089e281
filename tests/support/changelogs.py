"""Fetched issues with ``priority_changes`` (the JSON lines ``fetch --changelog`` writes),
written by the tests of prepare --exclude-bot, monitor and the loop's end-to-end run."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
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


@dataclass
class SiteTruth:
    """What the generator did, to check monitor and prepare --exclude-bot against."""

    #: Per bot decision: (when, priority set, when a person changed it or None).
    decisions: list[tuple[datetime, str, datetime | None]] = field(default_factory=list)
    #: Tickets whose last priority change is the bot's.
    unconfirmed: int = 0
    #: Tickets a person changed after the bot.
    corrected: int = 0
    newest: datetime = START

    def counts(self, window_days: float = 7) -> dict[str, int]:
        """Closed decisions, those overridden within the window, open decisions."""
        window = days(window_days)
        closed = [d for d in self.decisions if self.newest - d[0] >= window]
        return {
            "bot_set": len(closed),
            "overridden": sum(1 for at, _, person in closed if person and person - at <= window),
            "open": len(self.decisions) - len(closed),
        }


def synthetic_site(
    n: int = 600, seed: int = 11, span_days: float = 84, mixed: float = 0.0
) -> tuple[list[dict[str, Any]], SiteTruth]:
    """A site's fetched bugs (text from tests/support/models.py's vocabularies) over
    ``span_days``: the bot set the priority of about half of those it did not answer Major
    (the default, which it keeps), right 70 % of the time; a person changed most wrong ones
    back, some within a week, some later, none after the fetch (the span's end). A ``mixed``
    share of the tickets has two words of its priority and two of another (either could be
    right)."""
    from tests.support.models import SIGNAL_WORDS, synthetic_text

    rng = random.Random(seed)
    priorities = list(SIGNAL_WORDS)
    weights = [1, 3, 6, 2, 1]  # Trivial .. Blocker: Major the most common
    truth = SiteTruth()
    issues = []
    for number in range(n):
        real = rng.choices(priorities, weights)[0].value
        created = START + days(span_days * number / n)
        changes: list[dict[str, Any]] = []
        current = real
        set_to = real if rng.random() < 0.7 else rng.choice(priorities).value
        if rng.random() < 0.5 and set_to != "Major":  # Major: the rule keeps the default
            at = created + timedelta(minutes=1)
            changes.append(change(at, set_to, bot=True))
            current, person_at = set_to, None
            fetched = START + days(span_days)  # nothing happens after the fetch
            if set_to != real and rng.random() < 0.7:
                person_at = at + days(rng.choice([0.5, 2, 6.5, 9, 20]))
            if person_at is not None and person_at <= fetched:
                changes.append(change(person_at, real, bot=False, previous=set_to))
                current = real
            else:
                person_at = None
            truth.decisions.append((at, set_to, person_at))
            if person_at is None:
                truth.unconfirmed += 1
            else:
                truth.corrected += 1
        elif real != "Major":
            changes.append(change(created + days(0.1), real, bot=False))
        for item in changes:
            truth.newest = max(truth.newest, datetime.fromisoformat(item["at"]))
        truth.newest = max(truth.newest, created)
        level = next(p for p in priorities if p.value == real)
        words = synthetic_text(level, rng)
        if rng.random() < mixed:  # as many words of another priority: either could be right
            other = rng.choice([p for p in priorities if p != level])
            mix = [*rng.sample(SIGNAL_WORDS[level], 2), *rng.sample(SIGNAL_WORDS[other], 2)]
            words = " ".join([*rng.sample(mix, len(mix)), "the", "server"])
        words += f" build{seed}x{number}"  # a word of its own: no two tickets have one text
        issues.append(issue(f"ACME-{number + 1}", current, changes, summary=words,
                            created=created))  # fmt: skip
    return issues, truth
