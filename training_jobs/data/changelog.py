"""Who changed a ticket's priority, and when: the ``priority_changes`` of ``fetch --changelog``.

Each fetched issue may carry ``"priority_changes"``: every change of its priority,
oldest first, as Jira's changelog records it::

    {"at": "2024-03-01T10:15:30.123+0000", "by": "<accountId, or name on Data Center>",
     "by_name": "<displayName>", "from": "<name or null>", "to": "<name>"}

Parsed here into ``PriorityChange`` values (times timezone-aware, in UTC) or refused
as a whole with ``ChangelogError``: a reader counts such a row as rejected, never a
traceback. The bot (the Jira Automation rule's actor) is named by its accountId,
its Data Center name or its display name, compared without case (``Bots``).

Two readings of one ticket's changes, used by ``prepare --exclude-bot`` and ``monitor``:

* ``review``: is its current priority the bot's, unconfirmed by anyone (the last change
  is the bot's), or did a person change it after the bot (a correction)?
* ``first_bot_change``: the bot's first change, the one decision ``monitor`` follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

#: Longest timestamp accepted (Jira's are 28 characters).
MAX_TIMESTAMP_CHARS = 64
#: Longest actor or priority name accepted (Jira's accountIds are at most 128 characters).
MAX_NAME_CHARS = 256
#: Most priority changes one issue may carry; more is not a changelog but garbage.
MAX_CHANGES = 10_000
#: Timestamps outside these are not a Jira site's (Jira is from 2002): refusing them keeps
#: date arithmetic and the weeks ``monitor`` lists bounded.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class ChangelogError(ValueError):
    """A ``priority_changes`` value that is not a list of well-formed changes."""


def parse_jira_time(value: Any) -> datetime:
    """A Jira timestamp as an aware UTC datetime.

    Jira Cloud and Data Center write ``2024-03-01T10:15:30.123+0000``; ``Z`` and
    ``+00:00`` are read too. A time without a zone is refused: it names no instant.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TIMESTAMP_CHARS:
        raise ChangelogError("a timestamp must be a string like 2024-03-01T10:15:30.123+0000")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ChangelogError(f"not a timestamp: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ChangelogError(f"a timestamp without a time zone: {value!r}")
    try:
        moment = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        moment = EARLIEST - timedelta(days=1)
    if not EARLIEST <= moment < LATEST:
        raise ChangelogError(f"a timestamp outside {EARLIEST.year}-{LATEST.year - 1}: {value!r}")
    return moment


@dataclass(frozen=True, slots=True)
class PriorityChange:
    """One change of a ticket's priority: when, by whom, from what to what."""

    at: datetime
    #: The actor's accountId (Cloud) or name/key (Data Center); "" when Jira names none.
    by: str
    by_name: str
    #: The priority before (None when the ticket had none) and after ("" when cleared).
    from_priority: str | None
    to_priority: str


def _name(change: dict[str, Any], field: str, *, nullable: bool) -> str | None:
    value = change.get(field)
    if value is None:
        return None if nullable else ""
    if not isinstance(value, str) or len(value) > MAX_NAME_CHARS:
        raise ChangelogError(f"{field!r} must be a string of at most {MAX_NAME_CHARS} characters")
    return value.strip()


def parse_priority_changes(value: Any) -> tuple[PriorityChange, ...]:
    """The changes of one issue's ``priority_changes`` value, oldest first.

    ``by``, ``by_name`` and ``to`` may be null (a change Jira attributes to no user, a
    priority cleared); anything else malformed raises ChangelogError. Changes out of
    order are sorted by time (stable, so equal times keep the file's order).
    """
    if not isinstance(value, list):
        raise ChangelogError("priority_changes must be a list")
    if len(value) > MAX_CHANGES:
        raise ChangelogError(f"more than {MAX_CHANGES} priority changes on one issue")
    changes = []
    for item in value:
        if not isinstance(item, dict):
            raise ChangelogError("each priority change must be an object")
        changes.append(
            PriorityChange(
                at=parse_jira_time(item.get("at")),
                by=_name(item, "by", nullable=False) or "",
                by_name=_name(item, "by_name", nullable=False) or "",
                from_priority=_name(item, "from", nullable=True),
                to_priority=_name(item, "to", nullable=False) or "",
            )
        )
    return tuple(sorted(changes, key=lambda change: change.at))


@dataclass(frozen=True)
class Bots:
    """The bot's accounts: accountIds, Data Center names or display names, without case."""

    names: frozenset[str]

    @classmethod
    def of(cls, accounts: Iterable[str]) -> Bots:
        names = [a.strip().casefold() for a in accounts]
        if not names or not all(names):
            raise ValueError("name the bot's account: its accountId or display name, not blank")
        return cls(frozenset(names))

    def made(self, change: PriorityChange) -> bool:
        """Whether the bot made the change (its ``by`` or ``by_name`` is one of the names)."""
        return any(
            actor and actor.casefold() in self.names for actor in (change.by, change.by_name)
        )


class Review(StrEnum):
    """What a person did with the bot's priority on one ticket."""

    #: The bot never changed the priority.
    NO_BOT = "no_bot"
    #: The last change is the bot's: no one confirmed or changed what it set.
    UNCONFIRMED = "unconfirmed"
    #: A person changed the priority after the bot: the current one is theirs.
    CORRECTED = "corrected"


def review(changes: Sequence[PriorityChange], bots: Bots) -> Review:
    """Whether the ticket's current priority is the bot's, unconfirmed, or a person's after it."""
    by_bot = [bots.made(change) for change in changes]
    if not any(by_bot):
        return Review.NO_BOT
    return Review.UNCONFIRMED if by_bot[-1] else Review.CORRECTED


def first_bot_change(changes: Sequence[PriorityChange], bots: Bots) -> int | None:
    """The index of the bot's first change, or None if it made none."""
    return next((i for i, change in enumerate(changes) if bots.made(change)), None)
