"""``prepare --exclude-bot``: the bot's unconfirmed priorities are left out, people's corrections
kept (and weighted in train only), every row still accounted for."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli import main

from jira_priority.text import normalise_ticket
from tests.support.changelogs import (
    BOT_ID,
    BOT_NAME,
    START,
    change,
    days,
    issue,
    write_issues,
)


def prepare(tmp_path: Path, source: Path, *options: str) -> dict[str, Any]:
    assert main(["prepare", str(source), "-o", str(tmp_path / "out"), *options]) == 0
    manifest: dict[str, Any] = json.loads((tmp_path / "out" / "manifest.json").read_text())
    return manifest


def texts(path: Path) -> Counter[str]:
    return Counter(line.split(" ", 1)[1] for line in path.read_text().splitlines())


def text_of(record: dict[str, Any]) -> str:
    return normalise_ticket(record["summary"], record["description"])


def site_issues() -> dict[str, list[dict[str, Any]]]:
    """Issues by what happened to their priority (each kind several times, distinct texts)."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    n = 0

    def add(kind: str, priority: str, changes: list[dict[str, Any]] | None) -> None:
        nonlocal n
        n += 1
        kinds.setdefault(kind, []).append(issue(f"ACME-{n}", priority, changes))

    for i in range(30):
        add("untouched", "Major", [])
        add("person only", "Minor", [change(START + days(i), "Minor", bot=False)])
    for i in range(8):
        add("bot unconfirmed", "Critical", [change(START + days(i), "Critical", bot=True)])
        add(
            "bot after the reporter",
            "Critical",
            [
                change(START, "Minor", bot=False),
                change(START + days(i + 1), "Critical", bot=True, previous="Minor"),
            ],
        )
    for i in range(12):
        add(
            "corrected",
            "Minor",
            [
                change(START + days(i), "Critical", bot=True),
                change(START + days(i + 2), "Minor", bot=False, previous="Critical"),
            ],
        )
    for _ in range(5):
        add("no changelog", "Major", None)
    return kinds


@pytest.fixture
def kinds() -> dict[str, list[dict[str, Any]]]:
    return site_issues()


@pytest.fixture
def source(tmp_path: Path, kinds: dict[str, list[dict[str, Any]]]) -> Path:
    return write_issues(tmp_path / "issues.jsonl", [i for group in kinds.values() for i in group])


@pytest.mark.parametrize("bot", [BOT_ID, BOT_NAME, BOT_NAME.lower()])
def test_unconfirmed_bot_priorities_are_left_out_and_counted(
    tmp_path: Path, source: Path, kinds: dict[str, list[dict[str, Any]]], bot: str
) -> None:
    manifest = prepare(tmp_path, source, "--exclude-bot", bot)

    written = texts(tmp_path / "out" / "train.txt") + texts(tmp_path / "out" / "validation.txt")
    left_out = kinds["bot unconfirmed"] + kinds["bot after the reporter"]
    assert manifest["excluded_bot_set"] == len(left_out) == 16
    assert all(text_of(record) not in written for record in left_out)
    kept = [r for kind in ("untouched", "person only", "corrected", "no changelog")
            for r in kinds[kind]]  # fmt: skip
    assert all(written[text_of(record)] == 1 for record in kept)
    rows = manifest["rows"]
    assert rows["filtered_out_by"] == {"bot_set": 16}
    assert (
        rows["read"]
        == rows["written"] + rows["rejected"] + rows["filtered_out"] + (rows["duplicates_dropped"])
    )
    assert manifest["bot_corrections"] == {"tickets": 12, "weight": 1, "train_copies": 0}
    assert manifest["changelogs"] == {"tickets_with": 88, "tickets_without": 5}
    assert manifest["settings"]["exclude_bots"] == [bot]


def test_a_corrected_ticket_keeps_the_persons_priority(
    tmp_path: Path, source: Path, kinds: dict[str, list[dict[str, Any]]]
) -> None:
    prepare(tmp_path, source, "--exclude-bot", BOT_ID, "--validation-fraction", "0")

    lines = (tmp_path / "out" / "train.txt").read_text().splitlines()
    labels = {line.split(" ", 1)[1]: line.split(" ", 1)[0] for line in lines}
    assert {labels[text_of(r)] for r in kinds["corrected"]} == {"__label__3"}  # Minor


def test_corrections_are_repeated_k_times_in_train_and_never_in_validation(
    tmp_path: Path, source: Path, kinds: dict[str, list[dict[str, Any]]]
) -> None:
    manifest = prepare(
        tmp_path, source, "--exclude-bot", BOT_ID, "--correction-weight", "3",
        "--validation-fraction", "0.3",
    )  # fmt: skip

    train, validation = (texts(tmp_path / "out" / f) for f in ("train.txt", "validation.txt"))
    corrected = [text_of(r) for r in kinds["corrected"]]
    in_train = [t for t in corrected if t in train]
    in_validation = [t for t in corrected if t in validation]
    assert in_train
    assert in_validation
    assert all(train[t] == 3 for t in in_train)
    assert all(validation[t] == 1 for t in in_validation)
    assert all(train[text_of(r)] + validation[text_of(r)] == 1 for r in kinds["untouched"])
    assert manifest["bot_corrections"] == {
        "tickets": 12, "weight": 3, "train_copies": 2 * len(in_train),
    }  # fmt: skip
    assert manifest["files"]["train.txt"]["lines"] == sum(train.values())
    assert manifest["rows"]["written"] == sum(train.values()) + sum(validation.values()) - (
        2 * len(in_train)
    )


def test_the_projects_file_stays_aligned_with_the_weighted_train_file(
    tmp_path: Path, kinds: dict[str, list[dict[str, Any]]]
) -> None:
    issues = [
        {**record, "project": "ACME" if n % 2 else "BETA"}
        for n, record in enumerate(r for group in kinds.values() for r in group)
    ]
    source = write_issues(tmp_path / "two-projects.jsonl", issues)
    project_of = {text_of(r): r["project"] for r in issues}

    prepare(tmp_path, source, "--exclude-bot", BOT_NAME, "--correction-weight", "4")

    out = tmp_path / "out"
    lines = (out / "train.txt").read_text().splitlines()
    projects = (out / "train.txt.projects").read_text().splitlines()
    assert len(projects) == len(lines)
    assert [project_of[line.split(" ", 1)[1]] for line in lines] == projects


def test_without_exclude_bot_the_bots_priorities_are_training_labels(
    tmp_path: Path, source: Path
) -> None:
    manifest = prepare(tmp_path, source)

    assert "excluded_bot_set" not in manifest
    assert manifest["rows"]["written"] == 93
    assert manifest["settings"]["exclude_bots"] == []


def test_a_row_with_malformed_priority_changes_is_a_counted_rejection(tmp_path: Path) -> None:
    good = [issue(f"ACME-{n}", "Major", []) for n in range(20)]
    bad = [
        {**issue("ACME-100", "Major", []), "priority_changes": "garbage"},
        {**issue("ACME-101", "Major", []), "priority_changes": [{"at": "yesterday", "to": "X"}]},
        {**issue("ACME-102", "Major", []), "priority_changes": [[[[]]]]},
    ]
    source = write_issues(tmp_path / "issues.jsonl", good + bad)

    manifest = prepare(tmp_path, source, "--exclude-bot", BOT_ID)

    assert manifest["rows"]["rejected_by_reason"] == {"bad_priority_changes": 3}
    assert manifest["rows"]["written"] == 20


def test_malformed_priority_changes_do_not_matter_without_exclude_bot(tmp_path: Path) -> None:
    records = [issue(f"ACME-{n}", "Major", []) for n in range(20)]
    records[0]["priority_changes"] = "garbage"
    source = write_issues(tmp_path / "issues.jsonl", records)

    assert prepare(tmp_path, source)["rows"]["written"] == 20


def test_exclude_bot_without_any_changelog_says_to_fetch_with_changelog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_issues(tmp_path / "issues.jsonl", [issue(f"A-{n}", "Major", None)
                                                      for n in range(10)])  # fmt: skip

    status = main(["prepare", str(source), "-o", str(tmp_path / "out"), "--exclude-bot", BOT_ID])

    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1
    assert "fetch --changelog" in err
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize(
    "options",
    [
        ["--correction-weight", "2"],  # weighs corrections of a bot it was not told about
        ["--exclude-bot", "  "],
        ["--exclude-bot", BOT_ID, "--correction-weight", "0"],
        ["--exclude-bot", BOT_ID, "--correction-weight", "many"],
    ],
)
def test_bad_bot_options_are_one_line(
    tmp_path: Path, source: Path, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["prepare", str(source), "-o", str(tmp_path / "out"), *options])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("prepare: ")
