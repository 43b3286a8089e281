"""A JSON-lines row nested 100,000 deep is a rejected, counted row, like any malformed one."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_jobs.cli import main
from training_jobs.data.readers import ReadStats, RejectReason, read_tickets

GOOD = '{"key": "A-%d", "summary": "crash %d in the exporter", "priority": "Major"}\n'


def hostile_file(path: Path) -> Path:
    lines = [GOOD % (n, n) for n in range(1, 4)]
    lines.insert(1, '{"key": "A-9", "summary": ' + "[" * 100_000 + "\n")
    lines.insert(3, "[" * 100_000 + "]" * 100_000 + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_deeply_nested_lines_are_rejected_and_the_rest_is_read(tmp_path: Path) -> None:
    stats = ReadStats()

    keys = [t.key for t in read_tickets(hostile_file(tmp_path / "t.jsonl"), stats=stats)]

    assert keys == ["A-1", "A-2", "A-3"]
    assert stats.rejected == {RejectReason.MALFORMED: 2}
    assert stats.rejected_rows[RejectReason.MALFORMED] == [2, 4]


def test_prepare_counts_them_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = hostile_file(tmp_path / "t.jsonl")

    code = main(["prepare", str(source), "-o", str(tmp_path / "out")])

    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code == 0, err
    assert "rejected 2 x malformed" in out
