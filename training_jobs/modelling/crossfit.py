"""The rows post-processing is fitted on: answers of models that never saw the row's project.

A promise the service states (a calibrated probability, the precision behind
``confident``, an urgency) is met by a Jira site the model never trained on.
A random share of the training rows is the wrong place to fit it: those rows'
projects are in the model, and on the shared data a promise of 70 % fitted
that way was kept 60-64 % of the time on unseen projects. So the training rows
are cross-fitted: split into folds grouped by project (scikit-learn's
``GroupKFold``), each fold's rows answered by a model trained, with the same
settings, on the other folds. Every row then carries the answer of a model that
did not see its project, and the served model is trained on all rows.

With a single project there is nothing to group by: a random stratified share
of the rows is held out instead (``hold_out_for_calibration``), as before, and
the caller says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from training_jobs.modelling.postprocessing import FloatArray, probability_matrix

#: Folds of the cross-fitting (fewer when there are fewer projects).
DEFAULT_FOLDS = 5


class Labelled(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Line:
    """One training line: its label, its normalised text and its project."""

    label: str
    text: str
    project: str


@dataclass(frozen=True)
class CrossFitted:
    """Out-of-fold probabilities (rows x labels) for every line, with what made them."""

    probabilities: FloatArray
    lines: list[Line]
    folds: int
    projects: int

    def describe(self) -> dict[str, Any]:
        return {
            "method": "cross-fitted",
            "folds": self.folds,
            "projects": self.projects,
            "note": "each row answered by a model trained on the other folds' projects "
            "(folds grouped by project), so the figures are those of an unseen project",
        }


def projects_of(lines: Sequence[Line]) -> list[str]:
    return sorted({line.project for line in lines if line.project})


def can_cross_fit(lines: Sequence[Line]) -> bool:
    """Whether the lines come from at least two named projects (and every line has one)."""
    return all(line.project for line in lines) and len(projects_of(lines)) >= 2


def cross_fit(
    lines: Sequence[Line],
    labels: Sequence[str],
    train: Callable[[Sequence[Line]], Any],
    folds: int = DEFAULT_FOLDS,
) -> CrossFitted:
    """Every line's probabilities from the model of the folds without its project.

    ``train`` trains a fastText model on lines (as the served model is trained: the same
    settings, the same thinning) and returns it; it is called once per fold.
    """
    from sklearn.model_selection import GroupKFold

    if not can_cross_fit(lines):
        raise ValueError("cross-fitting needs lines of at least two named projects")
    groups = [line.project for line in lines]
    n_folds = min(folds, len(set(groups)))
    matrix = np.zeros((len(lines), len(labels)))
    splitter = GroupKFold(n_splits=n_folds)
    for train_rows, answer_rows in splitter.split(np.zeros(len(lines)), groups=groups):
        model = train([lines[i] for i in train_rows])
        matrix[answer_rows] = probability_matrix(
            model, [lines[i].text for i in answer_rows], labels
        )
    return CrossFitted(matrix, list(lines), n_folds, len(set(groups)))


def write_lines(path: Path, lines: Sequence[Labelled]) -> Path:
    """``lines`` as a fastText training file (``__label__N text`` per line)."""
    path.write_text("".join(f"{line.label} {line.text}\n" for line in lines), encoding="utf-8")
    return path
