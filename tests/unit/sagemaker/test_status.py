"""``status`` and waiting: progress lines instead of silence, failures as one line."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from training_jobs.errors import CommandError
from training_jobs.sagemaker import aws as aws_module
from training_jobs.sagemaker.aws import Aws
from training_jobs.sagemaker.watch import Kind, wait_until_finished

from tests.support.sagemaker import (
    REGION,
    StubbedAws,
    run_tool,
    train_job,
)


class FakeTime:
    """A clock that moves only when the waiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def training_job(
    status: str, secondary: str, message: str, reason: str | None = None
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "TrainingJobName": "bt-watch",
        "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/bt-watch",
        "TrainingJobStatus": status,
        "SecondaryStatus": secondary,
        "SecondaryStatusTransitions": [
            {"Status": secondary, "StartTime": "2026-11-24T00:00:00Z", "StatusMessage": message}
        ],
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {},
        "CreationTime": "2026-11-24T00:00:00Z",
    }
    if reason:
        job["FailureReason"] = reason
    return job


@pytest.fixture
def client_and_stubber() -> Any:
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber


def test_waiting_prints_elapsed_state_and_secondary_status_then_the_failure_reason(
    client_and_stubber: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = client_and_stubber
    request = {"TrainingJobName": "bt-watch"}
    stubber.add_response(
        "describe_training_job",
        training_job("InProgress", "Starting", "Preparing the instances for training"),
        request,
    )
    stubber.add_response(
        "describe_training_job",
        training_job("InProgress", "Training", "Training in progress"),
        request,
    )
    stubber.add_response(
        "describe_training_job",
        training_job("Failed", "Failed", "Training failed", reason="AlgorithmError: bad input"),
        request,
    )
    fake = FakeTime()

    with pytest.raises(CommandError) as raised:
        wait_until_finished(
            client, Kind.TRAINING_JOB, "bt-watch", poll_seconds=60, timeout_seconds=3600,
            sleep=fake.sleep, clock=fake.clock,
        )  # fmt: skip

    assert str(raised.value) == "training job bt-watch Failed: AlgorithmError: bad input"
    assert capsys.readouterr().err.splitlines() == [
        "[0:00:00] training job bt-watch: InProgress "
        "(Starting: Preparing the instances for training)",
        "[0:01:00] training job bt-watch: InProgress (Training: Training in progress)",
        "[0:02:00] training job bt-watch: Failed (Failed: Training failed)",
    ]
    assert fake.sleeps == [60, 60]


def test_giving_up_says_how_to_follow_or_stop_the_job(client_and_stubber: Any) -> None:
    client, stubber = client_and_stubber
    for _ in range(2):
        stubber.add_response(
            "describe_training_job",
            training_job("InProgress", "Training", "Training in progress"),
            {"TrainingJobName": "bt-watch"},
        )
    fake = FakeTime()

    with pytest.raises(CommandError) as raised:
        wait_until_finished(
            client, Kind.TRAINING_JOB, "bt-watch", poll_seconds=60, timeout_seconds=90,
            sleep=fake.sleep, clock=fake.clock,
        )  # fmt: skip

    message = str(raised.value)
    assert message.startswith(
        "stopped waiting after 0:01:00; training job bt-watch is still InProgress"
    )
    assert "status --training-job bt-watch --wait" in message
    assert "teardown --stop-training-job bt-watch" in message


def test_status_of_a_failed_job_prints_the_summary_and_exits_1(
    client_and_stubber: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = client_and_stubber
    stubber.add_response(
        "describe_training_job",
        training_job("Failed", "Failed", "Training failed", reason="ResourceLimitExceeded: quota"),
        {"TrainingJobName": "bt-watch"},
    )
    monkeypatch.setattr(aws_module, "Aws", lambda region: Aws(region, sagemaker_client=client))

    result = run_tool(capsys, "status", "--training-job", "bt-watch", "--region", REGION)

    assert result.code == 1
    assert result.json()["failure_reason"] == "ResourceLimitExceeded: quota"
    assert result.err == "status: training job bt-watch Failed: ResourceLimitExceeded: quota\n"


@pytest.mark.usefixtures("aws_env")
def test_status_of_a_completed_training_job_names_its_artifact(
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifact = train_job(capsys, "bt-status")

    result = run_tool(capsys, "status", "--training-job", "bt-status")

    assert result.code == 0, result.err
    summary = result.json()
    assert summary["status"] == "Completed"
    assert summary["model_artifact"] == artifact
    assert summary["failure_reason"] is None


@pytest.mark.usefixtures("aws_env")
def test_status_wait_on_an_endpoint_prints_progress(capsys: pytest.CaptureFixture[str]) -> None:
    train_job(capsys, "bt-ep")
    deployed = run_tool(capsys, "deploy", "--training-job", "bt-ep", "--endpoint-name", "jp-st",
                        "--endpoint-config-name", "jp-st-c", "--poll-seconds", "0.01")  # fmt: skip
    assert deployed.code == 0, deployed.err

    result = run_tool(capsys, "status", "--endpoint", "jp-st", "--wait", "--poll-seconds", "0.01")

    assert result.code == 0, result.err
    assert result.json()["endpoint_config"] == "jp-st-c"
    assert result.err == "[0:00:00] endpoint jp-st: InService (config jp-st-c)\n"


@pytest.mark.usefixtures("aws_env")
def test_status_of_a_missing_job_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "status", "--transform-job", "no-such-batch")

    assert result.code == 1
    assert result.err.startswith("status: DescribeTransformJob failed: ValidationException: ")
    assert result.err.count("\n") == 1


def test_interrupting_a_wait_says_the_job_carries_on(
    client_and_stubber: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = client_and_stubber
    stubber.add_response(
        "describe_training_job",
        training_job("InProgress", "Training", "Training in progress"),
        {"TrainingJobName": "bt-watch"},
    )

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wait_until_finished(
            client, Kind.TRAINING_JOB, "bt-watch", poll_seconds=60, timeout_seconds=3600,
            sleep=interrupted,
        )  # fmt: skip

    err = capsys.readouterr().err
    assert "training job bt-watch carries on without us" in err
    assert "teardown --stop-training-job bt-watch" in err


@pytest.mark.usefixtures("aws_env")
def test_status_of_an_endpoint_shows_its_autoscaling(capsys: pytest.CaptureFixture[str]) -> None:
    train_job(capsys, "bt-sas")
    deployed = run_tool(capsys, "deploy", "--training-job", "bt-sas", "--endpoint-name", "jp-sas",
                        "--poll-seconds", "0.01", "--min-instances", "1", "--max-instances", "3",
                        "--target-invocations", "450")  # fmt: skip
    assert deployed.code == 0, deployed.err

    result = run_tool(capsys, "status", "--endpoint", "jp-sas")

    assert result.code == 0, result.err
    summary = result.json()
    assert summary["autoscaling"] == [
        {
            "resource_id": "endpoint/jp-sas/variant/AllTraffic",
            "min_instances": 1,
            "max_instances": 3,
            "policies": [
                {
                    "name": "jp-sas-invocations-per-instance",
                    "type": "TargetTrackingScaling",
                    "metric": "SageMakerVariantInvocationsPerInstance",
                    "target_value": 450.0,
                }
            ],
        }
    ]
    assert summary["rollout"] is None
    assert summary["rolled_back"] is False


def endpoint(config: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "EndpointName": "jp-live",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/jp-live",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": "2026-11-24T00:00:00Z",
        "LastModifiedTime": "2026-11-24T00:00:00Z",
        **extra,
    }


def pending(stage: str, current: int) -> dict[str, Any]:
    return {
        "EndpointConfigName": "jp-new",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "CurrentInstanceCount": current,
                "DesiredInstanceCount": 2,
                "VariantStatus": [{"Status": stage}],
            }
        ],
    }


ROLLOUT = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "LINEAR",
            "WaitIntervalInSeconds": 60,
            "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1},
        }
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "jp-endpoint-latency-p99"}]},
}


def test_status_wait_follows_a_rollout_and_reports_its_rollback_with_the_alarm(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with StubbedAws() as clients:
        request = {"EndpointName": "jp-live"}
        for answer in (
            endpoint("jp-old", "Updating", PendingDeploymentSummary=pending("Creating", 0)),
            endpoint("jp-old", "Updating", PendingDeploymentSummary=pending("Baking", 1)),
            endpoint("jp-old", "InService", FailureReason="Rolled back: alarm went off.",
                     LastDeploymentConfig=ROLLOUT),
        ):  # fmt: skip
            clients.sagemaker.add_response("describe_endpoint", answer, request)
        clients.cloudwatch.add_response(
            "describe_alarms",
            {
                "MetricAlarms": [
                    {"AlarmName": "jp-endpoint-latency-p99", "StateValue": "ALARM",
                     "StateReason": "Threshold Crossed"}
                ],
                "CompositeAlarms": [],
            },
            {"AlarmNames": ["jp-endpoint-latency-p99"]},
        )  # fmt: skip
        monkeypatch.setattr(aws_module, "Aws", lambda region: clients.aws)

        result = run_tool(
            capsys, "status", "--endpoint", "jp-live", "--wait", "--poll-seconds", "0.001",
            "--region", REGION,
        )  # fmt: skip
        clients.assert_no_pending_responses()

    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].endswith(
        "endpoint jp-live: Updating (config jp-old; rolling out jp-new: AllTraffic Creating, "
        "0/2 new instances)"
    )
    assert lines[1].endswith("rolling out jp-new: AllTraffic Baking, 1/2 new instances)")
    assert lines[-1] == (
        "status: endpoint jp-live rolled back to jp-old: Rolled back: alarm went off.; "
        "alarm jp-endpoint-latency-p99 is in ALARM (Threshold Crossed)"
    )


def test_a_failed_rollback_ends_the_wait_as_a_failure(client_and_stubber: Any) -> None:
    client, stubber = client_and_stubber
    stubber.add_response(
        "describe_endpoint",
        endpoint("jp-old", "UpdateRollbackFailed"),
        {"EndpointName": "jp-live"},
    )
    fake = FakeTime()

    with pytest.raises(CommandError) as raised:
        wait_until_finished(
            client, Kind.ENDPOINT, "jp-live", poll_seconds=60, timeout_seconds=3600,
            sleep=fake.sleep, clock=fake.clock,
        )  # fmt: skip

    assert str(raised.value) == (
        "endpoint jp-live UpdateRollbackFailed: the update and its rollback failed: it serves "
        "a mix of old and new configurations"
    )
    assert fake.sleeps == []
