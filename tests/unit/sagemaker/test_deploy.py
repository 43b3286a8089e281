"""``deploy``: training job -> model -> endpoint config -> endpoint, and moving an endpoint.

Creating is checked against moto's SageMaker. moto has no UpdateEndpoint, so
moving an existing endpoint to a new config (and cleaning up the old one, or
noticing a rollback) is checked with a botocore Stubber that expects the exact
requests in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from training_jobs.errors import CommandError
from training_jobs.sagemaker.deploy import Deployment, Hosting, artifact_of_training_job, deploy

from tests.support.sagemaker import (
    REGION,
    ROLE_ARN,
    run_tool,
    sagemaker_client,
    train_job,
)

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1"


def deploy_args(*extra: str) -> list[str]:
    return ["deploy", "--poll-seconds", "0.01", *extra]


# --- creating, against moto -------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_a_training_jobs_artifact_becomes_a_model_and_the_model_an_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifact = train_job(capsys, "bt-deploy")

    result = run_tool(
        capsys,
        *deploy_args(
            "--training-job", "bt-deploy", "--endpoint-name", "jp-live",
            "--model-name", "jp-model-1", "--endpoint-config-name", "jp-config-1",
        ),
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.out == "jp-live\n"
    sagemaker = sagemaker_client()
    model = sagemaker.describe_model(ModelName="jp-model-1")
    assert model["PrimaryContainer"]["ModelDataUrl"] == artifact
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["ExecutionRoleArn"] == ROLE_ARN
    config = sagemaker.describe_endpoint_config(EndpointConfigName="jp-config-1")
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": "jp-model-1",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
            "InitialVariantWeight": 1.0,
        }
    ]
    endpoint = sagemaker.describe_endpoint(EndpointName="jp-live")
    assert endpoint["EndpointConfigName"] == "jp-config-1"
    assert endpoint["EndpointStatus"] == "InService"
    assert "endpoint jp-live: InService" in result.err


@pytest.mark.usefixtures("aws_env")
def test_real_time_instance_type_and_count_are_options(capsys: pytest.CaptureFixture[str]) -> None:
    train_job(capsys, "bt-rt")

    result = run_tool(
        capsys,
        *deploy_args(
            "--training-job", "bt-rt", "--endpoint-config-name", "jp-rt",
            "--instance-type", "ml.c5.xlarge", "--instance-count", "2",
        ),
    )  # fmt: skip

    assert result.code == 0, result.err
    variant = sagemaker_client().describe_endpoint_config(EndpointConfigName="jp-rt")[
        "ProductionVariants"
    ][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.c5.xlarge", 2)


@pytest.mark.usefixtures("aws_env")
def test_serverless_config_has_memory_and_concurrency_and_no_instances(
    capsys: pytest.CaptureFixture[str],
) -> None:
    train_job(capsys, "bt-sl")

    result = run_tool(
        capsys,
        *deploy_args(
            "--training-job", "bt-sl", "--endpoint-config-name", "jp-sl",
            "--serverless-memory-mb", "2048", "--serverless-max-concurrency", "3",
        ),
    )  # fmt: skip

    assert result.code == 0, result.err
    variant = sagemaker_client().describe_endpoint_config(EndpointConfigName="jp-sl")[
        "ProductionVariants"
    ][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 3}
    assert "InstanceType" not in variant
    assert "InitialInstanceCount" not in variant


@pytest.mark.usefixtures("aws_env")
def test_serverless_and_instances_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(
        capsys, *deploy_args("--training-job", "x", "--serverless-memory-mb", "1024",
                             "--instance-type", "ml.m5.large"),
    )  # fmt: skip

    assert result.code == 1
    assert "not both" in result.err


@pytest.mark.usefixtures("aws_env")
def test_the_best_job_of_a_tuning_job_is_deployed(capsys: pytest.CaptureFixture[str]) -> None:
    # moto's tuning jobs always name "FakeTrainingJobName" as their best job.
    artifact = train_job(capsys, "FakeTrainingJobName")
    assert run_tool(capsys, "tune", "--job-name", "tune-d", "--no-wait").code == 0

    result = run_tool(capsys, *deploy_args("--tuning-job", "tune-d", "--model-name", "jp-best"))

    assert result.code == 0, result.err
    model = sagemaker_client().describe_model(ModelName="jp-best")
    assert model["PrimaryContainer"]["ModelDataUrl"] == artifact
    assert "best training job of tuning job tune-d: FakeTrainingJobName" in result.err


@pytest.mark.usefixtures("aws_env")
def test_an_existing_endpoint_is_not_touched_without_update(
    capsys: pytest.CaptureFixture[str],
) -> None:
    train_job(capsys, "bt-twice")
    first = run_tool(capsys, *deploy_args("--training-job", "bt-twice", "--model-name", "m-1",
                                          "--endpoint-config-name", "c-1"))  # fmt: skip
    assert first.code == 0, first.err

    second = run_tool(capsys, *deploy_args("--training-job", "bt-twice", "--model-name", "m-2",
                                           "--endpoint-config-name", "c-2"))  # fmt: skip

    assert second.code == 1
    assert "endpoint jira-priority already exists (config c-1, InService)" in second.err
    assert "--update" in second.err
    sagemaker = sagemaker_client()
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] == ["m-1"]
    assert sagemaker.describe_endpoint(EndpointName="jira-priority")["EndpointConfigName"] == "c-1"


@pytest.mark.usefixtures("aws_env")
def test_update_of_a_missing_endpoint_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    train_job(capsys, "bt-upd")

    result = run_tool(capsys, *deploy_args("--training-job", "bt-upd", "--update"))

    assert result.code == 1
    assert "endpoint jira-priority does not exist; drop --update to create it" in result.err
    assert sagemaker_client().list_models()["Models"] == []


@pytest.mark.usefixtures("aws_env")
def test_an_existing_model_name_needs_force(capsys: pytest.CaptureFixture[str]) -> None:
    artifact = train_job(capsys, "bt-force")
    sagemaker = sagemaker_client()
    sagemaker.create_model(
        ModelName="m-taken",
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://old/model.tar.gz"},
        ExecutionRoleArn=ROLE_ARN,
    )

    refused = run_tool(
        capsys, *deploy_args("--training-job", "bt-force", "--model-name", "m-taken")
    )
    forced = run_tool(
        capsys, *deploy_args("--training-job", "bt-force", "--model-name", "m-taken", "--force")
    )

    assert refused.code == 1
    assert "model m-taken already exists; pass --force" in refused.err
    assert forced.code == 0, forced.err
    model = sagemaker.describe_model(ModelName="m-taken")
    assert model["PrimaryContainer"]["ModelDataUrl"] == artifact


@pytest.mark.usefixtures("aws_env")
def test_a_missing_training_job_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, *deploy_args("--training-job", "no-such-job"))

    assert result.code == 1
    assert result.err == "deploy: training job no-such-job does not exist\n"


# --- moving an endpoint, with a Stubber -------------------------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def not_found(stubber: Stubber, operation: str, params: dict[str, Any]) -> None:
    stubber.add_client_error(
        operation,
        service_error_code="ValidationException",
        service_message=f"Could not find {operation}.",
        expected_params=params,
    )


def endpoint(config: str, status: str, reason: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "EndpointName": "jp-live",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/jp-live",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": "2026-11-24T00:00:00Z",
        "LastModifiedTime": "2026-11-24T00:00:00Z",
    }
    if reason:
        answer["FailureReason"] = reason
    return answer


UPDATE = Deployment(
    endpoint_name="jp-live",
    model_name="jp-new-model",
    config_name="jp-new-config",
    image_uri=IMAGE,
    role_arn=ROLE_ARN,
    hosting=Hosting(),
    update=True,
    keep_previous=False,
    force=False,
)


def expect_update_requests(stubber: Stubber) -> None:
    stubber.add_response(
        "describe_endpoint", endpoint("jp-old-config", "InService"), {"EndpointName": "jp-live"}
    )
    not_found(stubber, "describe_model", {"ModelName": "jp-new-model"})
    not_found(stubber, "describe_endpoint_config", {"EndpointConfigName": "jp-new-config"})
    stubber.add_response(
        "create_model",
        {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/jp-new-model"},
        {
            "ModelName": "jp-new-model",
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "s3://b/new/model.tar.gz"},
            "ExecutionRoleArn": ROLE_ARN,
            "Tags": ANY,
        },
    )
    stubber.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x"},
        {
            "EndpointConfigName": "jp-new-config",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "jp-new-model",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 1.0,
                }
            ],
            "Tags": ANY,
        },
    )
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/jp-live"},
        {"EndpointName": "jp-live", "EndpointConfigName": "jp-new-config"},
    )
    stubber.add_response(
        "describe_endpoint", endpoint("jp-old-config", "Updating"), {"EndpointName": "jp-live"}
    )


def test_update_moves_the_endpoint_then_deletes_the_previous_config_and_model(
    stubbed: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = stubbed
    expect_update_requests(stubber)
    stubber.add_response(
        "describe_endpoint", endpoint("jp-new-config", "InService"), {"EndpointName": "jp-live"}
    )
    stubber.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": "jp-old-config",
            "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/old",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "jp-old-model"}],
            "CreationTime": "2026-11-01T00:00:00Z",
        },
        {"EndpointConfigName": "jp-old-config"},
    )
    stubber.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "jp-old-config"})
    stubber.add_response("delete_model", {}, {"ModelName": "jp-old-model"})

    deploy(client, UPDATE, "s3://b/new/model.tar.gz", wait=True, poll_seconds=0, timeout_seconds=5)

    err = capsys.readouterr().err
    assert "endpoint jp-live: Updating" in err
    assert "endpoint jp-live: InService" in err
    assert "deleted previous endpoint config jp-old-config" in err
    assert "deleted previous model jp-old-model" in err


def test_a_rolled_back_update_is_an_error_and_keeps_the_previous_config(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    expect_update_requests(stubber)
    stubber.add_response(
        "describe_endpoint",
        endpoint("jp-old-config", "InService", reason="The primary container failed to start."),
        {"EndpointName": "jp-live"},
    )

    with pytest.raises(CommandError, match="rolled back to jp-old-config: The primary container"):
        deploy(
            client, UPDATE, "s3://b/new/model.tar.gz", wait=True, poll_seconds=0, timeout_seconds=5
        )


def test_a_failed_training_job_reports_its_failure_reason(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response(
        "describe_training_job",
        {
            "TrainingJobName": "bt-bad",
            "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/bt-bad",
            "TrainingJobStatus": "Failed",
            "SecondaryStatus": "Failed",
            "FailureReason": "ClientError: No training data found in channel train",
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ModelArtifacts": {"S3ModelArtifacts": ""},
            "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {},
            "CreationTime": "2026-11-24T00:00:00Z",
        },
        {"TrainingJobName": "bt-bad"},
    )

    with pytest.raises(CommandError) as raised:
        artifact_of_training_job(client, "bt-bad")

    assert str(raised.value) == (
        "training job bt-bad is Failed, not Completed: "
        "ClientError: No training data found in channel train"
    )


@pytest.mark.usefixtures("aws_env")
def test_the_samconfig_line_to_paste_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    train_job(capsys, "bt-sam")

    result = run_tool(capsys, *deploy_args("--training-job", "bt-sam", "--endpoint-name", "jp-sam"))

    assert result.code == 0, result.err
    assert 'parameter_overrides = "SageMakerEndpointName=\\"jp-sam\\""' in result.err


def test_endpoint_names_must_be_lower_case_like_the_stack_parameter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_tool(capsys, "deploy", "--training-job", "x", "--endpoint-name", "JiraPriority")

    assert result.code == 2
    assert "use lower case" in result.err
