"""What `sam build` packages is what the package declares."""

from __future__ import annotations

import tomllib

from tests.support.events import REPO_ROOT

#: Base dependencies of the `jira-priority` command line that the Lambda never imports.
CLI_ONLY = {"click"}


def requirement_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def test_lambda_requirements_match_pyproject() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    runtime = {dep for dep in project["dependencies"] if dep.split("==")[0] not in CLI_ONLY}
    declared = runtime | set(project["optional-dependencies"]["lambda-embedded"])
    packaged = requirement_lines((REPO_ROOT / "src" / "requirements.txt").read_text())
    assert packaged == declared


def test_every_runtime_dependency_is_pinned() -> None:
    packaged = requirement_lines((REPO_ROOT / "src" / "requirements.txt").read_text())
    assert all("==" in line for line in packaged)
