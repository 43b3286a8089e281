"""The one CSV writer: text cells cannot start a formula, numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from training_jobs.data.spreadsheet import FORMULA_STARTS, SpreadsheetWriter, spreadsheet_text


def written(*cells: str | int | float | bool | None) -> list[str]:
    out = io.StringIO()
    SpreadsheetWriter(out).writerow(cells)
    return next(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_starting_a_formula_gets_a_leading_quote(start: str) -> None:
    assert written(f"{start}1+1") == [f"'{start}1+1"]


def test_numbers_are_written_as_numbers_even_when_negative() -> None:
    assert written(-0.5, -3, 0.25, True, None) == ["-0.5000", "-3", "0.2500", "true", ""]


@given(st.text())
def test_no_text_cell_starts_a_formula(text: str) -> None:
    [cell] = written(text)

    assert not cell.startswith(FORMULA_STARTS)
    assert cell.removeprefix("'") == text or cell == text
    assert spreadsheet_text(text) == cell
