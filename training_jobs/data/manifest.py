"""``manifest.json``: what ``prepare`` wrote, with which settings, read back by evaluate.

``prepare`` writes it beside train.txt, validation.txt and holdout.txt;
``evaluate`` reads the settings (the token limit, the held-out project) back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
HOLDOUT_FILE = "holdout.txt"
#: Beside train.txt: the project of each of its lines, in order (train-local cross-fits its
#: post-processing with folds grouped by project). BlazingText never reads it.
PROJECTS_FILE_SUFFIX = ".projects"


def projects_file(lines_file: Path) -> Path:
    """``train.txt`` -> ``train.txt.projects``: the line-by-line projects of a prepared file."""
    return lines_file.with_name(lines_file.name + PROJECTS_FILE_SUFFIX)


def prepare_settings(path: Path) -> dict[str, Any]:
    """The settings of the ``prepare`` run that wrote ``path`` (from its manifest), or {}."""
    manifest_path = path.with_name(MANIFEST_FILE)
    if not manifest_path.is_file():
        return {}
    try:
        settings = json.loads(manifest_path.read_text(encoding="utf-8"))["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return settings if isinstance(settings, dict) else {}


def holdout_project_of(path: Path) -> str:
    """The project of a ``prepare`` hold-out file that holds exactly one, else "".

    Prepared lines carry no project; ``prepare --holdout-project X`` writes
    ``holdout.txt`` beside a ``manifest.json`` that names X, which is enough to
    label the report and its per-project breakdown.
    """
    if path.name != HOLDOUT_FILE:
        return ""
    projects = prepare_settings(path).get("holdout_projects")
    if isinstance(projects, list) and len(projects) == 1 and isinstance(projects[0], str):
        return projects[0].upper()  # prepare stores them case-folded; Jira keys are upper case
    return ""
