"""The gate before a model goes live: the candidate must not be worse than the live model.

Both models are scored, each with its own post-processing, exactly as the
service would answer (``jira_priority.predictors`` + ``jira_priority.postprocessing``),
on the same held-out prepared file (``__label__N tokens`` lines that neither
model trained on). The candidate passes when its macro-F1 is at least the live
model's minus ``tolerance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jira_priority.errors import ServiceError
from jira_priority.postprocessing import PostProcessingError, post_process
from training_jobs.data.readers import PreparedExample, read_prepared
from training_jobs.errors import CommandError
from training_jobs.evaluation.metrics import compute_metrics


class GateError(CommandError):
    """A model could not be scored (missing, damaged, unreadable held-out file)."""


@dataclass(frozen=True)
class GateResult:
    candidate_macro_f1: float
    live_macro_f1: float
    tickets: int
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.candidate_macro_f1 >= self.live_macro_f1 - self.tolerance

    def describe(self) -> str:
        verdict = "passes" if self.passed else "is worse"
        return (
            f"candidate macro-F1 {self.candidate_macro_f1:.4f} vs live "
            f"{self.live_macro_f1:.4f} on {self.tickets} held-out tickets: the candidate {verdict}"
        )


def macro_f1_of(model_uri: str, examples: list[PreparedExample]) -> float:
    """Macro-F1 of a model (path or s3:// URI of model.bin / directory / model.tar.gz)."""
    from jira_priority.predictors.embedded import EmbeddedPredictor

    try:
        predictor = EmbeddedPredictor(model_uri)
        postprocessing = predictor.postprocessing()
        scheme = predictor.scheme()  # its scheme.json, else apache
        answers = predictor.predict([e.text for e in examples], len(scheme))
        predicted = [
            (scheme.from_label(post_process(answer, 1, postprocessing).ranking[0].label),)
            for answer in answers
        ]
        truth = [e.level(scheme) for e in examples]
    except (ServiceError, PostProcessingError, ValueError) as exc:
        cause = exc.__cause__ or exc
        raise GateError(f"cannot score {model_uri}: {cause}") from exc
    return compute_metrics(truth, predicted, scheme).macro_f1


def evaluate_gate(
    candidate_uri: str, live_uri: str, held_out: Path, tolerance: float = 0.0
) -> GateResult:
    try:
        examples = list(read_prepared(held_out))
    except (OSError, ValueError, CommandError) as exc:
        raise GateError(f"cannot read the held-out file {held_out}: {exc}") from exc
    if not examples:
        raise GateError(f"the held-out file {held_out} has no tickets")
    return GateResult(
        candidate_macro_f1=macro_f1_of(candidate_uri, examples),
        live_macro_f1=macro_f1_of(live_uri, examples),
        tickets=len(examples),
        tolerance=tolerance,
    )
