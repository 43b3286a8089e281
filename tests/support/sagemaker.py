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


class StubbedAws:
    """An ``Aws`` whose SageMaker, Application Auto Scaling and CloudWatch clients are stubbed.

    Each client's Stubber expects its own requests in order; ``calls`` records every
    request sent, across the three clients, in the order they were sent.
    """

    def __init__(self) -> None:
        from botocore.stub import Stubber
        from training_jobs.sagemaker.aws import Aws

        sagemaker = boto3.client("sagemaker", region_name=REGION)
        scaling = boto3.client("application-autoscaling", region_name=REGION)
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self.calls: list[str] = []
        for client in (sagemaker, scaling, cloudwatch):
            client.meta.events.register("before-parameter-build", self._record)
        self.aws = Aws(
            REGION,
            sagemaker_client=sagemaker,
            cloudwatch_client=cloudwatch,
            autoscaling_client=scaling,
        )
        self.sagemaker = Stubber(sagemaker)
        self.autoscaling = Stubber(scaling)
        self.cloudwatch = Stubber(cloudwatch)

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def __enter__(self) -> StubbedAws:
        for stubber in (self.sagemaker, self.autoscaling, self.cloudwatch):
            stubber.activate()
        return self

    def __exit__(self, *_: object) -> None:
        for stubber in (self.sagemaker, self.autoscaling, self.cloudwatch):
            stubber.deactivate()

    def assert_no_pending_responses(self) -> None:
        for stubber in (self.sagemaker, self.autoscaling, self.cloudwatch):
            stubber.assert_no_pending_responses()


def scalable_target(endpoint: str, minimum: int, maximum: int) -> dict[str, Any]:
    """A DescribeScalableTargets entry for the endpoint's AllTraffic variant."""
    return {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint}/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": minimum,
        "MaxCapacity": maximum,
        "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/sagemaker",
        "CreationTime": "2026-11-24T00:00:00Z",
    }


def scaling_policy(endpoint: str, target_value: float) -> dict[str, Any]:
    """A DescribeScalingPolicies entry: the target-tracking policy deploy puts."""
    return {
        "PolicyARN": f"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:{endpoint}",
        "PolicyName": f"{endpoint}-invocations-per-instance",
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint}/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": target_value,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 300,
        },
        "CreationTime": "2026-11-24T00:00:00Z",
    }
