"""A locally trained model as the ``model.tar.gz`` a SageMaker BlazingText endpoint loads,
and as the files ``promote`` copies over the served model's.

BlazingText's hosting container reads ``model.bin`` from the root of the
archive (what its training jobs write); the sidecars that travel with the
model (``postprocessing.json``, ``scheme.json`` and any other name in ``SIDECAR_FILES``) go
beside it, where ``jira_priority.model_files.read_sidecar`` finds them for both
backends. Members are added under fixed names, never the local paths.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from jira_priority.labels import SCHEME_FILE
from jira_priority.model_files import ModelFileError, locate_model
from jira_priority.postprocessing import FILE_NAME as POSTPROCESSING_FILE

#: Files that travel with model.bin when present beside it.
SIDECAR_FILES: tuple[str, ...] = (POSTPROCESSING_FILE, SCHEME_FILE)
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
    members = {"model.bin": model_file}
    for name in SIDECAR_FILES:
        sidecar = model_file.parent / name
        if sidecar.is_file():
            members[name] = sidecar
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    with tarfile.open(partial, "w:gz") as archive:
        for name, path in members.items():
            archive.add(path, arcname=name, recursive=False)
    partial.replace(output)
    return list(members)


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
