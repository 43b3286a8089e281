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
    monkeypatch.chdir(tmp_path)  # no build/data/validation.txt: dry runs need no gate data
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
        "deploy-autoscaling": [
            "deploy", "--training-job", "bt-1", "--min-instances", "1", "--max-instances", "4",
        ],
        "deploy-update-rollout": [
            "deploy", "--training-job", "bt-1", "--update", "--ignore-gate", "--rollout", "linear",
            "--rollback-alarm", "a",
        ],
        "deploy-update-autoscaling": [
            "deploy", "--model-data-url", "s3://b/model.tar.gz", "--update", "--ignore-gate",
            "--min-instances", "2", "--max-instances", "3", "--instance-type", "ml.c5.xlarge",
        ],
        "transform": [
            "transform", "--input", str(tickets), "--output", str(tmp_path / "out.csv"),
            "--model-name", "m-1",
        ],
        "status": ["status", "--tuning-job", "tune-1"],
        "status-endpoint": ["status", "--endpoint", "e-1"],
        "teardown": [
            "teardown", "--endpoint-name", "e-1", "--endpoint-config-name", "c-1",
            "--model-name", "m-1", "--stop-training-job", "t-1", "--stop-tuning-job", "h-1",
            "--stop-transform-job", "b-1",
        ],
    }  # fmt: skip


EXPECTED_OPERATIONS = {
    "upload": ["PutObject", "PutObject", "PutObject"],
    "train": ["CreateTrainingJob"],
    "tune": ["CreateHyperParameterTuningJob"],
    "deploy-training-job": ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"],
    "deploy-tuning-job-update-serverless": [
        "CreateModel", "CreateEndpointConfig", "DeleteScalingPolicy", "DeregisterScalableTarget",
        "UpdateEndpoint", "DeleteEndpointConfig", "DeleteModel",
    ],
    "deploy-model-data": ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"],
    "deploy-force": [
        "DeleteModel", "DeleteEndpointConfig", "CreateModel", "CreateEndpointConfig",
        "CreateEndpoint",
    ],
    "deploy-autoscaling": [
        "CreateModel", "CreateEndpointConfig", "CreateEndpoint", "RegisterScalableTarget",
        "PutScalingPolicy",
    ],
    "deploy-update-rollout": [
        "CreateModel", "CreateEndpointConfig", "UpdateEndpoint", "DeleteEndpointConfig",
        "DeleteModel",
    ],
    "deploy-update-autoscaling": [
        "CreateModel", "CreateEndpointConfig", "DeleteScalingPolicy", "DeregisterScalableTarget",
        "UpdateEndpoint", "RegisterScalableTarget", "PutScalingPolicy", "DeleteEndpointConfig",
        "DeleteModel",
    ],
    "transform": ["PutObject", "CreateTransformJob"],
    "status": ["DescribeHyperParameterTuningJob"],
    "status-endpoint": ["DescribeEndpoint", "DescribeScalableTargets"],
    "teardown": [
        "StopTrainingJob", "StopHyperParameterTuningJob", "StopTransformJob",
        "DeleteScalingPolicy", "DeregisterScalableTarget", "DeleteEndpoint",
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


# --- guarded rollouts and autoscaling in the plan -----------------------------------


def planned(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    result = run_tool(capsys, "deploy", "--training-job", "bt-1", *argv, "--dry-run")
    assert result.code == 0, result.err
    requests: list[dict[str, Any]] = result.json()["requests"]
    return requests


def the(requests: list[dict[str, Any]], operation: str) -> dict[str, Any]:
    (request,) = [r["request"] for r in requests if r["operation"] == operation]
    return request


UPDATE = ("--update", "--ignore-gate")


@pytest.mark.parametrize(
    ("rollout", "routing"),
    [
        ("canary", {"Type": "CANARY", "WaitIntervalInSeconds": 600,
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}),
        ("linear", {"Type": "LINEAR", "WaitIntervalInSeconds": 600,
                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}}),
        ("all-at-once", {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 600}),
    ],
)  # fmt: skip
def test_a_rollout_plans_its_deployment_config_with_the_alarms_in_order(
    capsys: pytest.CaptureFixture[str], rollout: str, routing: dict[str, Any]
) -> None:
    requests = planned(
        capsys, *UPDATE, "--rollout", rollout, "--rollback-alarm", "zeta", "--rollback-alarm", "A"
    )

    assert the(requests, "UpdateEndpoint")["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "zeta"}, {"AlarmName": "A"}]},
    }


def test_rollout_steps_and_baking_are_options(capsys: pytest.CaptureFixture[str]) -> None:
    linear = planned(
        capsys, *UPDATE, "--rollout", "linear", "--linear-step-size", "2", "--bake-seconds", "120"
    )
    canary = planned(capsys, *UPDATE, "--rollout", "canary", "--canary-size", "50%")

    routing = the(linear, "UpdateEndpoint")["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert routing["TrafficRoutingConfiguration"] == {
        "Type": "LINEAR",
        "WaitIntervalInSeconds": 120,
        "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 2},
    }
    routing = the(canary, "UpdateEndpoint")["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert routing["TrafficRoutingConfiguration"]["CanarySize"] == {
        "Type": "CAPACITY_PERCENT",
        "Value": 50,
    }


def test_without_rollback_alarms_the_plan_names_the_read_that_finds_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    requests = planned(capsys, *UPDATE, "--rollout", "canary")

    alarms = the(requests, "UpdateEndpoint")["DeploymentConfig"]["AutoRollbackConfiguration"]
    assert alarms == {
        "Alarms": [
            {
                "AlarmName": "<DescribeAlarmsForMetric(ModelLatency, Invocation5XXErrors)"
                ".MetricAlarms[].AlarmName>"
            }
        ]
    }


def test_an_update_without_rollout_sends_no_deployment_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    requests = planned(capsys, *UPDATE)

    assert the(requests, "UpdateEndpoint") == {
        "EndpointName": "jira-priority",
        "EndpointConfigName": the(requests, "CreateEndpointConfig")["EndpointConfigName"],
    }


def test_autoscaling_registers_the_variant_then_its_policy_after_the_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    requests = planned(
        capsys, "--endpoint-name", "jp-as", "--min-instances", "2", "--max-instances", "6",
        "--target-invocations", "1200",
    )  # fmt: skip

    operations = [r["operation"] for r in requests]
    assert operations.index("CreateEndpoint") < operations.index("RegisterScalableTarget")
    assert operations.index("RegisterScalableTarget") < operations.index("PutScalingPolicy")
    assert the(requests, "RegisterScalableTarget") == {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/jp-as/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2,
        "MaxCapacity": 6,
        "Tags": {"project": "jira-priority"},
    }
    policy = the(requests, "PutScalingPolicy")
    assert policy["PolicyName"] == "jp-as-invocations-per-instance"
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 1200.0
    assert (
        the(requests, "CreateEndpointConfig")["ProductionVariants"][0]["InitialInstanceCount"] == 2
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rollout", "canary"], "--rollout moves an existing endpoint's traffic"),
        ([*UPDATE, "--rollback-alarm", "a"], "--rollback-alarm needs --rollout"),
        ([*UPDATE, "--bake-seconds", "60"], "--bake-seconds needs --rollout"),
        ([*UPDATE, "--rollout", "linear", "--canary-size", "5%"],
         "--canary-size goes with --rollout canary"),
        ([*UPDATE, "--rollout", "canary", "--linear-step-size", "20%"],
         "--linear-step-size goes with --rollout linear"),
        ([*UPDATE, "--rollout", "blue-green"], "'blue-green' is not one of"),
        (["--min-instances", "2"], "give --min-instances and --max-instances together"),
        (["--target-invocations", "10"], "--target-invocations needs --min-instances"),
        ([*UPDATE, "--rollout", "canary", "--canary-size", "ten"], "is not a size"),
    ],
)  # fmt: skip
def test_options_that_go_together_are_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    result = run_tool(capsys, "deploy", "--training-job", "bt-1", *argv, "--dry-run")

    assert result.code == 2
    assert message in result.err
    assert result.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rollout", "canary", "--canary-size", "60%"], "--canary-size is at most 50%"),
        (["--rollout", "linear", "--linear-step-size", "5%"], "--linear-step-size is 10% to 50%"),
    ],
)
def test_rollout_steps_keep_sagemakers_bounds(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    result = run_tool(capsys, "deploy", "--training-job", "bt-1", *UPDATE, *argv, "--dry-run")

    assert result.code == 1
    assert message in result.err
