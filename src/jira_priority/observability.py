"""Logger, Tracer and Metrics, configured by the POWERTOOLS_* variables template.yaml sets.

Ticket text is never logged: only counts, priorities, codes and timings.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
# Lambda's active tracing (template.yaml) already records every invocation; the
# SDK adds subsegments only for the calls that tell something: InvokeEndpoint and
# the model's S3 download (botocore). Patching the SDK's other twelve libraries
# (http.client among them) would trace each request twice and slow every call.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()


def count_prediction(priority: str) -> None:
    metrics.add_metric(name=f"Predicted{priority}", unit=MetricUnit.Count, value=1)


def count_error(code: str) -> None:
    name = "".join(part.capitalize() for part in code.split("_"))
    metrics.add_metric(name=f"Error{name}", unit=MetricUnit.Count, value=1)
