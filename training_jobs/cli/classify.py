"""``classify``: the priority of one ticket, from the shell.

The ticket goes through the Lambda's own classification path (the schema's
ticket shape, the shared normaliser, the embedded predictor and the label
map), so the answer is the one ``POST /predict`` would give for the same model;
``--json`` prints exactly that response body.
"""

from __future__ import annotations

import sys

import click

from jira_priority.labels import PRIORITIES
from training_jobs.cli.options import model_option


@click.command("classify")
@click.argument("title")
@click.option("-d", "--description", default=None, help="the ticket's description (optional)")
@click.option(
    "-k",
    type=click.IntRange(1, len(PRIORITIES)),
    default=3,
    show_default=True,
    help="how many ranked priorities to show",
)
@model_option()
@click.option("--json", "as_json", is_flag=True, help="print the JSON body POST /predict answers")
def command(title: str, description: str | None, k: int, model: str, as_json: bool) -> int:
    """Predict the priority of one ticket: TITLE is its title (summary), or '-' to read the
    whole ticket text from stdin. The answer is the one POST /predict gives for the same
    model."""
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "fasttext")
    # Imported here: the other commands do not need pydantic models or a model file.
    from jira_priority.classifier import PriorityClassifier
    from jira_priority.errors import ServiceError
    from jira_priority.schemas import Ticket
    from training_jobs.modelling.loading import load_model

    text = sys.stdin.read() if title == "-" else title
    classifier = PriorityClassifier(load_model(model), max_batch_size=1)
    try:
        ticket = Ticket(title=text, description=description)
        prediction = classifier.classify([ticket], k)[0]
    except ServiceError as error:
        raise CommandError(error.public_message) from error
    if as_json:
        print(prediction.model_dump_json())
        return 0
    print(f"{prediction.priority} ({prediction.probability:.2f})")
    if len(prediction.ranking) > 1:
        for ranked in prediction.ranking:
            print(f"  {ranked.priority:<9} {ranked.probability:.4f}")
    return 0
