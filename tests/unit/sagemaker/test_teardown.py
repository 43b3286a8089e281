"""``teardown``: endpoints go with their autoscaling, configs and models; jobs are stopped.

Deleting and listing run against moto (SageMaker and Application Auto Scaling).
moto has no StopTrainingJob (nor the tuning and transform equivalents), so
stopping is checked with a Stubber.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from training_jobs.sagemaker import aws as aws_module
from training_jobs.sagemaker.teardown import stop_jobs

from tests.support.sagemaker import (
    REGION,
    ROLE_ARN,
    run_tool,
    sagemaker_client,
    train_job,
)


def deploy_endpoint(
    capsys: pytest.CaptureFixture[str], job: str, endpoint: str, *extra: str
) -> None:
    train_job(capsys, job)
    result = run_tool(
        capsys, "deploy", "--training-job", job, "--endpoint-name", endpoint,
        "--model-name", f"{endpoint}-model", "--endpoint-config-name", f"{endpoint}-config",
        "--poll-seconds", "0.01", *extra,
    )  # fmt: skip
    assert result.code == 0, result.err


def scaling_left() -> tuple[list[str], list[str]]:
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    return (
        [t["ResourceId"] for t in scaling.describe_scalable_targets(ServiceNamespace="sagemaker")[
            "ScalableTargets"]],
        [p["PolicyName"] for p in scaling.describe_scaling_policies(ServiceNamespace="sagemaker")[
            "ScalingPolicies"]],
    )  # fmt: skip


def record_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations the command sends to SageMaker and Application Auto Scaling, in order."""
    sent: list[str] = []
    real = aws_module.Aws

    def recorded(region: str) -> aws_module.Aws:
        clients = real(region)
        for client in (clients.sagemaker, clients.autoscaling):
            client.meta.events.register(
                "before-parameter-build", lambda model, **_: sent.append(model.name)
            )
        return clients

    monkeypatch.setattr(aws_module, "Aws", recorded)
    return sent


def inventory() -> tuple[list[str], list[str], list[str]]:
    sagemaker = sagemaker_client()
    return (
        [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]],
        [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]],
        [m["ModelName"] for m in sagemaker.list_models()["Models"]],
    )


@pytest.mark.usefixtures("aws_env")
def test_teardown_deletes_endpoint_config_and_model_and_leaves_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy_endpoint(capsys, "bt-td", "jp-td")

    result = run_tool(capsys, "teardown", "--endpoint-name", "jp-td")

    assert result.code == 0, result.err
    assert inventory() == ([], [], [])
    assert result.out == ""
    assert "deleted endpoint jp-td" in result.err
    assert "deleted endpoint config jp-td-config" in result.err
    assert "deleted model jp-td-model" in result.err
    assert "nothing left" in result.err


@pytest.mark.usefixtures("aws_env")
def test_teardown_deletes_the_scaling_policy_then_the_target_and_leaves_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_endpoint(capsys, "bt-as", "jp-as", "--min-instances", "1", "--max-instances", "3")
    assert scaling_left() == (
        ["endpoint/jp-as/variant/AllTraffic"],
        ["jp-as-invocations-per-instance"],
    )
    sent = record_requests(monkeypatch)

    result = run_tool(capsys, "teardown", "--endpoint-name", "jp-as")

    assert result.code == 0, result.err
    assert scaling_left() == ([], [])
    assert inventory() == ([], [], [])
    deletes = [name for name in sent if name.startswith(("Delete", "Deregister"))]
    assert deletes == [
        "DeleteScalingPolicy",
        "DeregisterScalableTarget",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
        "DeleteModel",
    ]
    assert "deleted scaling policy jp-as-invocations-per-instance" in result.err
    assert "deregistered endpoint/jp-as/variant/AllTraffic from autoscaling" in result.err
    assert "nothing left" in result.err


@pytest.mark.usefixtures("aws_env")
def test_list_shows_scalable_targets(capsys: pytest.CaptureFixture[str]) -> None:
    deploy_endpoint(capsys, "bt-lsa", "jp-lsa", "--min-instances", "2", "--max-instances", "4")

    result = run_tool(capsys, "teardown")

    assert result.code == 0, result.err
    assert "scalable-target\tendpoint/jp-lsa/variant/AllTraffic\t2-4 instances" in (
        result.out.splitlines()
    )


@pytest.mark.usefixtures("aws_env")
def test_list_shows_what_exists_and_warns_about_billing(capsys: pytest.CaptureFixture[str]) -> None:
    deploy_endpoint(capsys, "bt-ls", "jp-ls")

    result = run_tool(capsys, "teardown")

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "endpoint\tjp-ls\tInService",
        "endpoint-config\tjp-ls-config",
        "model\tjp-ls-model",
    ]
    assert "billed" in result.err
    assert inventory() == (["jp-ls"], ["jp-ls-config"], ["jp-ls-model"])


@pytest.mark.usefixtures("aws_env")
def test_a_config_and_model_another_endpoint_uses_are_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy_endpoint(capsys, "bt-shared", "jp-a")
    sagemaker_client().create_endpoint(EndpointName="jp-b", EndpointConfigName="jp-a-config")

    result = run_tool(capsys, "teardown", "--endpoint-name", "jp-a")

    assert result.code == 0, result.err
    assert inventory() == (["jp-b"], ["jp-a-config"], ["jp-a-model"])
    assert "kept endpoint config jp-a-config: another endpoint uses it" in result.err
    assert "kept model jp-a-model: another endpoint uses it" in result.err


@pytest.mark.usefixtures("aws_env")
def test_leftover_configs_and_models_are_deleted_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sagemaker = sagemaker_client()
    sagemaker.create_model(
        ModelName="old-model",
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"},
        ExecutionRoleArn=ROLE_ARN,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="old-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": "old-model", "InstanceType": "ml.m5.large",
             "InitialInstanceCount": 1}
        ],
    )  # fmt: skip

    result = run_tool(
        capsys, "teardown", "--endpoint-config-name", "old-config", "--model-name", "old-model"
    )

    assert result.code == 0, result.err
    assert inventory() == ([], [], [])


@pytest.mark.usefixtures("aws_env")
def test_a_missing_endpoint_is_reported_not_fatal(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "teardown", "--endpoint-name", "gone")

    assert result.code == 0
    assert "endpoint gone does not exist (already deleted?)" in result.err


def job_description(kind: str, name: str, status: str) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:{kind}/{name}"
    if kind == "training-job":
        return {
            "TrainingJobName": name, "TrainingJobArn": arn, "TrainingJobStatus": status,
            "SecondaryStatus": "Training", "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ModelArtifacts": {"S3ModelArtifacts": ""},
            "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {}, "CreationTime": "2026-11-24T00:00:00Z",
        }  # fmt: skip
    if kind == "hyper-parameter-tuning-job":
        return {
            "HyperParameterTuningJobName": name, "HyperParameterTuningJobArn": arn,
            "HyperParameterTuningJobConfig": {
                "Strategy": "Bayesian",
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 100, "MaxParallelTrainingJobs": 8},
            },
            "HyperParameterTuningJobStatus": status, "CreationTime": "2026-11-24T00:00:00Z",
            "TrainingJobStatusCounters": {}, "ObjectiveStatusCounters": {},
        }  # fmt: skip
    return {
        "TransformJobName": name, "TransformJobArn": arn, "TransformJobStatus": status,
        "ModelName": "m", "TransformInput": {"DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "CreationTime": "2026-11-24T00:00:00Z",
    }  # fmt: skip


def test_jobs_in_progress_are_stopped_and_finished_ones_left_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_training_job",
            job_description("training-job", "bt-run", "InProgress"),
            {"TrainingJobName": "bt-run"},
        )
        stubber.add_response("stop_training_job", {}, {"TrainingJobName": "bt-run"})
        stubber.add_response(
            "describe_hyper_parameter_tuning_job",
            job_description("hyper-parameter-tuning-job", "tune-run", "InProgress"),
            {"HyperParameterTuningJobName": "tune-run"},
        )
        stubber.add_response(
            "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": "tune-run"}
        )
        stubber.add_response(
            "describe_transform_job",
            job_description("transform-job", "batch-done", "Completed"),
            {"TransformJobName": "batch-done"},
        )

        stop_jobs(client, ["bt-run"], ["tune-run"], ["batch-done"])

        stubber.assert_no_pending_responses()
    err = capsys.readouterr().err
    assert "stopping training job bt-run" in err
    assert "stopping tuning job tune-run" in err
    assert "transform job batch-done is Completed; nothing to stop" in err
