"""``classify``: the priority of one ticket, from the shell.

The ticket goes through the Lambda's own classification path (the schema's
ticket shape, the shared normaliser, the embedded predictor and the label
map), so the answer is the one ``POST /predict`` would give for the same model;
``--json`` prints exactly that response body.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from jira_priority.labels import PRIORITIES
from training_jobs.console import doc_summary, fail
from training_jobs.serve import add_model_argument


def _ticket_text(args: argparse.Namespace) -> str:
    if args.title == "-":
        return sys.stdin.read()
    return str(args.title)


def run(args: argparse.Namespace) -> int:
    # Imported here: the other commands do not need pydantic models or a model file.
    from jira_priority.classifier import PriorityClassifier
    from jira_priority.errors import ServiceError
    from jira_priority.predictors.embedded import EmbeddedPredictor, ModelLoadError
    from jira_priority.schemas import Ticket

    title = _ticket_text(args)
    try:
        predictor = EmbeddedPredictor(args.model)
        predictor.load()
        classifier = PriorityClassifier(predictor, max_batch_size=1)
        ticket = Ticket(title=title, description=args.description)
        prediction = classifier.classify([ticket], args.k)[0]
    except ModelLoadError as exc:
        return fail("classify", str(exc))
    except ServiceError as exc:
        return fail("classify", exc.public_message)
    if args.json:
        print(prediction.model_dump_json())
        return 0
    print(f"{prediction.priority} ({prediction.probability:.2f})")
    if len(prediction.ranking) > 1:
        for ranked in prediction.ranking:
            print(f"  {ranked.priority:<9} {ranked.probability:.4f}")
    return 0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "classify",
        help="predict the priority of one ticket with a local or S3 model",
        description=doc_summary(__doc__),
    )
    parser.add_argument(
        "title",
        help="the ticket's title (summary); '-' reads the whole ticket text from stdin",
    )
    parser.add_argument(
        "-d", "--description", default=None, help="the ticket's description (optional)"
    )
    parser.add_argument(
        "-k",
        type=int,
        default=3,
        choices=range(1, len(PRIORITIES) + 1),
        metavar="K",
        help=f"how many ranked priorities to show, 1-{len(PRIORITIES)} (default: 3)",
    )
    add_model_argument(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the JSON body POST /predict would answer"
    )
    parser.set_defaults(handler=run)
