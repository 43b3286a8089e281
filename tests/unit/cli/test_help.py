"""Every ``--help`` works with the base install alone, from any directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from training_jobs.cli import COMMANDS

#: What the ``train`` extra installs: blocked, as if only ``pip install -e .`` had run.
EXTRAS = ("numpy", "matplotlib", "fasttext", "sklearn", "tqdm", "tenacity", "uvicorn")
#: Also never needed to print help, though the base install has them (serve's help
#: shows the local server's defaults, next to the function's settings: pydantic).
HEAVY = (*EXTRAS, "boto3", "botocore", "pydantic")
ALLOWED = {"serve": "pydantic"}

_RUN = f"""
import sys
for name in {EXTRAS!r}:
    sys.modules[name] = None  # import fails: the extra is not installed
sys.argv = ["jira-priority", *sys.argv[1:]]
from training_jobs.cli import main
code = main()
loaded = sorted(name for name in {HEAVY!r} if sys.modules.get(name) is not None)
print("LOADED:" + ",".join(loaded), file=sys.stderr)
raise SystemExit(code)
"""


def run_without_extras(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a budget: it takes about 1 s
        check=False,
    )


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_needs_no_extra_and_imports_nothing_heavy(command: str, tmp_path: Path) -> None:
    result = run_without_extras(tmp_path, *([command] if command else []), "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: jira-priority {command}".rstrip())
    assert result.stderr.strip().endswith("LOADED:" + ALLOWED.get(command, ""))


def test_the_root_help_lists_every_command_with_its_line() -> None:
    result = run_without_extras(Path.cwd(), "--help")

    for name, (_, line) in COMMANDS.items():
        assert f"  {name} " in result.stdout
        assert line.split()[0] in result.stdout


@pytest.mark.parametrize(
    ("argv", "extra_module"),
    [
        (["evaluate", "x.csv", "--model", "m.bin"], "numpy"),
        (["train-local"], "numpy"),
        (["classify", "a title"], "fasttext"),
    ],
)
def test_a_command_missing_its_extra_says_which_to_install(
    argv: list[str], extra_module: str, tmp_path: Path
) -> None:
    result = run_without_extras(tmp_path, *argv)

    assert result.returncode == 1
    assert (
        f"{argv[0]}: needs {extra_module}, which the 'train' extra installs: "
        "pip install 'jira-priority[train]'"
    ) in result.stderr


def test_the_console_script_runs_from_any_directory(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("jira-priority")

    result = subprocess.run(
        [str(script), "prepare", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a budget: it takes about 1 s
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "--holdout-project" in result.stdout


def test_python_dash_m_runs_from_any_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "training_jobs", "status", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a budget: it takes about 1 s
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "--training-job NAME" in result.stdout


def test_a_usage_error_is_one_line_in_the_one_format(tmp_path: Path) -> None:
    result = run_without_extras(tmp_path, "status", "--endpoint", "Bad_Name")

    assert result.returncode == 2
    assert result.stderr.startswith("status: Invalid value for '--endpoint': 'Bad_Name' is not")
    assert "(see jira-priority status --help)" in result.stderr


def test_no_command_shows_the_help_and_fails(tmp_path: Path) -> None:
    result = run_without_extras(tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("Usage: jira-priority [OPTIONS] COMMAND [ARGS]...")
