"""Priority and scheme names that would break a terminal, Markdown or HTML are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_jobs.cli import main

from jira_priority.labels import (
    MAX_NAME_LENGTH,
    SchemeError,
    custom_scheme,
    parse_scheme,
    scheme_from_dict,
)

HOSTILE_NAMES = {
    "newline": "High\n# Injected heading",
    "carriage-return": "High\rLow",
    "tab": "High\tLow",
    "escape": "\x1b[31mRed\x1b[0m",
    "osc": "\x1b]8;;http://evil.example\x07link",
    "pipe": "High | Low",
    "html": "<img src=x onerror=alert(1)>",
    "backtick": "`code`",
    "bidi-override": "\u202eevil",
    "line-separator": "High\u2028Low",
    "nul": "High\x00",
    "too-long": "x" * (MAX_NAME_LENGTH + 1),
}


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_hostile_priority_name_is_refused(name: str) -> None:
    with pytest.raises(SchemeError, match="priority name"):
        custom_scheme("acme", ["Low", name])


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_hostile_scheme_name_is_refused(name: str) -> None:
    with pytest.raises(SchemeError, match="'name'"):
        scheme_from_dict({"name": name, "priorities": ["Low", "High"]})


def test_the_message_shows_the_name_escaped_on_one_line() -> None:
    with pytest.raises(SchemeError) as caught:
        custom_scheme("acme", ["Low", HOSTILE_NAMES["escape"] + "\n" + "y" * 500])

    assert "\n" not in str(caught.value)
    assert "\x1b" not in str(caught.value)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    "names",
    [
        ["Niedrig", "Mittel", "Hoch"],
        ["低", "中", "高"],
        ["P3 - Minor", "P2 (Major)", "P1: Critical!"],
        ["R&D later", "Très haute", "$$$"],
    ],
)
def test_ordinary_site_names_are_accepted(names: list[str]) -> None:
    assert custom_scheme("acme", names).names == tuple(names)


def test_names_on_the_command_line_are_checked_too() -> None:
    with pytest.raises(SchemeError, match="priority name"):
        parse_scheme("Low,<b>High</b>")


def test_a_scheme_file_with_a_hostile_name_stops_prepare_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scheme = tmp_path / "scheme.json"
    scheme.write_text(json.dumps({"name": "acme", "priorities": ["Low", "Hi|gh\n"]}))
    source = tmp_path / "tickets.csv"
    source.write_text("title,priority\ncrash,Low\n", encoding="utf-8")
    capsys.readouterr()

    code = main(["prepare", str(source), "-o", str(tmp_path / "out"), "--scheme", str(scheme)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "priority name" in err
