"""SageMaker resource names: the rules, the defaults and generated names.

Kept free of boto3 so the command line can check a name while parsing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from training_jobs.errors import CommandError

DEFAULT_PREFIX = "jira-priority"
#: The longest name SageMaker allows for most resources (a tuning job's is shorter).
MAX_NAME_LENGTH = 63
#: SageMaker resource names: letters, digits and single hyphens inside.
_RESOURCE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


def resource_name(text: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """``text`` if it is a SageMaker name; ValueError saying the rule if not."""
    if len(text) > MAX_NAME_LENGTH or not _RESOURCE_NAME.match(text):
        raise ValueError(
            f"{text!r} is not a SageMaker name: 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    if len(text) > max_length:
        raise ValueError(f"{text!r} is longer than the {max_length} characters allowed here")
    return text


def endpoint_name(text: str) -> str:
    """A SageMaker name in lower case, as the stack's SageMakerEndpointName parameter takes it."""
    name = resource_name(text)
    if name != name.lower():
        raise ValueError(
            f"{text!r}: use lower case, as the stack's SageMakerEndpointName parameter does"
        )
    return name


def timestamped_name(
    base: str, *, max_length: int = MAX_NAME_LENGTH, now: datetime | None = None
) -> str:
    """``base-YYYYMMDD-HHMMSS`` (UTC): unique per second, sortable, a valid SageMaker name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    name = f"{base}-{stamp}"
    if len(name) > max_length:
        raise CommandError(
            f"{name!r} is longer than the {max_length} characters SageMaker allows here; "
            "use a shorter base name"
        )
    return name


def job_name(explicit: str | None, base: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """``--job-name`` when given, else ``--base-name`` with the time (``timestamped_name``)."""
    return explicit or timestamped_name(base, max_length=max_length)
