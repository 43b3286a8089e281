"""``--dry-run``: valid JSON of the real API's request shapes, and no call at all.

No moto here and no credentials: a dry run that tried to call AWS would fail
(sockets are off in unit tests, and there is nothing to sign with). Each
printed request is validated against botocore's own model of the service.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters
from training_jobs.sagemaker import aws as aws_module
from training_jobs.sagemaker.aws import Aws

from tests.support.sagemaker import REGION, ROLE_ARN, run_tool, write_prepared

TICKETS = (
    '"title","description","priority","key"\n"Crash on start","NPE","Major","X-1"\n'
    '"Typo","in docs","","X-2"\n'
)


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("SAGEMAKER_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("SAGEMAKER_BUCKET", "dry-bucket")


def commands(tmp_path: Path) -> dict[str, list[str]]:
    train_file, validation_file = write_prepared(tmp_path)
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(TICKETS, encoding="utf-8")
    return {
        "upload": ["upload", "--train", str(train_file), "--validation", str(validation_file)],
        "train": ["train"],
        "tune": ["tune", "--max-jobs", "10", "--max-parallel-jobs", "2"],
        "deploy-training-job": ["deploy", "--training-job", "bt-1"],
        "deploy-tuning-job-update-serverless": [
            "deploy", "--tuning-job", "tune-1", "--update", "--serverless-memory-mb", "1024",
        ],
        "deploy-model-data": ["deploy", "--model-data-url", "s3://b/model.tar.gz"],
        "deploy-force": ["deploy", "--training-job", "bt-1", "--model-name", "m-1", "--force"],
        "transform": [
            "transform", "--input", str(tickets), "--output", str(tmp_path / "out.csv"),
            "--model-name", "m-1",
        ],
        "status": ["status", "--tuning-job", "tune-1"],
        "teardown": [
            "teardown", "--endpoint-name", "e-1", "--endpoint-config-name", "c-1",
            "--model-name", "m-1", "--stop-training-job", "t-1", "--stop-tuning-job", "h-1",
            "--stop-transform-job", "b-1",
        ],
    }  # fmt: skip


EXPECTED_OPERATIONS = {
    "upload": ["PutObject", "PutObject"],
    "train": ["CreateTrainingJob"],
    "tune": ["CreateHyperParameterTuningJob"],
    "deploy-training-job": ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"],
    "deploy-tuning-job-update-serverless": [
        "CreateModel", "CreateEndpointConfig", "UpdateEndpoint", "DeleteEndpointConfig",
        "DeleteModel",
    ],
    "deploy-model-data": ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"],
    "deploy-force": [
        "DeleteModel", "DeleteEndpointConfig", "CreateModel", "CreateEndpointConfig",
        "CreateEndpoint",
    ],
    "transform": ["PutObject", "CreateTransformJob"],
    "status": ["DescribeHyperParameterTuningJob"],
    "teardown": [
        "StopTrainingJob", "StopHyperParameterTuningJob", "StopTransformJob", "DeleteEndpoint",
        "DeleteEndpointConfig", "DeleteModel", "DeleteEndpointConfig", "DeleteModel",
    ],
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(EXPECTED_OPERATIONS))
def test_dry_run_prints_valid_requests_without_calling_aws(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run_tool(capsys, *commands(tmp_path)[command], "--dry-run")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["dry_run"] is True
    requests = document["requests"]
    assert [r["operation"] for r in requests] == EXPECTED_OPERATIONS[command]
    session = botocore.session.get_session()
    for request in requests:
        model = session.get_service_model(request["service"]).operation_model(request["operation"])
        assert model.input_shape is not None
        validate_parameters(request["request"], model.input_shape)  # raises if not the shape


def test_transform_dry_run_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = commands(tmp_path)["transform"]

    run_tool(capsys, *argv, "--dry-run")

    assert not (tmp_path / "out.csv").exists()


def test_the_dry_run_request_is_exactly_what_a_real_run_sends(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["train", "--job-name", "bt-same", "--no-wait", "--epochs", "3", "--region", REGION]
    planned: dict[str, Any] = run_tool(capsys, *argv, "--dry-run").json()["requests"][0]["request"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("sagemaker", region_name=REGION)
    monkeypatch.setattr(aws_module, "Aws", lambda region: Aws(region, sagemaker_client=client))

    with Stubber(client) as stubber:
        stubber.add_client_error(
            "describe_training_job",
            service_error_code="ValidationException",
            service_message="Requested resource not found.",
            expected_params={"TrainingJobName": "bt-same"},
        )
        stubber.add_response(
            "create_training_job",
            {"TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/bt-same"},
            planned,
        )
        result = run_tool(capsys, *argv)
        stubber.assert_no_pending_responses()

    assert result.code == 0, result.err
    assert planned["HyperParameters"]["epochs"] == "3"
