"""CSV for people who open it in a spreadsheet: text from outside never becomes a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) as a formula: a
ticket titled ``=HYPERLINK(...)`` would become a link that sends the sheet's
data away. OWASP's remedy is applied to every text cell: such a cell is
written with a leading single quote, which the spreadsheet shows as text.
Numbers the project writes (a negative float among them) are written as
numbers. Every CSV the command line writes goes through ``SpreadsheetWriter``.

defusedcsv does the same for ``csv.writer`` but misses tab and carriage
return and changes ``|`` inside text, so the few lines are kept here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: What a cell may hold: text (from outside, escaped), or a number, flag or nothing we wrote.
Cell = str | int | float | bool | None


def spreadsheet_text(text: str) -> str:
    """``text`` as a cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SpreadsheetWriter:
    """``csv.writer`` whose text cells cannot start a formula; floats to ``float_digits``."""

    def __init__(self, out: TextIO, float_digits: int = 4) -> None:
        self._writer = csv.writer(out)
        self._float_digits = float_digits

    def writerow(self, cells: Iterable[Cell]) -> None:
        self._writer.writerow([self._cell(cell) for cell in cells])

    def _cell(self, cell: Cell) -> str:
        if cell is None:
            return ""
        if isinstance(cell, bool):
            return "true" if cell else "false"
        if isinstance(cell, int):
            return str(cell)
        if isinstance(cell, float):
            return f"{cell:.{self._float_digits}f}"
        return spreadsheet_text(cell)
