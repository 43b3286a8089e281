"""The Makefile's model target retrains when, and only when, its inputs change."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.events import REPO_ROOT

# A stand-in for .venv/bin/python: logs each `-m training_jobs ...` call and writes
# the file the real command would (manifest.json or model.bin), nothing else.
FAKE_PYTHON = f"""#!{sys.executable}
import sys
from pathlib import Path

argv = sys.argv[1:]
with open(Path(__file__).with_name("calls.log"), "a") as log:
    log.write(" ".join(argv) + "\\n")
out = Path(argv[argv.index("--output-dir") + 1])
out.mkdir(parents=True, exist_ok=True)
(out / ("manifest.json" if "prepare" in argv else "model.bin")).write_text("x")
"""


@pytest.fixture
def make_model(tmp_path: Path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    data = tmp_path / "tickets.csv"
    data.write_text("x")

    def run(*variables: str) -> list[str]:
        subprocess.run(
            ["make", "-s", "-C", str(REPO_ROOT), "model", f"VENV={venv}", f"DATA={data}",
             f"DATA_DIR={tmp_path / 'data'}", f"MODEL_DIR={tmp_path / 'model'}", *variables],
            check=True, capture_output=True, timeout=300,  # a hang guard: it takes ~0.5 s
        )  # fmt: skip
        log = venv / "bin" / "calls.log"
        return [line.split()[2] for line in log.read_text().splitlines()]

    return run


def test_make_model_trains_once_for_the_same_settings(make_model) -> None:
    make_model()
    assert make_model() == ["prepare", "train-local"]


def test_make_model_retrains_when_train_args_change(make_model) -> None:
    make_model()
    assert make_model("TRAIN_ARGS=--epochs 5") == ["prepare", "train-local", "train-local"]
    assert make_model("TRAIN_ARGS=--epochs 5") == ["prepare", "train-local", "train-local"]
