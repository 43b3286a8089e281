"""``prepare`` and ``transform`` on damaged and hostile inputs: a result, or one line and exit 1.

Two halves. A corpus of hostile files, each of which can only fail: every one must
exit 1 with exactly one line on stderr and no traceback. And a property: a valid
ticket file damaged at random (bytes flipped, inserted, dropped, cut short, its
compression broken), read in any text encoding Python knows, either prepares
(exit 0) or fails the same clean way. Inputs are a few kB, so each run is bounded
by construction; no clock is read.
"""

from __future__ import annotations

import codecs
import contextlib
import encodings.aliases
import gzip
import io
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from training_jobs.cli import main

PRIORITIES = ["Major", "Minor", "Critical", "Trivial", "Blocker", "Major", "Major", "Minor"]
VALID_CSV = "title,description,priority,project\n" + "".join(
    f'"{word} crashes on start {n}","stack trace {n} in the {word} module",{priority},HDFS\n'
    for n, (word, priority) in enumerate(
        zip(["namenode", "datanode", "balancer", "client", "journal", "fsck", "webhdfs", "mover"],
            PRIORITIES, strict=True)
    )
)  # fmt: skip
VALID_JSON_LINES = "".join(
    f'{{"key": "HDFS-{n}", "fields": {{"summary": "node {n} fails", '
    f'"description": "the disk {n} is full", "priority": {{"name": "{p}"}}}}}}\n'
    for n, p in enumerate(PRIORITIES)
)

#: Every text encoding Python knows, by its codec's own name.
TEXT_ENCODINGS = sorted(
    {
        info.name
        for info in map(codecs.lookup, set(encodings.aliases.aliases.values()) - {"mbcs", "oem"})
        if info._is_text_encoding
    }
)


def run(command: str, source: Path, *options: str) -> tuple[int, str]:
    """Run ``command`` on ``source`` in this process; its status and stderr."""
    err = io.StringIO()
    with (
        tempfile.TemporaryDirectory() as out,
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        if command == "prepare":
            code = main(["prepare", str(source), "-o", f"{out}/data", *options])
        else:
            code = main(["transform", "--input", str(source), "--output", f"{out}/s.csv",
                         "--model-name", "m", "--bucket", "jira-priority-bucket",
                         "--region", "us-east-1", "--dry-run", *options])  # fmt: skip
    return code, err.getvalue()


def assert_one_clean_line(command: str, code: int, err: str) -> None:
    assert code == 1, err
    assert err.count("\n") == 1, err
    assert err.startswith(f"{command}: "), err
    assert "Traceback" not in err


# --- the corpus: files that can only fail --------------------------------------------


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def noise(size: int, seed: int = 18) -> bytes:
    return random.Random(seed).randbytes(size)


HOSTILE_FILES: dict[str, Callable[[Path], tuple[Path, list[str]]]] = {}
#: Hostile to training only: transform scores a ticket without a priority, or reads UTF-8 only.
PREPARE_ONLY = {"unterminated-quote", "utf-16-without-a-byte-order-mark"}


def hostile(name: str) -> Callable[[Callable[[Path], tuple[Path, list[str]]]], None]:
    def register(make: Callable[[Path], tuple[Path, list[str]]]) -> None:
        HOSTILE_FILES[name] = make

    return register


def written(directory: Path, data: bytes, name: str = "tickets.csv") -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


@hostile("empty")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b""), []


@hostile("only-a-byte-order-mark")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b"\xef\xbb\xbf"), []


@hostile("binary-noise")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, noise(4096)), []


@hostile("gzip-of-noise")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, gzip_bytes(noise(4096))), []


@hostile("gzip-cut-short")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, gzip_bytes(VALID_CSV.encode() * 20)[:200]), []


@hostile("gzip-magic-only")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b"\x1f\x8b"), []


@hostile("header-without-text-columns")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b"id,created,votes\n1,2,3\n"), []


@hostile("header-names-with-line-breaks-and-escapes")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b'"sum\nmary","\x1b[2Jdesc",votes\n1,2,3\n'), []


@hostile("header-only")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b"title,description,priority\n"), []


@hostile("unterminated-quote")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b'title,description,priority\n"never closed,' + b"x" * 4000), []


@hostile("json-lines-all-malformed")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b'{"summary": \n{]\n{"a": 1,}\n{\n', "tickets.jsonl"), []


@hostile("json-lines-of-lists")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, b'{}\n[1, 2]\n"text"\n{}\n', "tickets.jsonl"), []


@hostile("utf-16-without-a-byte-order-mark")
def _(d: Path) -> tuple[Path, list[str]]:
    return written(d, VALID_CSV.encode("utf-16-le")), ["--encoding", "utf-16"]


@hostile("every-row-undecodable")
def _(d: Path) -> tuple[Path, list[str]]:
    rows = b"".join(b"crash \xff%d,\xfe,Major\n" % n for n in range(20))
    return written(d, b"title,description,priority\n" + rows), []


@hostile("a-directory")
def _(d: Path) -> tuple[Path, list[str]]:
    (d / "folder").mkdir()
    return d / "folder", []


@hostile("missing")
def _(d: Path) -> tuple[Path, list[str]]:
    return d / "absent.csv", []


@pytest.mark.parametrize(
    ("command", "make"),
    [
        pytest.param(command, make, id=f"{command}-{name}")
        for command in ("prepare", "transform")
        for name, make in HOSTILE_FILES.items()
        if command == "prepare" or name not in PREPARE_ONLY
    ],
)
def test_a_hostile_file_is_one_line_and_exit_1(
    tmp_path: Path, command: str, make: Callable[[Path], tuple[Path, list[str]]]
) -> None:
    source, options = make(tmp_path)

    code, err = run(command, source, *options)

    assert_one_clean_line(command, code, err)


# --- the property: damaged valid files, any text encoding -------------------------------


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A valid ticket file (CSV or JSON lines, maybe gzipped) damaged a few times."""
    data = bytearray(draw(st.sampled_from([VALID_CSV, VALID_JSON_LINES])).encode())
    alphabet = b'\r\n,"{}[]:\\\x00\xff\xfe\xef\xbb\xbf\x1f\x8b a'
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut", "repeat"]))
        if action == "flip" and data:
            data[at] = draw(st.sampled_from(alphabet))
        elif action == "insert":
            data[at:at] = draw(st.binary(max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 32))]
        elif action == "cut":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(1, 8))
    if draw(st.booleans()):
        packed = gzip_bytes(bytes(data))
        data = bytearray(packed[: draw(st.integers(2, len(packed)))])
    return bytes(data)


def assert_result_or_one_clean_line(command: str, code: int, err: str) -> None:
    assert "Traceback" not in err
    if code != 0:
        assert_one_clean_line(command, code, err)


@given(data=damaged(), encoding=st.sampled_from(TEXT_ENCODINGS))
def test_prepare_on_a_damaged_file_in_any_encoding_prepares_or_fails_in_one_line(
    data: bytes, encoding: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        source = written(Path(directory), data)

        code, err = run("prepare", source, "--encoding", encoding)

    assert_result_or_one_clean_line("prepare", code, err)


@given(data=damaged())
def test_transform_on_a_damaged_file_plans_or_fails_in_one_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        source = written(Path(directory), data)

        code, err = run("transform", source)

    assert_result_or_one_clean_line("transform", code, err)
