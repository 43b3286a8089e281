"""``--encoding``: a bad row is rejected and counted, a file that cannot be text is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_jobs.cli import main
from training_jobs.data.readers import DatasetError, ReadStats, RejectReason, read_tickets

HEADER = "title,description,priority\n"
ROWS = [f"datanode {n} loses blocks,the cluster stops,Major\n" for n in range(6)]
#: A lone high surrogate, which no UTF-16 text may hold.
STRAY_SURROGATE_LE = b"\x00\xd8"


def read(path: Path, encoding: str) -> tuple[int, ReadStats]:
    stats = ReadStats()
    tickets = list(read_tickets(path, stats=stats, encoding=encoding))
    return len(tickets), stats


def test_a_stray_surrogate_in_utf16_rejects_its_row_only(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    good = [row.encode("utf-16-le") for row in ROWS]
    marked = ROWS[2].replace("loses", "X").encode("utf-16-le")
    at = marked.index("X".encode("utf-16-le"))
    good[2] = marked[:at] + STRAY_SURROGATE_LE + marked[at + 2 :]
    path.write_bytes(HEADER.encode("utf-16-le") + b"".join(good))

    accepted, stats = read(path, "utf-16-le")

    assert accepted == 5
    assert stats.rejected == {RejectReason.UNDECODABLE: 1}
    assert stats.rejected_rows[RejectReason.UNDECODABLE] == [3]


def test_a_utf16_file_cut_in_the_middle_of_a_character_rejects_the_last_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes((HEADER + "".join(ROWS)).encode("utf-16-le")[:-1])

    accepted, stats = read(path, "utf-16-le")

    assert accepted == 5
    assert stats.rejected == {RejectReason.UNDECODABLE: 1}


def test_utf16_with_its_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes((HEADER + "".join(ROWS)).encode("utf-16"))

    accepted, stats = read(path, "utf-16")

    assert (accepted, stats.rows_rejected) == (6, 0)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_without_a_byte_order_mark_is_one_clear_error(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes((HEADER + "".join(ROWS)).encode(f"{encoding}-le"))

    with pytest.raises(DatasetError, match=f"byte-order mark.*{encoding}-le or {encoding}-be"):
        read(path, encoding)


def run_prepare(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: Path, encoding: str
) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["prepare", str(source), "-o", str(tmp_path / "out"), "--encoding", encoding])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["rot13", "base64", "hex", "zlib_codec", "no-such-codec"])
def test_an_encoding_that_is_not_text_is_refused_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    source = tmp_path / "tickets.csv"
    source.write_text(HEADER + "".join(ROWS), encoding="utf-8")

    code, err = run_prepare(capsys, tmp_path, source, encoding)

    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("prepare: ")
    assert "--encoding" in err
    assert not (tmp_path / "out").exists()


def test_prepare_on_utf16_without_a_bom_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "tickets.csv"
    source.write_bytes((HEADER + "".join(ROWS)).encode("utf-16-le"))

    code, err = run_prepare(capsys, tmp_path, source, "utf-16")

    assert code == 1
    assert err.count("\n") == 1
    assert "byte-order mark" in err
    assert "Traceback" not in err


def test_prepare_counts_the_row_a_stray_surrogate_spoils(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "tickets.csv"
    rows = [f"ticket {n} crashes the {w} server,it fails,Major\n" for n, w in
            enumerate(["name", "data", "web", "mail", "job", "db", "log", "ui"])]  # fmt: skip
    data = (HEADER + "".join(rows)).encode("utf-16-le")
    at = data.index("mail".encode("utf-16-le"))
    source.write_bytes(data[:at] + STRAY_SURROGATE_LE + data[at + 2 :])

    capsys.readouterr()
    code = main(["prepare", str(source), "-o", str(tmp_path / "out"), "--encoding", "utf-16-le"])

    assert code == 0
    assert "rejected 1 x undecodable in" in capsys.readouterr().out
