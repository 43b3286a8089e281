"""Ticket text in, priorities out: the business logic behind ``POST /predict``.

Normalises every ticket with the same function training used, asks the
configured predictor, and maps ``__label__N`` back to a priority. It never sees
an HTTP event and works the same for every backend.
"""

from __future__ import annotations

from collections.abc import Sequence

from jira_priority.errors import BadModelResponseError, InvalidRequestError
from jira_priority.labels import PriorityScheme, UnknownLabelError
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
        rankings = self.predictor.predict(texts, k)
        if len(rankings) != len(texts):
            raise BadModelResponseError(
                f"The model answered {len(rankings)} result(s) for {len(texts)} ticket(s)."
            )
        scheme = scheme_of(self.predictor)
        return [self._prediction(ranking, scheme) for ranking in rankings]

    def _prediction(self, ranking: list[LabelScore], scheme: PriorityScheme) -> Prediction:
        if not ranking:
            raise BadModelResponseError("The model answered no label.")
        try:
            ranked = [
                RankedPriority(priority=scheme.from_label(label).value, probability=round(prob, 6))
                for label, prob in ranking
            ]
        except UnknownLabelError as exc:
            raise BadModelResponseError(
                f"The model answered a label outside the priorities of its scheme ({scheme.name})."
            ) from exc
        best_label = ranking[0][0]
        return Prediction(
            priority=ranked[0].priority,
            label=best_label,
            probability=ranked[0].probability,
            ranking=ranked,
            model=self.predictor.model_id,
        )
