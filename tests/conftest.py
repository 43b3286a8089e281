"""Shared fixtures: the environment and a Lambda context (helpers: tests/support)."""

from __future__ import annotations

import os

import pytest

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


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
