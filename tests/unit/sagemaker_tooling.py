"""Helpers for the tests of the SageMaker commands (upload ... teardown).

``aws_env`` runs a test inside moto's in-process ``mock_aws`` (no socket is
opened) with region, role and bucket in the environment and the bucket
created. ``run_tool`` runs one command as ``jira-priority`` would and returns
its exit status and output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
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


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SAGEMAKER_PREFIX", raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SAGEMAKER_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("SAGEMAKER_BUCKET", BUCKET)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


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
