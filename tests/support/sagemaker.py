"""Helpers for the tests of the SageMaker commands (upload ... teardown).

The ``aws_env`` fixture is in tests/unit/sagemaker/conftest.py.

``run_tool`` runs one command as ``jira-priority`` would and returns
its exit status and output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from training_jobs.cli import main

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/JiraPrioritySageMaker"
BUCKET = "jira-priority-test-bucket"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_tool(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def write_prepared(directory: Path) -> tuple[Path, Path]:
    """Small prepared train/validation files, as `prepare` writes them."""
    train_file = directory / "train.txt"
    validation_file = directory / "validation.txt"
    train_file.write_text(
        "__label__4 nullpointerexception when starting the namenode\n"
        "__label__3 typo in the javadoc of filesystem\n"
        "__label__6 cluster does not start after upgrade\n",
        encoding="utf-8",
    )
    validation_file.write_text(
        "__label__4 npe in hive query planner\n__label__2 fix whitespace in readme\n",
        encoding="utf-8",
    )
    return train_file, validation_file


def sagemaker_client() -> Any:
    return boto3.client("sagemaker", region_name=REGION)


def train_job(capsys: pytest.CaptureFixture[str], name: str) -> str:
    """A completed training job in moto; returns its model artifact URI."""
    result = run_tool(capsys, "train", "--job-name", name, "--poll-seconds", "0.01")
    assert result.code == 0, result.err
    artifact: str = sagemaker_client().describe_training_job(TrainingJobName=name)[
        "ModelArtifacts"
    ]["S3ModelArtifacts"]
    return artifact
