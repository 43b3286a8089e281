"""Finding the fastText/BlazingText model file in what a user or SageMaker hands us.

A model arrives as ``model.bin`` / ``model.ftz``, as a directory holding one,
or as the ``model.tar.gz`` a SageMaker training job writes (BlazingText puts
``model.bin`` and ``model.vec`` in it). Only the model member is extracted,
to a file name chosen here, so a hostile archive cannot write outside the
target directory (no member path is ever used as a path), never through a
symlink, and never more than a sane model size or the free space allows: a
4.7 MB archive can hold a 1 GiB member. At most MAX_ARCHIVE_MEMBERS members are
read, and a member we would read (the model or a sidecar) that is a link or
appears twice makes the archive refused, never silently skipped.

``check_model`` is what every command and the embedded backend run before
fastText sees a file: the model's layout (``fasttext_format``) and the sidecars
that travel with it, which must agree with the model's labels.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from jira_priority.fasttext_format import ModelLayout, check_model_file
from jira_priority.labels import DEFAULT_SCHEME, SCHEME_FILE, PriorityScheme, scheme_from_dict
from jira_priority.postprocessing import FILE_NAME as POSTPROCESSING_FILE
from jira_priority.postprocessing import PostProcessing, PostProcessingError, read_postprocessing

#: Model file names, preferred first: BlazingText writes model.bin; a
#: quantised model is model.ftz.
MODEL_FILE_NAMES: tuple[str, ...] = ("model.bin", "model.ftz")
MODEL_SUFFIXES: tuple[str, ...] = (".bin", ".ftz")
#: Files that travel with model.bin, beside it or in its archive.
SIDECAR_FILES: tuple[str, ...] = (POSTPROCESSING_FILE, SCHEME_FILE)
#: Most members of a model archive read (BlazingText's has two; ours three). An archive of
#: 100,000 empty members took 12.6 s to look through, three times per load.
MAX_ARCHIVE_MEMBERS = 1_000
#: The largest model extracted at all. BlazingText's default settings make an
#: 800 MB model.bin; a Lambda function has at most 10 GiB of memory and of /tmp.
MAX_MODEL_BYTES = 4 << 30
#: Free space left untouched when extracting, for everything else in /tmp.
EXTRACTION_RESERVE_BYTES = 64 << 20
_COPY_CHUNK = 1 << 20


class ModelFileError(Exception):
    """The path holds no usable model file (missing, empty archive, ambiguous)."""


def is_tar_archive(path: Path) -> bool:
    """Whether ``path`` is a (possibly compressed) tar archive, by content."""
    try:
        return path.is_file() and tarfile.is_tarfile(path)
    except OSError:
        return False


def _pick(names: list[str], describe: str) -> str:
    """The model among candidate names: model.bin, else model.ftz, else the only .bin/.ftz."""
    by_name = {PurePosixPath(name).name: name for name in names}
    for preferred in MODEL_FILE_NAMES:
        if preferred in by_name:
            return by_name[preferred]
    candidates = [name for name in names if PurePosixPath(name).suffix in MODEL_SUFFIXES]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ModelFileError(f"{describe} holds no model.bin or .ftz file")
    shown = ", ".join(_shown(name) for name in sorted(candidates))
    raise ModelFileError(f"{describe} holds several model files: {shown}")


def _shown(name: str) -> str:
    """A member or file name from an archive, safe to print on one line of a terminal."""
    return name if name.isprintable() and len(name) <= 100 else repr(name[:100])


def _is_read(name: str) -> bool:
    """Whether a member or file of this base name is one we read: a model or a sidecar."""
    return name in SIDECAR_FILES or PurePosixPath(name).suffix in MODEL_SUFFIXES


def _archive_index(tar: tarfile.TarFile, archive: str) -> dict[str, tarfile.TarInfo]:
    """The members we read (model files and sidecars) by base name: what is matched by name.

    At most MAX_ARCHIVE_MEMBERS members are looked at. Such a member that is not a
    regular file (a link, a directory) or whose base name appears twice is refused:
    skipping a linked postprocessing.json would serve the model uncalibrated, and two
    copies of model.bin leave the choice of which one answers to chance.
    """
    found: dict[str, tarfile.TarInfo] = {}
    for count, member in enumerate(tar, start=1):
        if count > MAX_ARCHIVE_MEMBERS:
            raise ModelFileError(
                f"archive {archive} holds more than {MAX_ARCHIVE_MEMBERS} members: "
                "not a model archive"
            )
        name = PurePosixPath(member.name).name
        if not _is_read(name):
            continue
        if name in found:
            raise ModelFileError(f"archive {archive} holds {_shown(name)} twice")
        if not member.isfile():
            kind = "a link" if member.issym() or member.islnk() else "not a regular file"
            raise ModelFileError(f"archive {archive}: {_shown(member.name)} is {kind}")
        found[name] = member
    return found


def extract_model(archive: Path, target_dir: Path, max_bytes: int = MAX_MODEL_BYTES) -> Path:
    """Extract the model member of a tar archive into ``target_dir``; return its path.

    Only regular-file members are read; a link, device or directory with a model's
    name is refused (``_archive_index``), other members are ignored. The output
    name is the member's base name checked against MODEL_SUFFIXES, never its
    path, so ``../`` or absolute members cannot escape ``target_dir``. A member
    larger than ``max_bytes`` or than the free space (less
    EXTRACTION_RESERVE_BYTES) is refused before a byte is written, the output is
    opened without following symlinks, and a failed extraction
    leaves nothing behind.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = _archive_index(tar, archive.name)
            chosen = members[_pick(list(members), f"archive {archive.name}")]
            shown = _shown(chosen.name)
            suffix = PurePosixPath(chosen.name).suffix
            if suffix not in MODEL_SUFFIXES:
                raise ModelFileError(f"archive {archive.name}: {shown} is not a model file")
            target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            limit = _extraction_limit(archive, chosen.size, target_dir, max_bytes)
            source = tar.extractfile(chosen)
            if source is None:
                raise ModelFileError(f"archive {archive.name}: {shown} cannot be read")
            target = target_dir / f"model{suffix}"
            partial = target.with_suffix(suffix + ".part")
            with source:
                _write_new_file(partial, source, limit, archive.name)
            partial.replace(target)
            return target
    except (tarfile.TarError, EOFError) as exc:
        raise ModelFileError(f"archive {archive.name} is not a readable tar file") from exc


def _extraction_limit(archive: Path, size: int, target_dir: Path, max_bytes: int) -> int:
    """The bytes the member may take: its size, if the model bound and the free space allow."""
    if size > max_bytes:
        raise ModelFileError(
            f"archive {archive.name}: the model is {size} bytes, larger than the "
            f"{max_bytes}-byte bound for a model"
        )
    free = shutil.disk_usage(target_dir).free - EXTRACTION_RESERVE_BYTES
    if size > free:
        raise ModelFileError(
            f"archive {archive.name}: the model is {size} bytes, larger than the "
            f"{max(free, 0)} bytes free for it"
        )
    return size


def _write_new_file(path: Path, source: IO[bytes], limit: int, name: str) -> None:
    """Copy at most ``limit`` bytes of ``source`` to a new file at ``path``, or leave nothing.

    O_EXCL|O_NOFOLLOW: an existing file or a symlink planted at ``path`` is an
    error, never followed.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError as exc:
        raise ModelFileError(
            f"cannot create {path.name} to extract {name}: {exc.strerror}"
        ) from exc
    try:
        written = 0
        with os.fdopen(descriptor, "wb") as out:
            while chunk := source.read(_COPY_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise ModelFileError(f"archive {name}: the model is larger than it says")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def locate_model(path: Path, extract_dir: Path) -> Path:
    """The model file for a local file, directory or tar archive.

    A tar archive is extracted into ``extract_dir`` (only its model member).
    Raises ModelFileError if there is no model to load.
    """
    if path.is_dir():
        names = []
        for child in path.iterdir():
            if child.is_file():
                names.append(str(child))
            elif child.name in MODEL_FILE_NAMES:
                raise ModelFileError(f"{child} is not a readable file (a dangling link?)")
        return Path(_pick(names, f"directory {path}"))
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist")
    if is_tar_archive(path):
        return extract_model(path, extract_dir)
    return path


def read_sidecar(source: Path, name: str, max_bytes: int) -> bytes | None:
    """The file ``name`` that travels with the model in ``source``, or None if there is none.

    Sidecars (post-processing, priority scheme) sit beside model.bin: in the same
    directory as a model file, in a model directory, or as members of the
    model.tar.gz (matched by base name, read to memory, never extracted to a path).
    A sidecar larger than ``max_bytes`` is a ModelFileError.
    """
    if source.is_dir():
        return _read_bounded(source / name, max_bytes)
    if is_tar_archive(source):
        try:
            with tarfile.open(source, "r:*") as tar:
                member = _archive_index(tar, source.name).get(name)
                if member is None:
                    return None
                if member.size > max_bytes:
                    raise ModelFileError(f"{name} in {source.name} is too large")
                handle = tar.extractfile(member)
                return handle.read(max_bytes + 1) if handle is not None else None
        except (tarfile.TarError, EOFError) as exc:
            raise ModelFileError(f"archive {source.name} is not a readable tar file") from exc
    return _read_bounded(source.parent / name, max_bytes)


def _read_bounded(path: Path, max_bytes: int) -> bytes | None:
    if not path.is_file():
        if os.path.lexists(path):  # a dangling link, a directory, a FIFO: not silently absent
            raise ModelFileError(f"{path.name} beside the model is not a readable file")
        return None
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ModelFileError(f"{path.name} is too large")
    return data


def file_digest(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: A scheme.json is a few hundred bytes; a larger one is not ours.
MAX_SCHEME_BYTES = 64 * 1024


def read_model_scheme(source: Path, default: PriorityScheme = DEFAULT_SCHEME) -> PriorityScheme:
    """The priority scheme that travels with the model in ``source``, or ``default`` if none.

    ``source`` is what ``read_sidecar`` accepts (a model file, its directory or
    its model.tar.gz). A scheme.json that is there but unusable is a
    ModelFileError: serving with the wrong names would be worse than not serving.
    """
    raw = read_sidecar(source, SCHEME_FILE, MAX_SCHEME_BYTES)
    if raw is None:
        return default
    try:
        return scheme_from_dict(json.loads(raw), SCHEME_FILE)
    except (ValueError, UnicodeDecodeError) as exc:  # SchemeError and bad JSON alike
        raise ModelFileError(f"{SCHEME_FILE} of {source.name}: {exc}") from exc


@dataclass(frozen=True)
class CheckedModel:
    """A model file whose layout was checked, and the sidecars that travel with it."""

    #: The model file (extracted, if it came in an archive).
    path: Path
    layout: ModelLayout
    #: Its scheme.json, else the default scheme; names every label the model has.
    scheme: PriorityScheme
    #: Its postprocessing.json (over exactly the model's labels), None if it has none.
    postprocessing: PostProcessing | None


def check_model(
    source: Path,
    extract_dir: Path,
    default_scheme: PriorityScheme = DEFAULT_SCHEME,
    *,
    with_postprocessing: bool = True,
) -> CheckedModel:
    """Find the model in ``source`` and check it and its sidecars before anything loads it.

    ``source`` is a model file, its directory or its model.tar.gz (the model is
    extracted into ``extract_dir``). The model's layout must be sound and its labels
    the scheme's; its postprocessing.json (unless ``with_postprocessing`` is False:
    ``calibrate`` replaces it) must be over exactly the model's labels. Raises
    ModelFileError, ModelFormatError or PostProcessingError, each with one line.
    """
    path = locate_model(source, extract_dir)
    scheme = read_model_scheme(source, default_scheme)
    layout = check_model_file(path, scheme.labels)
    postprocessing = read_postprocessing(source) if with_postprocessing else None
    if postprocessing is not None:
        check_postprocessing_labels(postprocessing, layout.labels)
    return CheckedModel(path, layout, scheme, postprocessing)


def check_postprocessing_labels(postprocessing: PostProcessing, labels: Collection[str]) -> None:
    """PostProcessingError unless ``postprocessing`` is over exactly ``labels`` (the model's).

    A label the model lacks can win the corrected argmax and be answered for every
    ticket; a label it lacks makes every answer the model gives fail.
    """
    extra = sorted(set(postprocessing.labels) - set(labels))
    missing = sorted(set(labels) - set(postprocessing.labels))
    problems = []
    if extra:
        problems.append(f"it has {', '.join(extra)}, which the model lacks")
    if missing:
        problems.append(f"it lacks the model's {', '.join(missing)}")
    if problems:
        raise PostProcessingError(
            f"{POSTPROCESSING_FILE} does not fit the model: {'; '.join(problems)}"
        )
