"""A real fastText model, trained in a second on a few made-up tickets."""

from __future__ import annotations

from pathlib import Path

import fasttext

from jira_priority.labels import Priority
from jira_priority.text import normalise_ticket

EXAMPLES: dict[Priority, list[str]] = {
    Priority.BLOCKER: [
        "cluster down data loss namenode will not start",
        "build broken release blocked",
    ],
    Priority.CRITICAL: ["crash under load out of memory", "deadlock corrupts the index"],
    Priority.MAJOR: ["query returns wrong results", "job fails when input is empty"],
    Priority.MINOR: ["confusing log message on shutdown", "web ui column misaligned"],
    Priority.TRIVIAL: ["typo in javadoc", "misspelled word in comment"],
}


def train_tiny_model(directory: Path) -> Path:
    """Train on EXAMPLES (repeated) and return the path of model.bin."""
    lines = [
        f"{priority.label} {normalise_ticket(text)}"
        for priority, texts in EXAMPLES.items()
        for text in texts
    ]
    training_file = directory / "tiny.train"
    training_file.write_text("\n".join(lines * 20) + "\n", encoding="utf-8")
    model = fasttext.train_supervised(
        input=str(training_file),
        epoch=25,
        lr=0.5,
        dim=10,
        wordNgrams=1,
        minCount=1,
        bucket=1000,
        thread=1,
        seed=7,
        verbose=0,
    )
    path = directory / "model.bin"
    model.save_model(str(path))
    return path
