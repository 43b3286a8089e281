"""``deploy``: training job -> model -> endpoint config -> endpoint, and moving an endpoint.

Creating (and registering autoscaling) is checked against moto. moto has no
UpdateEndpoint and ignores DeploymentConfig, so moving an existing endpoint to a
new config (a guarded rollout, keeping or replacing its autoscaling, cleaning up
the old config, noticing a rollback and the alarm behind it) is checked with
botocore Stubbers that expect the exact requests in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from training_jobs.errors import CommandError
from training_jobs.sagemaker.autoscaling import Scaling
from training_jobs.sagemaker.deploy import Deployment, Hosting, artifact_of_training_job, deploy
from training_jobs.sagemaker.rollout import Rollout

from tests.support.sagemaker import (
    REGION,
    ROLE_ARN,
    StubbedAws,
    run_tool,
    sagemaker_client,
    scalable_target,
    scaling_policy,
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


@pytest.mark.usefixtures("aws_env")
def test_autoscaling_registers_the_variant_with_a_target_tracking_policy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    train_job(capsys, "bt-as")

    result = run_tool(
        capsys,
        *deploy_args(
            "--training-job", "bt-as", "--endpoint-name", "jp-as", "--endpoint-config-name",
            "jp-as-config", "--min-instances", "2", "--max-instances", "5",
            "--target-invocations", "900",
        ),
    )  # fmt: skip

    assert result.code == 0, result.err
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["ScalableDimension"]) == (
        "endpoint/jp-as/variant/AllTraffic",
        "sagemaker:variant:DesiredInstanceCount",
    )
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 5)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    assert policy["PolicyName"] == "jp-as-invocations-per-instance"
    assert policy["PolicyType"] == "TargetTrackingScaling"
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 900.0
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    # the endpoint starts at the minimum
    variant = sagemaker_client().describe_endpoint_config(EndpointConfigName="jp-as-config")[
        "ProductionVariants"
    ][0]
    assert variant["InitialInstanceCount"] == 2
    assert "autoscaling endpoint/jp-as/variant/AllTraffic: 2-5 instances" in result.err


@pytest.mark.usefixtures("aws_env")
def test_serverless_endpoints_refuse_autoscaling(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(
        capsys, *deploy_args("--training-job", "x", "--serverless-memory-mb", "1024",
                             "--min-instances", "1", "--max-instances", "3"),
    )  # fmt: skip

    assert result.code == 1
    assert result.err == (
        "deploy: a serverless endpoint scales by itself, up to --serverless-max-concurrency: "
        "--min-instances/--max-instances need real-time instances\n"
    )
    assert sagemaker_client().list_models()["Models"] == []


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--min-instances", "3", "--max-instances", "2"], "at most --max-instances"),
        (["--min-instances", "2", "--max-instances", "4", "--instance-count", "5"],
         "--instance-count 5 is outside --min-instances 2 .. --max-instances 4"),
    ],
)  # fmt: skip
def test_autoscaling_bounds_must_hold_the_instance_count(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    result = run_tool(capsys, *deploy_args("--training-job", "x", *extra))

    assert result.code == 1
    assert message in result.err


# --- moving an endpoint, with Stubbers ------------------------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sagemaker", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def clients() -> Iterator[StubbedAws]:
    with StubbedAws() as stubbed_aws:
        yield stubbed_aws
        stubbed_aws.assert_no_pending_responses()


def not_found(stubber: Stubber, operation: str, params: dict[str, Any]) -> None:
    stubber.add_client_error(
        operation,
        service_error_code="ValidationException",
        service_message=f"Could not find {operation}.",
        expected_params=params,
    )


def endpoint(config: str, status: str, reason: str | None = None, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "EndpointName": "jp-live",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/jp-live",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": "2026-11-24T00:00:00Z",
        "LastModifiedTime": "2026-11-24T00:00:00Z",
        **extra,
    }
    if reason:
        answer["FailureReason"] = reason
    return answer


def endpoint_config(name: str, model: str, instance_type: str = "ml.m5.large") -> dict[str, Any]:
    return {
        "EndpointConfigName": name,
        "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{name}",
        "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": model, "InstanceType": instance_type}
        ],
        "CreationTime": "2026-11-01T00:00:00Z",
    }


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
CANARY = Rollout("canary", bake_seconds=600)
TARGET_KEY = {
    "ServiceNamespace": "sagemaker",
    "ResourceId": "endpoint/jp-live/variant/AllTraffic",
    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
}


def expect_reads(clients: StubbedAws, *, registered: dict[str, Any] | None = None) -> None:
    """What an update reads first: the endpoint, the names it will create, its autoscaling."""
    sagemaker = clients.sagemaker
    sagemaker.add_response(
        "describe_endpoint", endpoint("jp-old-config", "InService"), {"EndpointName": "jp-live"}
    )
    not_found(sagemaker, "describe_model", {"ModelName": "jp-new-model"})
    not_found(sagemaker, "describe_endpoint_config", {"EndpointConfigName": "jp-new-config"})
    clients.autoscaling.add_response(
        "describe_scalable_targets",
        {"ScalableTargets": [registered] if registered else []},
        {**{k: v for k, v in TARGET_KEY.items() if k != "ResourceId"},
         "ResourceIds": [TARGET_KEY["ResourceId"]]},
    )  # fmt: skip
    if registered:
        clients.autoscaling.add_response(
            "describe_scaling_policies",
            {"ScalingPolicies": [scaling_policy("jp-live", 600.0)]},
            TARGET_KEY,
        )


def expect_creates(clients: StubbedAws, instance_type: str = "ml.m5.large", count: int = 1) -> None:
    sagemaker = clients.sagemaker
    sagemaker.add_response(
        "create_model",
        {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/jp-new-model"},
        {
            "ModelName": "jp-new-model",
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "s3://b/new/model.tar.gz"},
            "ExecutionRoleArn": ROLE_ARN,
            "Tags": ANY,
        },
    )
    sagemaker.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x"},
        {
            "EndpointConfigName": "jp-new-config",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "jp-new-model",
                    "InstanceType": instance_type,
                    "InitialInstanceCount": count,
                    "InitialVariantWeight": 1.0,
                }
            ],
            "Tags": ANY,
        },
    )


def expect_update(clients: StubbedAws, **request: Any) -> None:
    clients.sagemaker.add_response(
        "update_endpoint",
        {"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/jp-live"},
        {"EndpointName": "jp-live", "EndpointConfigName": "jp-new-config", **request},
    )


def expect_describe(clients: StubbedAws, answer: dict[str, Any]) -> None:
    clients.sagemaker.add_response("describe_endpoint", answer, {"EndpointName": "jp-live"})


def expect_cleanup(clients: StubbedAws) -> None:
    sagemaker = clients.sagemaker
    sagemaker.add_response(
        "describe_endpoint_config",
        endpoint_config("jp-old-config", "jp-old-model"),
        {"EndpointConfigName": "jp-old-config"},
    )
    sagemaker.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "jp-old-config"})
    sagemaker.add_response("delete_model", {}, {"ModelName": "jp-old-model"})


def run_update(clients: StubbedAws, deployment: Deployment = UPDATE) -> None:
    deploy(
        clients.aws,
        deployment,
        "s3://b/new/model.tar.gz",
        wait=True,
        poll_seconds=0,
        timeout_seconds=5,
    )


def test_update_moves_the_endpoint_then_deletes_the_previous_config_and_model(
    clients: StubbedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_reads(clients)
    expect_creates(clients)
    expect_update(clients)
    expect_describe(clients, endpoint("jp-old-config", "Updating"))
    expect_describe(clients, endpoint("jp-new-config", "InService"))
    expect_cleanup(clients)

    run_update(clients)

    err = capsys.readouterr().err
    assert "endpoint jp-live: Updating" in err
    assert "endpoint jp-live: InService" in err
    assert "deleted previous endpoint config jp-old-config" in err
    assert "deleted previous model jp-old-model" in err


def test_a_rolled_back_update_is_an_error_and_keeps_the_previous_config(
    clients: StubbedAws,
) -> None:
    expect_reads(clients)
    expect_creates(clients)
    expect_update(clients)
    expect_describe(clients, endpoint("jp-old-config", "Updating"))
    expect_describe(
        clients,
        endpoint("jp-old-config", "InService", reason="The primary container failed to start."),
    )

    with pytest.raises(CommandError, match="rolled back to jp-old-config: The primary container"):
        run_update(clients)


def alarm(name: str, metric: str, **extra: Any) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "MetricName": metric,
        "Namespace": "AWS/SageMaker",
        "Dimensions": [
            {"Name": "EndpointName", "Value": "jp-live"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        **extra,
    }


def expect_endpoint_alarms(clients: StubbedAws) -> None:
    """The stack's two endpoint alarms, and one on another fleet that must not count."""
    dimensions = [
        {"Name": "EndpointName", "Value": "jp-live"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    other_fleet = alarm("jp-old-fleet-latency", "ModelLatency")
    other_fleet["Dimensions"] = [*dimensions, {"Name": "EndpointConfigName", "Value": "jp-old"}]
    clients.cloudwatch.add_response(
        "describe_alarms_for_metric",
        {"MetricAlarms": [alarm("stack-endpoint-latency-p99", "ModelLatency"), other_fleet]},
        {"MetricName": "ModelLatency", "Namespace": "AWS/SageMaker", "Dimensions": dimensions},
    )
    clients.cloudwatch.add_response(
        "describe_alarms_for_metric",
        {"MetricAlarms": [alarm("stack-endpoint-5xx", "Invocation5XXErrors")]},
        {"MetricName": "Invocation5XXErrors", "Namespace": "AWS/SageMaker",
         "Dimensions": dimensions},
    )  # fmt: skip


CANARY_CONFIG = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 600,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        }
    },
    "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": "stack-endpoint-latency-p99"}, {"AlarmName": "stack-endpoint-5xx"}]
    },
}


def test_a_canary_rollout_rolls_back_on_the_endpoints_alarms_and_shows_its_progress(
    clients: StubbedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_reads(clients)
    expect_endpoint_alarms(clients)
    expect_creates(clients)
    expect_update(clients, DeploymentConfig=CANARY_CONFIG)
    pending = {
        "EndpointConfigName": "jp-new-config",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "CurrentInstanceCount": 1,
                "DesiredInstanceCount": 2,
                "VariantStatus": [{"Status": "Baking"}],
            }
        ],
    }
    expect_describe(
        clients, endpoint("jp-old-config", "Updating", PendingDeploymentSummary=pending)
    )
    expect_describe(clients, endpoint("jp-new-config", "InService"))
    expect_cleanup(clients)

    run_update(clients, replace(UPDATE, rollout=CANARY))

    err = capsys.readouterr().err
    assert "rolls back if one fires: stack-endpoint-latency-p99, stack-endpoint-5xx" in err
    assert "(config jp-old-config; rolling out jp-new-config: AllTraffic Baking, 1/2 new" in err


def test_a_rollback_by_an_alarm_is_a_failure_naming_the_alarm(clients: StubbedAws) -> None:
    expect_reads(clients)
    expect_endpoint_alarms(clients)
    expect_creates(clients)
    expect_update(clients, DeploymentConfig=CANARY_CONFIG)
    expect_describe(
        clients,
        endpoint(
            "jp-old-config",
            "InService",
            reason="Deployment rolled back: an auto-rollback alarm went off.",
            LastDeploymentConfig=CANARY_CONFIG,
        ),
    )
    clients.cloudwatch.add_response(
        "describe_alarms",
        {
            "MetricAlarms": [
                {"AlarmName": "stack-endpoint-latency-p99", "StateValue": "OK"},
                {"AlarmName": "stack-endpoint-5xx", "StateValue": "ALARM",
                 "StateReason": "Threshold Crossed: 3 datapoints were greater than 0.05"},
            ],
            "CompositeAlarms": [],
        },
        {"AlarmNames": ["stack-endpoint-latency-p99", "stack-endpoint-5xx"]},
    )  # fmt: skip

    with pytest.raises(CommandError) as raised:
        run_update(clients, replace(UPDATE, rollout=CANARY))

    assert str(raised.value) == (
        "endpoint jp-live rolled back to jp-old-config: Deployment rolled back: an "
        "auto-rollback alarm went off.; alarm stack-endpoint-5xx is in ALARM (Threshold "
        "Crossed: 3 datapoints were greater than 0.05)"
    )


def test_rollback_alarms_given_by_name_must_exist(clients: StubbedAws) -> None:
    expect_reads(clients)
    clients.cloudwatch.add_response(
        "describe_alarms",
        {"MetricAlarms": [{"AlarmName": "mine"}], "CompositeAlarms": []},
        {"AlarmNames": ["mine", "typo"]},
    )

    with pytest.raises(CommandError, match="no CloudWatch alarm named typo in us-east-1"):
        run_update(clients, replace(UPDATE, rollout=replace(CANARY, alarms=("mine", "typo"))))

    assert "CreateModel" not in clients.calls


def test_an_update_keeps_the_variants_autoscaling_and_its_instance_count(
    clients: StubbedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_reads(clients, registered=scalable_target("jp-live", 2, 6))
    clients.sagemaker.add_response(
        "describe_endpoint_config",
        endpoint_config("jp-old-config", "jp-old-model"),
        {"EndpointConfigName": "jp-old-config"},
    )
    expect_creates(clients)
    expect_update(clients, RetainAllVariantProperties=True)
    expect_describe(clients, endpoint("jp-new-config", "InService"))
    expect_cleanup(clients)

    run_update(clients)

    assert not {"DeleteScalingPolicy", "DeregisterScalableTarget"} & set(clients.calls)
    assert "its autoscaling stays" in capsys.readouterr().err


def test_a_new_instance_type_on_an_autoscaled_variant_needs_new_bounds(
    clients: StubbedAws,
) -> None:
    expect_reads(clients, registered=scalable_target("jp-live", 2, 6))
    clients.sagemaker.add_response(
        "describe_endpoint_config",
        endpoint_config("jp-old-config", "jp-old-model", "ml.c5.large"),
        {"EndpointConfigName": "jp-old-config"},
    )

    with pytest.raises(CommandError) as raised:
        run_update(clients)

    assert "autoscales ml.c5.large between 2 and 6 instances" in str(raised.value)
    assert "give --min-instances, --max-instances" in str(raised.value)
    assert "CreateModel" not in clients.calls


NEW_TYPE = replace(
    UPDATE,
    hosting=Hosting(instance_type="ml.c5.xlarge", instance_count=3),
    scaling=Scaling(3, 8, 900.0),
)


def expect_new_type_update(clients: StubbedAws) -> None:
    expect_reads(clients, registered=scalable_target("jp-live", 2, 6))
    clients.sagemaker.add_response(
        "describe_endpoint_config",
        endpoint_config("jp-old-config", "jp-old-model"),
        {"EndpointConfigName": "jp-old-config"},
    )
    expect_creates(clients, "ml.c5.xlarge", 3)
    clients.autoscaling.add_response(
        "delete_scaling_policy",
        {},
        {"PolicyName": "jp-live-invocations-per-instance", **TARGET_KEY},
    )
    clients.autoscaling.add_response("deregister_scalable_target", {}, TARGET_KEY)
    expect_update(clients)


def test_a_new_instance_type_replaces_the_autoscaling_around_the_update(
    clients: StubbedAws,
) -> None:
    expect_new_type_update(clients)
    expect_describe(clients, endpoint("jp-new-config", "InService"))
    clients.autoscaling.add_response(
        "register_scalable_target",
        {"ScalableTargetARN": "arn:aws:application-autoscaling:us-east-1:1:scalable-target/x"},
        {**TARGET_KEY, "MinCapacity": 3, "MaxCapacity": 8, "Tags": {"project": "jira-priority"}},
    )
    clients.autoscaling.add_response(
        "put_scaling_policy",
        {"PolicyARN": "arn:aws:autoscaling:us-east-1:1:scalingPolicy:x", "Alarms": []},
        {**TARGET_KEY, "PolicyName": "jp-live-invocations-per-instance",
         "PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": ANY},
    )  # fmt: skip
    expect_cleanup(clients)

    run_update(clients, NEW_TYPE)

    order = [c for c in clients.calls if c in {"DeleteScalingPolicy", "DeregisterScalableTarget",
             "UpdateEndpoint", "RegisterScalableTarget", "PutScalingPolicy"}]  # fmt: skip
    assert order == [
        "DeleteScalingPolicy",
        "DeregisterScalableTarget",
        "UpdateEndpoint",
        "RegisterScalableTarget",
        "PutScalingPolicy",
    ]


def test_a_rolled_back_update_puts_the_previous_autoscaling_back(clients: StubbedAws) -> None:
    expect_new_type_update(clients)
    expect_describe(clients, endpoint("jp-old-config", "InService", reason="capacity error"))
    expect_describe(clients, endpoint("jp-old-config", "InService", reason="capacity error"))
    clients.autoscaling.add_response(
        "register_scalable_target",
        {"ScalableTargetARN": "arn:aws:application-autoscaling:us-east-1:1:scalable-target/x"},
        {**TARGET_KEY, "MinCapacity": 2, "MaxCapacity": 6},
    )
    previous = scaling_policy("jp-live", 600.0)
    clients.autoscaling.add_response(
        "put_scaling_policy",
        {"PolicyARN": previous["PolicyARN"], "Alarms": []},
        {**TARGET_KEY, "PolicyName": previous["PolicyName"], "PolicyType": "TargetTrackingScaling",
         "TargetTrackingScalingPolicyConfiguration":
             previous["TargetTrackingScalingPolicyConfiguration"]},
    )  # fmt: skip

    with pytest.raises(CommandError, match="rolled back to jp-old-config: capacity error"):
        run_update(clients, NEW_TYPE)


def test_autoscaling_needs_the_wait_for_in_service(clients: StubbedAws) -> None:
    with pytest.raises(CommandError, match="drop --no-wait"):
        deploy(
            clients.aws,
            replace(UPDATE, update=False, scaling=Scaling(1, 2, 600.0)),
            "s3://b/new/model.tar.gz",
            wait=False,
            poll_seconds=0,
            timeout_seconds=5,
        )

    assert clients.calls == []


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
