"""``summary.md``: text from outside (projects, title, paths) cannot break its Markdown."""

from __future__ import annotations

import re

import pytest
from training_jobs.evaluation.labelled import LabelledTicket
from training_jobs.evaluation.report import (
    build_report,
    evaluate_rankings,
    markdown_text,
    per_project,
    render_summary,
)

from jira_priority.labels import Priority

MAJ, MIN = Priority.MAJOR, Priority.MINOR
HOSTILE = "A|B\n# Heading\r\n<img src=x onerror=alert(1)>\x1b[31m`x`*y*_z_[l](http://e)&amp;"
#: A table cell's separator: a pipe without a backslash before it.
SEPARATOR = re.compile(r"(?<!\\)\|")


def summary(project: str, title: str, path: str) -> str:
    tickets = [
        LabelledTicket("a", "", MAJ, project),
        LabelledTicket("b", "", MIN, project),
        LabelledTicket("c", "", MAJ, "HIVE"),
    ]
    rankings = [[MAJ], [MAJ], [MIN]]
    report = build_report(
        evaluate_rankings(tickets, rankings),
        per_project(tickets, rankings),
        title=title,
        source={"path": path, "format": "tickets", "projects": [project, "HIVE"]},
        predictor={"model": path},
        k=1,
        plots={},
    )
    return render_summary(report)


def test_hostile_project_title_and_path_keep_every_table_row_whole() -> None:
    text = summary(HOSTILE, HOSTILE, HOSTILE)

    lines = text.splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert [h.split(" ", 1)[0] for h in headings] == ["#"] + ["##"] * (len(headings) - 1)
    assert not any(line.startswith("# Heading") for line in lines)
    [table_head] = [i for i, line in enumerate(lines) if line.startswith("| Project |")]
    columns = len(SEPARATOR.findall(lines[table_head]))
    rows = lines[table_head + 2 : table_head + 4]
    assert [len(SEPARATOR.findall(row)) for row in rows] == [columns, columns]
    assert not re.search(r"(?<!\\)[<&`]", text)
    assert "\x1b" not in text
    assert "\r" not in text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("HIVE", "HIVE"),
        ("a|b", r"a\|b"),
        ("<b>", r"\<b\>"),
        ("line\nbreak", "line break"),
        ("\x1b[31mred", r"\[31mred"),
        ("*x*", r"\*x\*"),
    ],
)
def test_markdown_text_escapes_what_markdown_would_read(text: str, shown: str) -> None:
    assert markdown_text(text) == shown
