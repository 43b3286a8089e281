"""Ticket text in, priorities out: the business logic behind ``POST /predict``.

Normalises every ticket with the same function training used, asks the
configured predictor for every label's probability, applies the model's
post-processing (``jira_priority.postprocessing``), cuts to the client's ``k``
and maps ``__label__N`` back to a priority of the model's scheme. It never sees an HTTP event and
works the same for every backend.
"""

from __future__ import annotations

from collections.abc import Sequence

from jira_priority.errors import BadModelResponseError, InvalidRequestError
from jira_priority.labels import PriorityScheme, UnknownLabelError
from jira_priority.postprocessing import (
    PostProcessed,
    PostProcessing,
    PostProcessingError,
    post_process,
)
from jira_priority.predictors.base import LabelScore, Predictor, scheme_of
from jira_priority.schemas import Prediction, RankedPriority, Ticket
from jira_priority.text import normalise_ticket


class PriorityClassifier:
    def __init__(self, predictor: Predictor, max_batch_size: int) -> None:
        self.predictor = predictor
        self.max_batch_size = max_batch_size

    def classify(self, tickets: Sequence[Ticket], k: int, batch: bool = False) -> list[Prediction]:
        """One prediction per ticket, in order; at most ``max_batch_size`` tickets.

        ``batch`` says the tickets came as ``{"tickets": [...]}``, so that errors
        name them the way validation does (``tickets.2``).
        """
        if len(tickets) > self.max_batch_size:
            raise InvalidRequestError(
                f"tickets: at most {self.max_batch_size} tickets per request, got {len(tickets)}"
            )
        texts = [normalise_ticket(*ticket.parts()) for ticket in tickets]
        for index, text in enumerate(texts):
            if not text:
                where = f"tickets.{index}" if batch else "ticket"
                raise InvalidRequestError(f"{where}: no words to classify")
        postprocessing = self.predictor.postprocessing()
        scheme = scheme_of(self.predictor)
        # With post-processing, every label of the model's scheme, so that it sees the
        # whole distribution (cut to k after); without, the model's own best k.
        asked = len(scheme) if postprocessing is not None else min(k, len(scheme))
        rankings = self.predictor.predict(texts, asked)
        if len(rankings) != len(texts):
            raise BadModelResponseError(
                f"The model answered {len(rankings)} result(s) for {len(texts)} ticket(s)."
            )
        return [self._prediction(ranking, k, scheme, postprocessing) for ranking in rankings]

    def _prediction(
        self,
        ranking: list[LabelScore],
        k: int,
        scheme: PriorityScheme,
        postprocessing: PostProcessing | None,
    ) -> Prediction:
        if not ranking:
            raise BadModelResponseError("The model answered no label.")
        default = scheme.default_level
        processed = _post_process(ranking, k, postprocessing, default.label if default else None)
        try:
            ranked = [
                RankedPriority(
                    priority=scheme.from_label(item.label).value,
                    probability=round(item.probability, 6),
                    calibrated_probability=_rounded(item.calibrated_probability),
                )
                for item in processed.ranking
            ]
        except UnknownLabelError as exc:
            raise BadModelResponseError(
                f"The model answered a label outside the priorities of its scheme ({scheme.name})."
            ) from exc
        return Prediction(
            priority=ranked[0].priority,
            label=processed.ranking[0].label,
            probability=ranked[0].probability,
            # The answer's confidence (top-label calibrated), not its priority's ranked odds.
            calibrated_probability=_rounded(processed.calibrated_probability),
            confident=processed.confident,
            action=processed.action,
            urgency=_rounded(processed.urgency),
            ranking=ranked,
            model=self.predictor.model_id,
        )


def _post_process(
    ranking: list[LabelScore],
    k: int,
    postprocessing: PostProcessing | None,
    default_label: str | None,
) -> PostProcessed:
    try:
        return post_process(ranking, k, postprocessing, default_label)
    except PostProcessingError as exc:
        raise BadModelResponseError(
            "The model answered a label its post-processing does not know."
        ) from exc


def _rounded(value: float | None) -> float | None:
    return round(value, 6) if value is not None else None
