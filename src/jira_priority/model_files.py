"""Finding the fastText/BlazingText model file in what a user or SageMaker hands us.

A model arrives as ``model.bin`` / ``model.ftz``, as a directory holding one,
or as the ``model.tar.gz`` a SageMaker training job writes (BlazingText puts
``model.bin`` and ``model.vec`` in it). Only the model member is extracted,
to a file name chosen here, so a hostile archive cannot write outside the
target directory (no member path is ever used as a path).
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from pathlib import Path, PurePosixPath

from jira_priority.labels import (
    DEFAULT_SCHEME,
    SCHEME_FILE,
    PriorityScheme,
    SchemeError,
    read_scheme_file,
)

#: Model file names, preferred first: BlazingText writes model.bin; a
#: quantised model is model.ftz.
MODEL_FILE_NAMES: tuple[str, ...] = ("model.bin", "model.ftz")
MODEL_SUFFIXES: tuple[str, ...] = (".bin", ".ftz")
#: Small files that travel beside the model (and inside its archive): extracted
#: with it, under these fixed names, and read by their own loaders.
SIDECAR_FILES: tuple[str, ...] = (SCHEME_FILE,)
#: A sidecar is a few kB; anything larger in an archive is not ours.
MAX_SIDECAR_BYTES = 1 << 20


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
    raise ModelFileError(f"{describe} holds several model files: {', '.join(sorted(candidates))}")


def extract_model(archive: Path, target_dir: Path) -> Path:
    """Extract the model member of a tar archive into ``target_dir``; return its path.

    Only regular-file members count; links, devices and directories are
    ignored. The output name is the member's base name checked against
    MODEL_SUFFIXES, never its path, so ``../`` or absolute members cannot
    escape ``target_dir``.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            chosen = members[_pick(list(members), f"archive {archive.name}")]
            suffix = PurePosixPath(chosen.name).suffix
            if suffix not in MODEL_SUFFIXES:
                raise ModelFileError(f"archive {archive.name}: {chosen.name} is not a model file")
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / f"model{suffix}"
            source = tar.extractfile(chosen)
            if source is None:
                raise ModelFileError(f"archive {archive.name}: {chosen.name} cannot be read")
            partial = target.with_suffix(suffix + ".part")
            with source, partial.open("wb") as out:
                shutil.copyfileobj(source, out, length=1 << 20)
            partial.replace(target)
            _extract_sidecars(tar, members, target_dir)
            return target
    except (tarfile.TarError, EOFError) as exc:
        raise ModelFileError(f"archive {archive.name} is not a readable tar file") from exc


def _extract_sidecars(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], target_dir: Path
) -> None:
    """Extract each SIDECAR_FILES member (by base name) beside the model; drop stale ones."""
    by_name = {PurePosixPath(name).name: member for name, member in members.items()}
    for name in SIDECAR_FILES:
        target = target_dir / name
        member = by_name.get(name)
        if member is None or member.size > MAX_SIDECAR_BYTES:
            target.unlink(missing_ok=True)  # an earlier archive's file would not match
            continue
        source = tar.extractfile(member)
        if source is None:
            continue
        with source:
            target.write_bytes(source.read(MAX_SIDECAR_BYTES))


def read_model_scheme(model_path: Path, default: PriorityScheme = DEFAULT_SCHEME) -> PriorityScheme:
    """The priority scheme in ``scheme.json`` beside a model file, or ``default`` if none.

    Raises ModelFileError for a scheme file that is there but unusable: serving
    with the wrong names would be worse than not serving.
    """
    path = model_path.parent / SCHEME_FILE
    if not path.is_file():
        return default
    try:
        return read_scheme_file(path)
    except SchemeError as exc:
        raise ModelFileError(f"{SCHEME_FILE} beside {model_path.name}: {exc}") from exc


def locate_model(path: Path, extract_dir: Path) -> Path:
    """The model file for a local file, directory or tar archive.

    A tar archive is extracted into ``extract_dir`` (only its model member).
    Raises ModelFileError if there is no model to load.
    """
    if path.is_dir():
        names = [str(child) for child in path.iterdir() if child.is_file()]
        return Path(_pick(names, f"directory {path}"))
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist")
    if is_tar_archive(path):
        return extract_model(path, extract_dir)
    return path


def file_digest(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
