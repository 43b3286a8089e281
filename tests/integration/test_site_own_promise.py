"""A site's own promise: calibrate on a project's older half, served, kept on its newer half.

The model is trained on the shared data without HDFS (prepare --holdout-project
HDFS, train-local with its cross-fitted post-processing), as a site that never
trained on its own tickets would meet it. ``calibrate --data`` then fits the
post-processing on HDFS's older half (by key number), leaving model.bin as it is,
and the service's own answers (the embedded predictor behind the classifier) are
scored on the newer half: wherever confident (or set) answers cover at least 5 %
of the newer tickets, they are right at least the promise less 0.05 of the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from training_jobs.cli import main
from training_jobs.data.readers import TicketRow, read_tickets

from jira_priority.classifier import PriorityClassifier
from jira_priority.labels import APACHE
from jira_priority.predictors.embedded import EmbeddedPredictor
from jira_priority.schemas import Ticket
from jira_priority.text import normalise_ticket

pytestmark = pytest.mark.integration

DATA = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "jira" / "apache_bugs.csv.gz"
)
PROJECT = "HDFS"
TARGET = 0.7


def test_a_promise_fitted_on_a_projects_older_half_holds_on_its_newer_half(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    assert main(["prepare", str(DATA), "-o", str(data), "--holdout-project", PROJECT]) == 0
    model = tmp_path / "model"
    assert main(["train-local", "--train", str(data / "train.txt"), "--validation", "",
                 "-o", str(model), "--threads", "2"]) == 0  # fmt: skip
    older, newer = halves_by_key(t for t in read_tickets(DATA) if t.project == PROJECT)
    history = tmp_path / "older.txt"
    history.write_text(
        "".join(f"{label(t)} {normalise_ticket(t.title, t.description)}\n" for t in older),
        encoding="utf-8",
    )
    site = tmp_path / "site"

    code = main(["calibrate", "--model", str(model), "--data", str(history), "-o", str(site),
                 "--target-precision", str(TARGET)])  # fmt: skip

    assert code == 0
    assert (site / "model.bin").read_bytes() == (model / "model.bin").read_bytes()
    classifier = PriorityClassifier(EmbeddedPredictor(str(site / "model.bin")), len(newer))
    truths = [APACHE.from_name(t.priority).value for t in newer]
    answers = []
    for start in range(0, len(newer), 500):
        chunk = [Ticket(title=t.title, description=t.description) for t in newer[start:][:500]]
        answers += classifier.classify(chunk, k=1, batch=True)
    assert {a.action for a in answers} <= {"set", "keep", "triage"}
    for flagged in (
        [a.confident for a in answers],
        [a.action == "set" for a in answers],
    ):
        chosen = [a.priority == t for a, t, f in zip(answers, truths, flagged, strict=True) if f]
        print(f"flagged {len(chosen)} of {len(answers)}, right {sum(chosen)}")
        if len(chosen) >= 0.05 * len(answers):
            assert sum(chosen) / len(chosen) >= TARGET - 0.05


def halves_by_key(tickets: Iterable[TicketRow]) -> tuple[list[TicketRow], list[TicketRow]]:
    """The older and the newer half of a project's tickets, by their keys' numbers."""
    ordered = sorted(tickets, key=lambda t: int(t.key.rpartition("-")[2]))
    return ordered[: len(ordered) // 2], ordered[len(ordered) // 2 :]


def label(ticket: TicketRow) -> str:
    return APACHE.from_name(ticket.priority).label
