"""tests/sam_template.py agrees with SAM CLI itself on the function's environment.

The unit tests resolve template.yaml with tests/sam_template.py, which does what
SAM CLI 1.170 does without needing it; here SAM CLI's own providers (from
.venv-sam, no container) resolve the same template with the same parameters,
and both must give the function the same variables.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.events import REPO_ROOT
from tests.support.sam_template import TEMPLATE, function_environment

pytestmark = pytest.mark.integration

#: The variables SAM CLI gives PredictFunction: its own providers, its own stringification.
SAM_CLI_ENVIRONMENT = """
import json, sys
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.lambdafn.env_vars import EnvironmentVariables

template, overrides = sys.argv[1], json.loads(sys.argv[2])
stacks, _ = SamLocalStackProvider.get_stacks(template, parameter_overrides=overrides)
declared = SamFunctionProvider(stacks).get("PredictFunction").environment["Variables"]
resolved = EnvironmentVariables(variables=declared).resolve()
print(json.dumps({name: resolved[name] for name in declared}))
"""


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"PredictorBackend": "embedded", "ModelBucket": "models", "ModelKey": "jira/model.bin"},
        {"SageMakerEndpointName": "other-endpoint", "LogLevel": "DEBUG"},
    ],
)
def test_sam_cli_gives_the_function_what_the_unit_tests_assume(
    parameters: dict[str, str],
) -> None:
    sam_python = REPO_ROOT / ".venv-sam" / "bin" / "python"
    if not sam_python.exists():
        pytest.fail("aws-sam-cli is not installed in .venv-sam: run `make install`")
    result = subprocess.run(
        [str(sam_python), "-c", SAM_CLI_ENVIRONMENT, str(TEMPLATE), json.dumps(parameters)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    expected, unresolved = function_environment(parameters)
    assert json.loads(result.stdout.splitlines()[-1]) == expected
    assert unresolved == []
