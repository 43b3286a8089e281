"""A locally trained model as the ``model.tar.gz`` a SageMaker BlazingText endpoint loads,
and as the files ``promote`` copies over the served model's.

BlazingText's hosting container reads ``model.bin`` from the root of the
archive (what its training jobs write); the sidecars that travel with the
model (``postprocessing.json``, ``scheme.json`` and any other name in ``SIDECAR_FILES``) go
beside it, where ``jira_priority.model_files.read_sidecar`` finds them for both
backends. Members are added under fixed names, never the local paths, and only as
regular files: a model.bin that is a link (to a run directory, say) goes in as the
file it points to, never as a link that would dangle wherever the archive is
unpacked. The model and its sidecars are checked as the service checks them at
load (``model_files.check_model``), so an archive that would not load is never written.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

from jira_priority.model_files import (
    SIDECAR_FILES,
    ModelFileError,
    check_model,
    is_tar_archive,
    locate_model,
)

ARCHIVE_NAME = "model.tar.gz"
#: What ``promote`` copies from a candidate's directory over the served model's.
PROMOTED_FILES = ("model.bin", *SIDECAR_FILES, "training.json")


def package_model(model: Path, output: Path) -> list[str]:
    """Write ``output`` (a model.tar.gz) from a model file or directory; return its member names.

    ``model`` is a model.bin (its sidecars are read from its directory) or a
    directory holding one. A quantised model.ftz is refused: BlazingText hosting
    expects model.bin.
    """
    model_file = locate_model(model, model) if model.is_dir() else model
    if not model_file.is_file():
        raise ModelFileError(f"{model_file} does not exist")
    if model_file.suffix != ".bin":
        raise ModelFileError(f"{model_file.name}: a BlazingText endpoint loads model.bin only")
    if is_tar_archive(model_file):
        raise ModelFileError(f"{model_file} is an archive: package its model directory")
    with tempfile.TemporaryDirectory() as unused:  # nothing is extracted from a model file
        check_model(model_file, Path(unused))  # its layout, scheme.json and postprocessing.json
    members = {"model.bin": model_file}
    for name in SIDECAR_FILES:
        sidecar = model_file.parent / name
        if os.path.lexists(sidecar):  # a dangling link is refused below, not left out
            members[name] = sidecar
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    try:
        with tarfile.open(partial, "w:gz") as archive:
            for name, path in members.items():
                _add_regular_file(archive, path, name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)
    return list(members)


def _add_regular_file(archive: tarfile.TarFile, path: Path, name: str) -> None:
    """Add the file at ``path`` (following a link) as the regular member ``name``."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        where = f"{path} (a link to {os.readlink(path)})" if path.is_symlink() else str(path)
        raise ModelFileError(f"cannot read {where}: {exc.strerror}") from exc
    with handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{path} is not a regular file")
        member = tarfile.TarInfo(name)
        member.size = info.st_size
        member.mtime = int(info.st_mtime)
        member.mode = 0o644
        archive.addfile(member, handle)


def promote(candidate: Path, live: Path) -> list[str]:
    """Copy the candidate's files over the live directory's; drop a live sidecar it lacks."""
    live.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in PROMOTED_FILES:
        source, target = candidate / name, live / name
        if source.is_file():
            partial = target.with_name(name + ".part")
            shutil.copyfile(source, partial)
            partial.replace(target)
            copied.append(name)
        elif target.exists() and name != "model.bin":
            target.unlink()  # the live one belonged to the replaced model
    return copied
