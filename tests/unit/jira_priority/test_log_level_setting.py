"""An invalid POWERTOOLS_LOG_LEVEL is the settings' one-line error, never a logging traceback.

powertools' Logger is built when ``jira_priority.observability`` is imported, before
the settings are read; each case runs in a fresh interpreter, as Lambda's init does.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.events import REPO_ROOT

#: The Lambda runtime's part of the init: import the module, look the handler up.
INIT = (
    "import jira_priority.app as app\n"
    "try:\n"
    "    app.lambda_handler\n"
    "except Exception as error:\n"
    "    print('INIT FAILED', type(error).__name__, error)\n"
)
LEVELS_MESSAGE = "POWERTOOLS_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or"


def run(argv: list[str], level: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "POWERTOOLS_LOG_LEVEL": level,
        "PREDICTOR_BACKEND": "embedded",
        "MODEL_URI": "/nonexistent/model.bin",
        "POWERTOOLS_SERVICE_NAME": "jira-priority",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
    }
    return subprocess.run(
        [sys.executable, *argv], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("level", ["verbose", "TRACE", "5"])
def test_the_lambda_init_fails_with_the_settings_message(level: str) -> None:
    result = run(["-c", INIT], level)

    assert "Traceback" not in result.stderr
    [failure] = [line for line in result.stdout.splitlines() if line.startswith("INIT FAILED")]
    assert failure.startswith("INIT FAILED ConfigurationError invalid configuration: ")
    assert LEVELS_MESSAGE in failure


def test_serve_prints_one_line_and_exits_1() -> None:
    result = run(["-m", "training_jobs", "serve", "--model", "/nonexistent/model.bin"], "verbose")

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("serve: invalid configuration: ")
    assert LEVELS_MESSAGE in result.stderr


def test_a_valid_level_in_any_case_still_sets_the_logger() -> None:
    probe = "from jira_priority.observability import logger; print(logger.log_level)"

    result = run(["-c", probe], "debug")

    assert result.stdout.strip() == "10"
