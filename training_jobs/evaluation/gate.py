"""The gate before a model goes live: the same priority scheme, and not worse than the live model.

Both models are scored, each with its own post-processing, exactly as the
service would answer (``jira_priority.predictors`` + ``jira_priority.postprocessing``),
on the same held-out prepared file (``__label__N tokens`` lines that neither
model trained on). The candidate passes when its macro-F1 is at least the live
model's minus ``tolerance``.

Before any scoring, the two models' priority schemes (their ``scheme.json``,
else Apache's) are compared: labels are scored by number, so a candidate whose
scheme names them otherwise (say, reversed) would pass on macro-F1 and then
answer Optional where the live model said Blocker. A different scheme is refused
unless the caller allows the change explicitly (``--allow-scheme-change``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jira_priority.errors import ServiceError
from jira_priority.labels import PriorityScheme
from jira_priority.postprocessing import PostProcessingError, post_process
from training_jobs.data.readers import PreparedExample, read_prepared
from training_jobs.errors import CommandError
from training_jobs.evaluation.metrics import compute_metrics

if TYPE_CHECKING:
    from jira_priority.predictors.embedded import EmbeddedPredictor

#: The option that lets a candidate with another scheme through (promote, deploy --update).
ALLOW_SCHEME_CHANGE = "--allow-scheme-change"


class GateError(CommandError):
    """A model could not be scored (missing, damaged, unreadable held-out file)."""


class SchemeChangeError(GateError):
    """The candidate answers in another priority scheme than the live model."""


@dataclass(frozen=True)
class GateResult:
    candidate_macro_f1: float
    live_macro_f1: float
    tickets: int
    tolerance: float
    #: How the candidate's scheme differs from the live model's, when that was allowed.
    scheme_change: str | None = None

    @property
    def passed(self) -> bool:
        return self.candidate_macro_f1 >= self.live_macro_f1 - self.tolerance

    def describe(self) -> str:
        verdict = "passes" if self.passed else "is worse"
        return (
            f"candidate macro-F1 {self.candidate_macro_f1:.4f} vs live "
            f"{self.live_macro_f1:.4f} on {self.tickets} held-out tickets: the candidate {verdict}"
        )


def scheme_change(candidate: PriorityScheme, live: PriorityScheme) -> str | None:
    """How the candidate's answers would be named or acted on otherwise than the live model's
    (its priority names, lowest first, or its declared default), or None.

    The scheme's own name and the site names it maps (which only read input) do not count;
    a default only one of them declares does not either (an older scheme.json has none).
    """
    if candidate.names != live.names:
        return (
            "the candidate answers in another priority scheme than the live model: "
            f"{', '.join(candidate.names)} instead of {', '.join(live.names)} (lowest first), "
            "so the same label would get another name"
        )
    if None not in (candidate.default, live.default) and candidate.default != live.default:
        return (
            "the candidate's priority scheme has another default than the live model's: "
            f"{candidate.default} instead of {live.default}, so the same answer would be "
            "acted on otherwise"
        )
    return None


def checked_scheme_change(
    candidate: PriorityScheme, live: PriorityScheme, allow_change: bool
) -> str | None:
    """The change (allowed), None (no change), or SchemeChangeError (not allowed)."""
    change = scheme_change(candidate, live)
    if change is not None and not allow_change:
        raise SchemeChangeError(f"{change}; {ALLOW_SCHEME_CHANGE} replaces it anyway")
    return change


def load_model(model_uri: str) -> EmbeddedPredictor:
    """The model (path or s3:// URI of model.bin / directory / model.tar.gz), loaded and checked."""
    from jira_priority.predictors.embedded import EmbeddedPredictor

    predictor = EmbeddedPredictor(model_uri)
    try:
        predictor.scheme()  # loads the model and its sidecars
    except (ServiceError, ValueError) as exc:
        cause = exc.__cause__ or exc
        raise GateError(f"cannot score {model_uri}: {cause}") from exc
    return predictor


def compare_schemes(candidate_uri: str, live_uri: str, allow_change: bool) -> str | None:
    """``checked_scheme_change`` of two models, for a caller that does not score them."""
    return checked_scheme_change(
        load_model(candidate_uri).scheme(), load_model(live_uri).scheme(), allow_change
    )


def macro_f1_of(
    predictor: EmbeddedPredictor, examples: list[PreparedExample], model_uri: str
) -> float:
    """Macro-F1 of a loaded model, answering as the service does (its own post-processing)."""
    try:
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
    candidate_uri: str,
    live_uri: str,
    held_out: Path,
    tolerance: float = 0.0,
    *,
    allow_scheme_change: bool = False,
) -> GateResult:
    """Both models scored on ``held_out``; SchemeChangeError first if their schemes differ
    and the change is not allowed."""
    candidate, live = load_model(candidate_uri), load_model(live_uri)
    change = checked_scheme_change(candidate.scheme(), live.scheme(), allow_scheme_change)
    try:
        examples = list(read_prepared(held_out))
    except (OSError, ValueError, CommandError) as exc:
        raise GateError(f"cannot read the held-out file {held_out}: {exc}") from exc
    if not examples:
        raise GateError(f"the held-out file {held_out} has no tickets")
    return GateResult(
        candidate_macro_f1=macro_f1_of(candidate, examples, candidate_uri),
        live_macro_f1=macro_f1_of(live, examples, live_uri),
        tickets=len(examples),
        tolerance=tolerance,
        scheme_change=change,
    )
