"""``priority_changes``: Jira timestamps, malformed changes refused, the bot recognised."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from training_jobs.data.changelog import (
    MAX_CHANGES,
    Bots,
    ChangelogError,
    Review,
    first_bot_change,
    parse_jira_time,
    parse_priority_changes,
    review,
)

from tests.support.changelogs import BOT_ID, BOT_NAME, START, change, days

MOMENT = datetime(2024, 3, 1, 10, 15, 30, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01T10:15:30.123+0000",  # Jira Cloud and Data Center
        "2024-03-01T10:15:30.123Z",
        "2024-03-01T10:15:30.123+00:00",
        "2024-03-01T11:15:30.123+0100",  # a site in another zone: the same instant
        "2024-03-01T05:15:30.123-0500",
    ],
)
def test_jira_timestamps_are_read_as_the_same_utc_instant(text: str) -> None:
    assert parse_jira_time(text) == MOMENT
    assert parse_jira_time(text).tzinfo == UTC


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01T10:15:30.123",  # no zone: no instant
        "2024-03-01",
        "yesterday",
        "",
        "2024-13-01T10:15:30.123+0000",
        "9" * 100,
        1709288130,
        None,
        ["2024-03-01T10:15:30.123+0000"],
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "1970-01-01T00:00:00+00:00",  # before Jira: not a site's
        "2100-01-01T00:00:00+00:00",
    ],
)
def test_a_timestamp_that_names_no_instant_of_a_jira_site_is_refused(value: Any) -> None:
    with pytest.raises(ChangelogError):
        parse_jira_time(value)


def test_changes_are_read_oldest_first_with_null_actors_and_priorities() -> None:
    later = change(START + days(2), "Minor", bot=False)
    first = change(START, "Critical", bot=True, previous=None)
    cleared = {"at": "2024-03-09T09:00:00.000+0000", "by": None, "by_name": None, "to": None}

    changes = parse_priority_changes([later, cleared, first])

    assert [c.to_priority for c in changes] == ["Critical", "Minor", ""]
    assert changes[0].from_priority is None
    assert changes[0].by == BOT_ID
    assert changes[0].by_name == BOT_NAME
    assert (changes[2].by, changes[2].by_name) == ("", "")


@pytest.mark.parametrize(
    "value",
    [
        "not a list",
        {"at": "2024-03-01T10:15:30.123+0000"},
        ["a string, not a change"],
        [{"by": "x", "to": "Major"}],  # no time
        [{"at": "2024-03-01T10:15:30.123+0000", "by": 7, "to": "Major"}],
        [{"at": "2024-03-01T10:15:30.123+0000", "by": "x", "to": {"name": "Major"}}],
        [{"at": "2024-03-01T10:15:30.123+0000", "by": "x" * 1000, "to": "Major"}],
        [{"at": "2024-03-01T10:15:30.123+0000", "to": "Major"}] * (MAX_CHANGES + 1),
    ],
)
def test_malformed_changes_are_refused_as_a_whole(value: Any) -> None:
    with pytest.raises(ChangelogError):
        parse_priority_changes(value)


@pytest.mark.parametrize("account", [BOT_ID, BOT_NAME, BOT_NAME.upper(), f"  {BOT_NAME.lower()} "])
def test_the_bot_is_recognised_by_account_id_or_display_name_without_case(account: str) -> None:
    bots = Bots.of([account])
    (by_bot, by_person) = parse_priority_changes(
        [change(START, "Critical", bot=True), change(START + days(1), "Minor", bot=False)]
    )

    assert bots.made(by_bot)
    assert not bots.made(by_person)


def test_an_anonymous_change_is_never_the_bots() -> None:
    (anonymous,) = parse_priority_changes([{"at": "2024-03-01T10:15:30.123+0000", "to": "Minor"}])

    assert not Bots.of([BOT_ID]).made(anonymous)


def test_a_blank_bot_name_is_refused() -> None:
    with pytest.raises(ValueError, match="bot"):
        Bots.of(["  ", ""])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ([], Review.NO_BOT),
        ([False], Review.NO_BOT),
        ([True], Review.UNCONFIRMED),
        ([False, True], Review.UNCONFIRMED),  # the reporter set it, the bot changed it after
        ([True, False], Review.CORRECTED),
        ([True, False, True], Review.UNCONFIRMED),  # the bot had the last word again
        ([True, True, False], Review.CORRECTED),
    ],
)
def test_review_says_whose_the_current_priority_is(who: list[bool], expected: Review) -> None:
    changes = parse_priority_changes(
        [change(START + days(i), "Critical", bot=bot) for i, bot in enumerate(who)]
    )

    assert review(changes, Bots.of([BOT_ID])) is expected


def test_the_first_bot_change_is_found_after_a_persons() -> None:
    changes = parse_priority_changes(
        [change(START, "Minor", bot=False), change(START + days(1), "Critical", bot=True)]
    )

    assert first_bot_change(changes, Bots.of([BOT_NAME])) == 1
    assert first_bot_change(changes[:1], Bots.of([BOT_NAME])) is None
