"""Tiny, real fastText models trained inside the tests (milliseconds, no shared data).

Each priority gets its own vocabulary, so a model trained on these lines must
tell them apart; a test that checks the predicted priority therefore fails if
the model, the label map or the normaliser is wired wrongly.
"""

from __future__ import annotations

import random
from pathlib import Path

from jira_priority.labels import Priority

#: Words that mark each priority in the synthetic tickets.
SIGNAL_WORDS: dict[Priority, tuple[str, ...]] = {
    Priority.TRIVIAL: ("typo", "javadoc", "spelling", "whitespace"),
    Priority.MINOR: ("cosmetic", "warning", "message", "wording"),
    Priority.MAJOR: ("query", "fails", "option", "ignored"),
    Priority.CRITICAL: ("deadlock", "hang", "corrupt", "leak"),
    Priority.BLOCKER: ("crash", "outage", "dataloss", "unbootable"),
}
COMMON_WORDS = ("the", "when", "server", "client", "after", "upgrade", "with", "on")

#: One ticket per priority that a model trained on ``synthetic_lines`` gets right.
PROBES: dict[Priority, str] = {
    priority: " ".join((*words, "the", "server")) for priority, words in SIGNAL_WORDS.items()
}


def synthetic_text(priority: Priority, rng: random.Random) -> str:
    words = [rng.choice(SIGNAL_WORDS[priority]) for _ in range(3)]
    words += [rng.choice(COMMON_WORDS) for _ in range(4)]
    rng.shuffle(words)
    return " ".join(words)


def synthetic_lines(per_priority: int = 60, seed: int = 0) -> list[str]:
    """BlazingText lines, ``per_priority`` for each of the five priorities, shuffled."""
    rng = random.Random(seed)
    lines = [
        f"{priority.label} {synthetic_text(priority, rng)}"
        for priority in SIGNAL_WORDS
        for _ in range(per_priority)
    ]
    rng.shuffle(lines)
    return lines


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def train_tiny_model(
    directory: Path, lines: list[str] | None = None, name: str = "model.bin"
) -> Path:
    """Train a small supervised fastText model on ``lines`` and save it as ``directory/name``."""
    import fasttext

    train_file = write_lines(directory / "tiny-train.txt", lines or synthetic_lines())
    model = fasttext.train_supervised(
        input=str(train_file),
        epoch=20,
        lr=0.5,
        dim=8,
        bucket=1000,
        wordNgrams=1,
        minCount=1,
        thread=1,
        seed=1,
        verbose=0,
    )
    path = directory / name
    model.save_model(str(path))
    return path
