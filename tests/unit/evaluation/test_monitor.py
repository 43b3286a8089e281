"""``monitor``: the bot's decisions, overridden within N days or not, open ones apart, per week."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from training_jobs.cli import main
from training_jobs.data.changelog import Bots
from training_jobs.data.readers import read_changelogs
from training_jobs.evaluation.monitor import monitor
from training_jobs.evaluation.plots import FIGURE_PIXELS

from tests.support.changelogs import (
    BOT_ID,
    BOT_NAME,
    PERSON_ID,
    START,
    change,
    days,
    issue,
    jira_time,
    write_issues,
)

#: The data's newest timestamp: 30 days after START.
END = START + days(30)


def run(tmp_path: Path, issues: list[dict[str, Any]], *options: str) -> dict[str, Any]:
    """monitor over ``issues`` (plus one issue created at END, fixing "as of") -> monitor.json."""
    source = write_issues(
        tmp_path / "issues.jsonl", [*issues, issue("ACME-999", "Major", [], created=END)]
    )
    out = tmp_path / "out"
    assert main(["monitor", str(source), "--bot", BOT_ID, "-o", str(out), *options]) == 0
    report: dict[str, Any] = json.loads((out / "monitor.json").read_text())
    return report


def bot_then_person(key: str, after: float, *, at: float = 0, to: str = "Minor") -> dict[str, Any]:
    return issue(
        key,
        to,
        [
            change(START + days(at), "Critical", bot=True),
            change(START + days(at + after), to, bot=False, previous="Critical"),
        ],
    )


def test_a_person_changing_the_bots_priority_within_n_days_overrides_it(tmp_path: Path) -> None:
    report = run(tmp_path, [bot_then_person("ACME-1", after=2), bot_then_person("ACME-2", 6.9)])

    assert (report["bot_set"], report["overridden"], report["override_rate"]) == (2, 2, 1.0)
    assert report["by_priority"] == {
        "Critical": {"bot_set": 2, "overridden": 2, "override_rate": 1.0,
                     "changed_to": {"Minor": 2}},
    }  # fmt: skip


def test_a_change_after_n_days_is_no_override(tmp_path: Path) -> None:
    report = run(tmp_path, [bot_then_person("ACME-1", after=7.01), bot_then_person("ACME-2", 20)])

    assert (report["bot_set"], report["overridden"], report["override_rate"]) == (2, 0, 0.0)


def test_exactly_n_days_later_is_still_within_the_window(tmp_path: Path) -> None:
    report = run(tmp_path, [bot_then_person("ACME-1", after=7)])

    assert report["overridden"] == 1


def test_the_window_is_the_days_option(tmp_path: Path) -> None:
    issues = [bot_then_person("ACME-1", after=2), bot_then_person("ACME-2", after=5)]

    assert run(tmp_path, issues, "--days", "3")["overridden"] == 1
    assert run(tmp_path, issues, "--days", "14")["overridden"] == 2


def test_decisions_younger_than_n_days_are_open_and_counted_apart(tmp_path: Path) -> None:
    issues = [
        bot_then_person("ACME-1", after=1, at=0),  # closed, overridden
        issue("ACME-2", "Critical", [change(START + days(25), "Critical", bot=True)]),  # open
        bot_then_person("ACME-3", after=1, at=27),  # open, already overridden
        issue("ACME-4", "Critical", [change(START + days(23), "Critical", bot=True)]),  # 7 d old
    ]

    report = run(tmp_path, issues)

    # ACME-4 is exactly 7 days old: its window is over, and no one changed it.
    assert (report["bot_set"], report["overridden"]) == (2, 1)
    assert report["override_rate"] == 0.5
    assert report["open"]["bot_set"] == 2
    assert report["open"]["overridden_so_far"] == 1
    assert report["open"]["since"] == "2024-03-27T09:00:00+00:00"
    assert "open" in report["definitions"]


def test_only_the_bots_first_change_is_a_decision(tmp_path: Path) -> None:
    changes = [
        change(START, "Minor", bot=False),  # the reporter, before the bot: no override
        change(START + days(1), "Critical", bot=True, previous="Minor"),
        change(START + days(2), "Blocker", bot=True, previous="Critical"),  # the bot again
        change(START + days(3), "Major", bot=False, previous="Blocker"),  # a person: override
    ]

    report = run(tmp_path, [issue("ACME-1", "Major", changes)])

    assert (report["bot_set"], report["overridden"]) == (1, 1)
    assert report["by_priority"]["Critical"]["changed_to"] == {"Major": 1}


def test_a_ticket_without_bot_changes_is_no_decision(tmp_path: Path) -> None:
    report = run(tmp_path, [issue("ACME-1", "Minor", [change(START, "Minor", bot=False)])])

    assert report["bot_set"] == 0
    assert report["override_rate"] is None
    assert report["weeks"] == []


def site() -> list[dict[str, Any]]:
    """Decisions over three ISO weeks (2024-W10, W11 empty, W12) and several priorities."""
    return [
        bot_then_person("ACME-1", after=1, at=0),
        bot_then_person("ACME-2", after=9, at=1),
        issue("ACME-3", "Blocker", [change(START + days(2), "Blocker", bot=True)]),
        bot_then_person("ACME-4", after=3, at=14, to="Major"),
        issue("ACME-5", "Minor", [change(START + days(15), "Minor", bot=True)]),
    ]


@pytest.mark.parametrize("bot", [BOT_ID, BOT_NAME, BOT_NAME.upper()])
def test_counts_are_the_same_by_account_id_or_display_name(tmp_path: Path, bot: str) -> None:
    source = write_issues(tmp_path / "issues.jsonl", site())

    result = monitor(list(read_changelogs(source)), Bots.of([bot]), 7)

    assert [(d.key, d.priority, d.overridden_to, d.open) for d in result.decisions] == [
        ("ACME-1", "Critical", "Minor", False),
        ("ACME-2", "Critical", None, False),
        ("ACME-3", "Blocker", None, False),
        # The data ends with ACME-4's override on 2024-03-21: the last two are open.
        ("ACME-4", "Critical", "Major", True),
        ("ACME-5", "Minor", None, True),
    ]


def test_the_rate_per_iso_week_fills_the_weeks_without_decisions(tmp_path: Path) -> None:
    report = run(tmp_path, site())

    assert [(w["week"], w["start"], w["bot_set"], w["overridden"], w["open"])
            for w in report["weeks"]] == [
        ("2024-W10", "2024-03-04", 3, 1, 0),
        ("2024-W11", "2024-03-11", 0, 0, 0),
        ("2024-W12", "2024-03-18", 2, 1, 0),
    ]  # fmt: skip
    assert report["weeks"][0]["override_rate"] == pytest.approx(1 / 3)
    assert report["weeks"][1]["override_rate"] is None
    assert report["by_priority"]["Blocker"] == {
        "bot_set": 1, "overridden": 0, "override_rate": 0.0, "changed_to": {},
    }  # fmt: skip


def test_as_of_closes_decisions_that_the_data_alone_leaves_open(tmp_path: Path) -> None:
    issues = [issue("ACME-1", "Critical", [change(END, "Critical", bot=True)])]

    assert run(tmp_path, issues)["open"]["bot_set"] == 1
    report = run(tmp_path, issues, "--as-of", jira_time(END + days(8)))
    assert (report["bot_set"], report["open"]["bot_set"]) == (1, 0)


def test_outputs_summary_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weird = "P1 | $x^$ <b>"
    issues = [*site(), issue("ACME-9", weird, [change(START, weird, bot=True)])]

    report = run(tmp_path, issues)

    out = tmp_path / "out"
    summary = (out / "summary.md").read_text()
    assert r"P1 \| \$x^\$ \<b\>" in summary
    assert "<b>" not in summary
    assert "| 2024-W11 | 0 | 0 | n/a | 0 |" in summary
    with Image.open(out / report["plot"]) as image:
        assert image.size == FIGURE_PIXELS
    printed = capsys.readouterr().out
    assert printed.startswith("6 decisions of the bot, 2 overridden within 7 days (33.3%)")


def test_no_decision_names_who_did_change_priorities(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_issues(tmp_path / "issues.jsonl", site())

    status = main(["monitor", str(source), "--bot", "someone else", "-o", str(tmp_path / "o")])

    assert status == 0
    err = capsys.readouterr().err
    assert f"{BOT_NAME} ({BOT_ID}): 5" in err
    assert f"({PERSON_ID}): 3" in err


def test_rows_with_malformed_changes_are_counted_not_fatal(tmp_path: Path) -> None:
    issues = [
        *site(),
        {"key": "ACME-50", "priority_changes": [{"at": "2024-03-01", "to": "Major"}]},
        {"key": "ACME-51", "priority_changes": {"not": "a list"}},
    ]
    source = write_issues(tmp_path / "issues.jsonl", issues)
    (tmp_path / "issues.jsonl").write_text(source.read_text() + "{not json\n[1, 2]\n")

    assert main(["monitor", str(source), "--bot", BOT_ID, "-o", str(tmp_path / "out")]) == 0

    report = json.loads((tmp_path / "out" / "monitor.json").read_text())
    assert report["input"]["read"]["rejected"] == {"bad_priority_changes": 2, "malformed": 2}
    assert report["bot_set"] + report["open"]["bot_set"] == 5


@pytest.mark.parametrize(
    ("content", "options", "status", "message"),
    [
        ('{"key": "A-1", "priority": "Major"}\n', [], 1, "fetch --changelog"),
        ("title,priority\nx,Major\n", [], 1, "not JSON lines"),
        (None, [], 1, "no such file"),
        ("", ["--as-of", "yesterday"], 2, "--as-of"),
        ("", ["--as-of", "2024-03-01T10:15:30"], 2, "time zone"),
        ("", ["--as-of", "2024-03-01T10:15:30+0000"], 1, "older than the data"),
        ("", ["--bot", " "], 2, "--bot"),
        ("", ["--days", "0"], 2, "--days"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    options: list[str],
    status: int,
    message: str,
) -> None:
    source = tmp_path / "issues.jsonl"
    if content is None:
        pass
    elif content:
        source.write_text(content)
    else:
        write_issues(source, site())

    code = main(["monitor", str(source), "--bot", BOT_ID, "-o", str(tmp_path / "out"), *options])

    err = capsys.readouterr().err
    assert code == status
    assert err.count("\n") == 1
    assert message in err
    assert err.startswith("monitor: ")


def test_the_decision_time_is_an_aware_utc_instant(tmp_path: Path) -> None:
    changes = [{"at": "2024-03-04T10:00:00.000+0100", "by": BOT_ID, "to": "Critical"}]
    source = write_issues(tmp_path / "issues.jsonl", [issue("ACME-1", "Critical", changes)])

    (decision,) = monitor(list(read_changelogs(source)), Bots.of([BOT_ID]), 7).decisions

    assert decision.at == datetime.fromisoformat("2024-03-04T09:00:00+00:00")
