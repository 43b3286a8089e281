"""Several fetches of one site as one JSON-lines file: the newest line of each issue wins.

``retrain`` fetches only the issues updated since its last run into a new file each time;
an issue fetched again (its priority or changelog changed) replaces its earlier line. Two
passes over the files keep only the keys and positions in memory, never the lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from jira_priority import safe_json


@dataclass(frozen=True)
class Merged:
    issues: int
    replaced: int
    #: Lines without a readable key, kept as they are (prepare counts what is wrong with them).
    keyless: int


def _key(line: bytes) -> str | None:
    try:
        record = safe_json.loads(line)
    except ValueError:
        return None
    key = record.get("key") if isinstance(record, dict) else None
    return key if isinstance(key, str) and key else None


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(handle):
        if line.strip():
            yield number, line if line.endswith(b"\n") else line + b"\n"


def merge_snapshots(paths: Sequence[Path], output: Path) -> Merged:
    """Write the lines of ``paths`` (oldest first) to ``output``, each issue key once: its line
    in the newest file that has it. Written to a temporary file first, then moved."""
    newest: dict[str, tuple[int, int]] = {}
    seen = 0
    for index, path in enumerate(paths):
        with path.open("rb") as handle:
            for number, line in _lines(handle):
                key = _key(line)
                if key is not None:
                    newest[key] = (index, number)
                    seen += 1
    keyless = 0
    partial = output.with_name(output.name + ".part")
    output.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as out:
        for index, path in enumerate(paths):
            with path.open("rb") as handle:
                for number, line in _lines(handle):
                    key = _key(line)
                    if key is None:
                        keyless += 1
                        out.write(line)
                    elif newest[key] == (index, number):
                        out.write(line)
    partial.replace(output)
    return Merged(issues=len(newest), replaced=seen - len(newest), keyless=keyless)
