"""Text from outside (server answers, file contents) reaches the terminal as one visible line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_jobs.cli import main
from training_jobs.console import MESSAGE_LIMIT, printable, say

#: What a hostile priority name or Jira error message carries: a terminal title change
#: (OSC 0), a colour (CSI), a bell, a carriage return that rewrites the line, a forged
#: second line, a right-to-left override and 10 kB of padding.
HOSTILE = "\x1b]0;pwned\x07\x1b[31mred\rover\nfetch: fake line\u202eevil" + "A" * 10_000


def assert_safe_line(text: str, longest: int) -> None:
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\r" not in text
    assert "\n" not in text
    assert "\u202e" not in text
    assert len(text) <= longest


def test_control_characters_are_escaped_visibly() -> None:
    assert printable("a\x1b[31mb\r\nc\u202ed\x00") == "a\\x1b[31mb\\r\\nc\\u202ed\\x00"


def test_plain_text_is_unchanged() -> None:
    assert printable("Blocker ünïcödé — 優先度 'x' \\x1b") == "Blocker ünïcödé — 優先度 'x' \\x1b"


def test_long_text_is_shortened_and_says_by_how_much() -> None:
    shown = printable("A" * 10_000, limit=200)

    assert shown == "A" * 200 + "… (9,800 more characters)"


def test_hostile_text_becomes_one_short_visible_line() -> None:
    assert_safe_line(printable(HOSTILE), 260)


def test_progress_lines_are_escaped_too(capsys: pytest.CaptureFixture[str]) -> None:
    say("page 1\x1b[2J\rdone")

    assert capsys.readouterr().err == "page 1\\x1b[2J\\rdone\n"


def test_the_error_handler_prints_any_message_as_one_bounded_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file name is outside text too: a CommandError quoting it must not break the line.
    missing = tmp_path / ("x\x1b[2J\ny" + "z" * 5000)

    code = main(["prepare", str(missing), "-o", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1
    assert err.startswith("prepare: ")
    assert_safe_line(err.rstrip("\n"), len("prepare: ") + MESSAGE_LIMIT + 40)


def write_jsonl(path: Path, priorities: list[str]) -> Path:
    lines = [
        {"key": f"A-{n}", "summary": f"crash {n} in the exporter", "priority": priority}
        for n, priority in enumerate(priorities)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_hostile_priority_names_are_printed_escaped_and_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file with mostly known priorities and a few hostile names
    source = write_jsonl(
        tmp_path / "t.jsonl", ["Major"] * 30 + ["Minor"] * 30 + [HOSTILE, HOSTILE + "2"]
    )

    # WHEN prepare reports the priorities outside the scheme
    code = main(["prepare", str(source), "-o", str(tmp_path / "out")])

    # THEN every line it printed is visible text of bounded length
    out, err = capsys.readouterr()
    assert code == 0, err
    listed = [line for line in out.splitlines() if "priorities outside" in line]
    assert len(listed) == 1
    assert "\\x1b]0;pwned\\x07" in listed[0]
    for line in (out + err).splitlines():
        assert_safe_line(line, 400)


def test_a_scheme_misfit_quotes_hostile_names_escaped_and_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file whose priorities are nearly all outside the scheme, and hostile
    names = [HOSTILE + str(n) for n in range(20)]
    source = write_jsonl(tmp_path / "t.jsonl", names * 3 + ["Major"])

    code = main(["prepare", str(source), "-o", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "priority outside the apache scheme" in err
    assert_safe_line(err.rstrip("\n"), 2000)
