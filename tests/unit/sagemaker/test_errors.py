"""AWS failures become one clear line on stderr and exit status 1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber
from training_jobs.sagemaker import aws as aws_module
from training_jobs.sagemaker.aws import Aws, describe_error

from tests.support.sagemaker import REGION, ROLE_ARN, run_tool


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("SAGEMAKER_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("SAGEMAKER_BUCKET", "a-bucket")


def stubbed_train(monkeypatch: pytest.MonkeyPatch, code: str, message: str) -> tuple[Any, Stubber]:
    client = boto3.client("sagemaker", region_name=REGION)
    monkeypatch.setattr(aws_module, "Aws", lambda region: Aws(region, sagemaker_client=client))
    stubber = Stubber(client)
    stubber.add_client_error(
        "describe_training_job",
        service_error_code="ValidationException",
        service_message="Requested resource not found.",
    )
    stubber.add_client_error(
        "create_training_job", service_error_code=code, service_message=message
    )
    return client, stubber


def test_missing_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = run_tool(capsys, "train", "--job-name", "bt-x", "--no-wait")

    assert result.code == 1
    assert result.err == (
        "train: no AWS credentials found: set AWS_PROFILE (see `aws configure`) or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    )


def test_missing_region(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    result = run_tool(capsys, "teardown")

    assert result.code == 1
    assert result.err == "teardown: no AWS region: pass --region or set AWS_REGION\n"


def test_a_quota_says_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, stubber = stubbed_train(
        monkeypatch,
        "ResourceLimitExceeded",
        "The account-level service limit 'ml.c5.4xlarge for training job usage' is 0 Instances",
    )
    with stubber:
        result = run_tool(capsys, "train", "--job-name", "bt-q", "--no-wait")

    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith(
        "train: CreateTrainingJob failed: ResourceLimitExceeded: The account-level service limit"
    )
    assert "Service Quotas" in result.err


def test_a_role_sagemaker_cannot_assume(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, stubber = stubbed_train(
        monkeypatch,
        "ValidationException",
        f"Could not assume role {ROLE_ARN}. Please ensure that the role exists and allows "
        "principal 'sagemaker.amazonaws.com' to assume the role.",
    )
    with stubber:
        result = run_tool(capsys, "train", "--job-name", "bt-r", "--no-wait")

    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "Could not assume role" in result.err
    assert "(check --role-arn: the role must exist and trust sagemaker.amazonaws.com)" in result.err


def test_multi_line_messages_are_folded_into_one() -> None:
    error = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "first\nsecond"}}, "CreateModel"
    )

    assert describe_error(error) == "CreateModel failed: ValidationException: first second"


def test_unreachable_endpoint_names_the_settings_to_check() -> None:
    error = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")

    assert "check --region and AWS_ENDPOINT_URL" in describe_error(error)


def test_no_credentials_error_text() -> None:
    assert describe_error(NoCredentialsError()).startswith("no AWS credentials found")
