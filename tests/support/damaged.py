"""Damaged model files, sidecars and archives: what a hostile or broken upload looks like.

Each maker is small (a tiny model's bytes, a few kB of tar headers), so a test that
feeds them to a command is bounded in time and memory by construction.
"""

from __future__ import annotations

import io
import json
import math
import struct
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jira_priority.postprocessing import PostProcessing

#: Offsets of some of Args' int32 fields in a model file (after magic and version).
DIM_OFFSET, NGRAMS_OFFSET, MODEL_OFFSET, BUCKET_OFFSET = 8, 8 + 5 * 4, 8 + 7 * 4, 8 + 8 * 4


def patched(data: bytes, offset: int, value: int) -> bytes:
    """``data`` with the int32 at ``offset`` replaced by ``value``."""
    return data[:offset] + struct.pack("<i", value) + data[offset + 4 :]


def damaged_models(data: bytes) -> dict[str, bytes]:
    """The model ``data`` (a good model.bin's bytes) damaged in the ways fastText trusts."""
    return {
        "truncated to 20 bytes": data[:20],
        "truncated to half": data[: len(data) // 2],
        "one byte short": data[:-1],
        "trailing bytes": data + b"\0" * 8,
        "dimension changed": patched(data, DIM_OFFSET, 9),
        "huge dimension": patched(data, DIM_OFFSET, 1 << 30),
        "huge bucket count": patched(data, BUCKET_OFFSET, 100_000_000),
        "word n-grams without buckets": patched(data, NGRAMS_OFFSET, 2),
        "huge word n-grams": patched(data, NGRAMS_OFFSET, (1 << 31) - 1),
        "not a classifier": patched(data, MODEL_OFFSET, 2),
        "wrong magic": b"\0\0\0\0" + data[4:],
        "empty": b"",
    }


def neutral_postprocessing(labels: Iterable[str]) -> PostProcessing:
    """A valid post-processing over ``labels`` that changes nothing (equal priors, T = 1)."""
    names = tuple(labels)
    return PostProcessing(names, (math.log(1 / len(names)),) * len(names), 0.0, 1.0)


def postprocessing_text(labels: Iterable[str], **changes: Any) -> str:
    """The JSON of ``neutral_postprocessing(labels)`` with some fields replaced."""
    return json.dumps({**neutral_postprocessing(labels).as_dict(), **changes})


def huge_integer_postprocessing(labels: Iterable[str]) -> str:
    """A postprocessing.json whose temperature is a 400-digit integer (JSON allows it)."""
    text = postprocessing_text(labels, temperature=1)
    return text.replace('"temperature": 1', '"temperature": ' + "9" * 400)


def tar_gz(
    members: Iterable[tuple[str, bytes]],
    links: Mapping[str, str] | None = None,
    directories: Iterable[str] = (),
) -> bytes:
    """A gzipped tar of regular ``members`` (repeats allowed, in order), then symlinks
    ``links`` (name -> target) and directory entries."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
        for name in directories:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
    return buffer.getvalue()


def many_empty_members(count: int) -> Iterable[tuple[str, bytes]]:
    return ((f"empty-{index}", b"") for index in range(count))


def write_model_dir(
    directory: Path, model: bytes, sidecars: Mapping[str, str | bytes] | None = None
) -> Path:
    """A model directory: model.bin and its sidecars (postprocessing.json, scheme.json)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.bin").write_bytes(model)
    for name, content in (sidecars or {}).items():
        data = content.encode() if isinstance(content, str) else content
        (directory / name).write_bytes(data)
    return directory
