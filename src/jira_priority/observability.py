"""Logger, Tracer and Metrics, configured by the POWERTOOLS_* variables template.yaml sets.

Ticket text is never logged: only counts, priorities, codes and timings. The
Logger's level is the settings' (``logger_level``): an invalid POWERTOOLS_LOG_LEVEL
stops the start-up with the settings' one-line error, not at this import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from jira_priority.settings import logger_level

logger = Logger(level=logger_level())
metrics = Metrics()


def trace_aws_calls() -> None:
    """X-Ray subsegments for every AWS call the function makes (``TRACE_AWS_CALLS``).

    Lambda's active tracing (template.yaml) records every invocation (its init,
    invocation and overhead) without any SDK. This adds a subsegment per botocore
    call: InvokeEndpoint (latency, retries, throttling) or the model's S3
    download. Powertools' Tracer imports the X-Ray SDK even when disabled, so it
    is created only here. Handler and method subsegments would repeat Lambda's
    own; patching the SDK's other libraries (http.client among them) would trace
    each call twice.
    """
    Tracer(patch_modules=["botocore"])


def count_predictions(priorities: Iterable[str]) -> None:
    """One PredictedX metric per priority answered, valued by how often (a batch adds once)."""
    for priority, count in Counter(priorities).items():
        metrics.add_metric(name=f"Predicted{priority}", unit=MetricUnit.Count, value=count)


def count_actions(actions: Iterable[str | None]) -> None:
    """One ActionX metric per action answered (set, keep, triage), valued by how often."""
    for action, count in Counter(a for a in actions if a is not None).items():
        metrics.add_metric(name=f"Action{action.capitalize()}", unit=MetricUnit.Count, value=count)


def count_error(code: str) -> None:
    name = "".join(part.capitalize() for part in code.split("_"))
    metrics.add_metric(name=f"Error{name}", unit=MetricUnit.Count, value=1)
