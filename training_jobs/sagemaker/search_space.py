"""What a tuning job searches: AWS's documented BlazingText ranges and the user's changes.

Free of boto3, so the command line can check ``--range`` while parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from training_jobs.errors import CommandError
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters

OBJECTIVE_METRIC = "validation:accuracy"


@dataclass(frozen=True)
class ParameterRange:
    name: str
    low: float
    high: float
    integer: bool

    def as_request(self) -> dict[str, Any]:
        def text(value: float) -> str:
            return str(int(value)) if self.integer else repr(float(value))

        return {
            "Name": self.name,
            "MinValue": text(self.low),
            "MaxValue": text(self.high),
            "ScalingType": "Auto",
        }


#: AWS's recommended ranges for BlazingText text classification (mode is fixed to supervised).
DOCUMENTED_RANGES: tuple[ParameterRange, ...] = (
    ParameterRange("buckets", 1_000_000, 10_000_000, integer=True),
    ParameterRange("epochs", 5, 15, integer=True),
    ParameterRange("learning_rate", 0.005, 0.01, integer=False),
    ParameterRange("min_count", 0, 100, integer=True),
    ParameterRange("vector_dim", 32, 300, integer=True),
    ParameterRange("word_ngrams", 1, 3, integer=True),
)

_NUMERIC_TYPES = {
    f.name: f.type
    for f in fields(BlazingTextHyperparameters)
    if f.name != "mode" and f.type in ("int", "float", int, float)
}


def parse_range(text: str) -> ParameterRange:
    """``NAME=MIN:MAX`` as a range to search; ValueError saying what is wrong."""
    name, _, bounds = text.partition("=")
    name = name.strip().replace("-", "_")
    low_text, _, high_text = bounds.partition(":")
    if name not in _NUMERIC_TYPES:
        raise ValueError(
            f"{name!r} is not a numeric BlazingText hyperparameter "
            f"(one of {', '.join(sorted(_NUMERIC_TYPES))})"
        )
    integer = _NUMERIC_TYPES[name] in ("int", int)
    try:
        low, high = (int(v) if integer else float(v) for v in (low_text, high_text))
    except ValueError:
        kind = "integers" if integer else "numbers"
        raise ValueError(f"expected {name}=MIN:MAX with {kind}, got {text!r}") from None
    if not low < high:
        raise ValueError(f"{name}: MIN must be below MAX, got {text!r}")
    return ParameterRange(name, low, high, integer)


def search_space(overrides: list[ParameterRange], fixed: list[str]) -> list[ParameterRange]:
    ranges = {r.name: r for r in DOCUMENTED_RANGES}
    ranges.update({r.name: r for r in overrides})
    for name in fixed:
        key = name.replace("-", "_")
        if key not in _NUMERIC_TYPES:
            raise CommandError(f"--fixed {name}: not a tunable hyperparameter")
        ranges.pop(key, None)
    if not ranges:
        raise CommandError("nothing left to tune: every hyperparameter is --fixed")
    return sorted(ranges.values(), key=lambda r: r.name)
