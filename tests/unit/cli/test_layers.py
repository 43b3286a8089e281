"""The import graph keeps its layers: commands import lower layers, never each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from training_jobs.cli import COMMANDS

from tests.support.events import REPO_ROOT

PACKAGE = REPO_ROOT / "training_jobs"
#: Each layer may import only itself and the layers listed after it.
LAYERS = (
    ("cli",),
    ("sagemaker", "local_api"),
    ("evaluation", "modelling"),  # training reports validation metrics; scoring loads models
    ("data",),
    ("errors", "console", "safe_http"),
)


def imported_modules(path: Path) -> set[str]:
    """Every ``training_jobs...`` module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("training_jobs.")}


def layer_of(module: str) -> int | None:
    part = module.split(".")[1]
    for index, members in enumerate(LAYERS):
        if part in members:
            return index
    return None


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_imports_no_other_command(command: str) -> None:
    path = PACKAGE / "cli" / f"{COMMANDS[command][0].rsplit('.', 1)[1]}.py"
    others = {module for name, (module, _) in COMMANDS.items() if name != command}

    assert imported_modules(path) & others == set()


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE / "cli"),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_a_module_imports_only_its_layer_and_those_below(path: Path) -> None:
    own = layer_of("training_jobs." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    if own is None:
        pytest.skip("outside the layers (the entry point)")
    upward = {
        m for m in imported_modules(path) if (layer := layer_of(m)) is not None and layer < own
    }

    assert upward == set()
