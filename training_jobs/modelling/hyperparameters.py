"""BlazingText supervised-mode hyperparameters: one definition for both trainers.

The names and meanings are SageMaker BlazingText's, so the same settings drive
``train-local`` (fastText in-process) and ``train`` (a SageMaker training job).
The defaults are compact enough to serve in-process: BlazingText's own
defaults (buckets 2,000,000 x vector_dim 100) make an ~800 MB model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class BlazingTextHyperparameters:
    mode: str = "supervised"
    epochs: int = 10
    learning_rate: float = 0.5
    vector_dim: int = 32
    word_ngrams: int = 2
    min_count: int = 2
    buckets: int = 100_000
    early_stopping: bool = False
    patience: int = 4
    min_epochs: int = 5

    def __post_init__(self) -> None:
        if self.mode != "supervised":
            raise ValueError("only mode=supervised (text classification) is supported")
        positive = ("epochs", "vector_dim", "word_ngrams", "buckets", "patience", "min_epochs")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 0 < self.learning_rate <= 1:
            raise ValueError("learning_rate must be in (0, 1]")
        if self.min_count < 0:
            raise ValueError("min_count must be at least 0")

    def as_sagemaker(self) -> dict[str, str]:
        """The HyperParameters map of CreateTrainingJob (every value a string)."""
        return {
            name: (str(value).lower() if isinstance(value, bool) else str(value))
            for name, value in asdict(self).items()
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> BlazingTextHyperparameters:
        """The hyperparameters among a command's options (ValueError if one is out of range)."""
        return cls(**{f.name: options[f.name] for f in fields(cls) if f.name != "mode"})


#: What each option means, as ``--help`` says it.
HELP = {
    "epochs": "passes over the training data",
    "learning_rate": "step size of the parameter updates",
    "vector_dim": "size of the word and n-gram vectors",
    "word_ngrams": "length of word n-grams used as features (2 = words and bigrams)",
    "min_count": "words seen fewer times than this are dropped",
    "buckets": "hash buckets for word n-grams (model size grows with buckets x vector_dim)",
    "early_stopping": "stop when validation accuracy stops improving (needs a validation file)",
    "patience": "epochs without improvement before early stopping",
    "min_epochs": "epochs to train before early stopping may stop",
}
