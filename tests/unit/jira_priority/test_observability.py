"""Tracing as deployed: Lambda's own trace always, the X-Ray SDK only when asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.events import REPO_ROOT

# wrapt's FunctionWrapper is how the X-Ray SDK patches botocore's one call path.
PROBE = (
    "import json, sys; import jira_priority.app as a; a.lambda_handler; "
    "import botocore.client as c; "
    "print(json.dumps({'sdk': 'aws_xray_sdk' in sys.modules, "
    "'patched': type(c.BaseClient.__dict__['_make_api_call']).__name__ == 'FunctionWrapper'}))"
)


def imported_with(trace_aws_calls: str) -> dict[str, bool]:
    """A fresh interpreter as Lambda starts it (tracing enabled), looking the handler up."""
    env = {
        key: value for key, value in os.environ.items() if key != "POWERTOOLS_TRACE_DISABLED"
    } | {"LAMBDA_TASK_ROOT": str(REPO_ROOT), "TRACE_AWS_CALLS": trace_aws_calls}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a budget: it takes about 1 s
        check=True,
    )
    answer: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_the_x_ray_sdk_is_not_loaded_by_default() -> None:
    assert imported_with("false") == {"sdk": False, "patched": False}


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_asked_for_aws_calls_get_x_ray_subsegments(value: str) -> None:
    assert imported_with(value) == {"sdk": True, "patched": True}
