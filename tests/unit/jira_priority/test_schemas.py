"""Request models: what their repr shows (powertools logs route arguments at DEBUG)."""

from __future__ import annotations

from jira_priority.schemas import PredictRequest


def test_a_ticket_repr_never_shows_its_text() -> None:
    request = PredictRequest.model_validate({"title": "secret crash", "description": "secret"})

    assert repr(request) == "PredictRequest(title=...)"
    assert "secret" not in f"{ {'request': request} }"


def test_a_batch_repr_counts_its_tickets() -> None:
    request = PredictRequest.model_validate(
        {"tickets": [{"text": "secret one"}, {"issue": {"fields": {"summary": "secret"}}}], "k": 2}
    )

    assert repr(request) == "PredictRequest(tickets=[2 tickets], k=2)"
    assert [repr(ticket) for ticket in request.all_tickets()] == [
        "Ticket(text=...)",
        "Ticket(issue=...)",
    ]
