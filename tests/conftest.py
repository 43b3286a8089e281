"""Shared fixtures: environment, a Lambda context, and the one event loader."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = REPO_ROOT / "events"
TEST_ENDPOINT = "jira-priority-test"

# The handler reads its settings at import, so the environment is set before any
# test module imports it. Fake credentials keep a developer's real ones out.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "jira-priority",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_DEV": "false",
        "PREDICTOR_BACKEND": "sagemaker",
        "SAGEMAKER_ENDPOINT_NAME": TEST_ENDPOINT,
    }
)
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"):
    os.environ.pop(variable, None)


# Property-based tests: CI runs a few hundred examples per property (a few thousand
# in all, well under a minute); HYPOTHESIS_SOAK=1 runs a long soak instead.
# Timings are asserted by the tests themselves, so hypothesis' own deadline is off.
hypothesis_settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "soak", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("soak" if os.environ.get("HYPOTHESIS_SOAK") == "1" else "ci")


def load_event(name: str) -> dict[str, Any]:
    """events/NAME.json, the same file `sam local invoke -e` takes."""
    with (EVENTS_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        event: dict[str, Any] = json.load(handle)
    return event


def event_names() -> list[str]:
    return sorted(path.stem for path in EVENTS_DIR.glob("*.json"))


@dataclass
class FakeLambdaContext:
    function_name: str = "jira-priority-predict"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:jira-priority-predict"
    )
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
