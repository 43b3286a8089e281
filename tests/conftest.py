"""Shared fixtures: the environment and a Lambda context (helpers: tests/support)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.support.events import TEST_ENDPOINT, FakeLambdaContext

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
# No test asserts a wall-clock time (a busy machine stretches any run): hypothesis' own
# deadline is off too; speed and linearity are measured in tests/benchmarks/.
hypothesis_settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "soak", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("soak" if os.environ.get("HYPOTHESIS_SOAK") == "1" else "ci")


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
