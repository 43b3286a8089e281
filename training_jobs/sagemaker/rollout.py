"""Guarded endpoint rollouts: UpdateEndpoint's DeploymentConfig, its alarms, and following one.

An update always runs blue/green: SageMaker starts a new (green) fleet beside the
old (blue) one and moves the traffic. ``deploy --update --rollout`` chooses how
(SageMaker's deployment guardrails): ``canary`` moves a small part first,
``linear`` moves it in equal steps, ``all-at-once`` moves it in one; each step
bakes ``WaitIntervalInSeconds`` while CloudWatch alarms are watched, and if one
fires, every request goes back to the blue fleet and the update ends with the
old configuration and a FailureReason. Without alarms there is no automatic way
back; by default the alarms on the endpoint's own metrics (the stack's endpoint
alarms among them) are found and used.

Kept free of boto3 at import, so the command line can parse its options.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from training_jobs.errors import CommandError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef

    from training_jobs.sagemaker.aws import Aws
    from training_jobs.sagemaker.watch import State

#: ``--rollout`` values and the TrafficRoutingConfiguration type of each.
TRAFFIC_ROUTING = {"canary": "CANARY", "linear": "LINEAR", "all-at-once": "ALL_AT_ONCE"}
#: The endpoint metrics whose alarms a rollout watches by default: those template.yaml's
#: endpoint alarms watch (a test keeps the two in step).
ENDPOINT_ALARM_METRICS = ("ModelLatency", "Invocation5XXErrors")
#: AutoRollbackConfiguration takes at most this many alarms.
MAX_ALARMS = 10

_SIZE = re.compile(r"^\s*(\d+)\s*(%?)\s*$")


@dataclass(frozen=True)
class CapacitySize:
    """A canary or linear step: a percentage of the new fleet, or a number of its instances."""

    type: Literal["CAPACITY_PERCENT", "INSTANCE_COUNT"]
    value: int

    def request(self) -> dict[str, Any]:
        return {"Type": self.type, "Value": self.value}

    def __str__(self) -> str:
        if self.type == "CAPACITY_PERCENT":
            return f"{self.value}%"
        return f"{self.value} instance{'s' if self.value != 1 else ''}"


def capacity_size(text: str) -> CapacitySize:
    """``"10%"`` -> 10 percent of the new fleet, ``"2"`` -> 2 instances; ValueError otherwise."""
    match = _SIZE.match(text)
    if not match or int(match.group(1)) < 1:
        raise ValueError(
            f"{text!r} is not a size: a percentage of the fleet (10%) or instances (2)"
        )
    value = int(match.group(1))
    if match.group(2):
        if value > 100:
            raise ValueError(f"{text!r}: a percentage is at most 100%")
        return CapacitySize("CAPACITY_PERCENT", value)
    return CapacitySize("INSTANCE_COUNT", value)


@dataclass(frozen=True)
class Rollout:
    """How ``deploy --update`` moves traffic to the new configuration, and what stops it."""

    kind: str
    bake_seconds: int
    canary_size: CapacitySize = CapacitySize("CAPACITY_PERCENT", 10)
    linear_step_size: CapacitySize = CapacitySize("CAPACITY_PERCENT", 25)
    #: ``--rollback-alarm`` names, in order; empty: the endpoint's alarms, found when it runs.
    alarms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in TRAFFIC_ROUTING:
            raise CommandError(f"--rollout must be one of {', '.join(TRAFFIC_ROUTING)}")
        if not 0 <= self.bake_seconds <= 3600:
            raise CommandError("--bake-seconds must be between 0 and 3600 (SageMaker's limits)")
        # SageMaker's rules: a canary is at most half the fleet, a linear step 10-50% of it.
        if self.canary_size.type == "CAPACITY_PERCENT" and self.canary_size.value > 50:
            raise CommandError("--canary-size is at most 50% of the fleet")
        step = self.linear_step_size
        if step.type == "CAPACITY_PERCENT" and not 10 <= step.value <= 50:
            raise CommandError("--linear-step-size is 10% to 50% of the fleet")
        if len(self.alarms) > MAX_ALARMS:
            raise CommandError(f"at most {MAX_ALARMS} --rollback-alarm (SageMaker's limit)")

    @property
    def steps_instances(self) -> bool:
        """Whether traffic moves in parts of the fleet (canary, linear): it needs 2+ instances."""
        return self.kind != "all-at-once"

    def describe(self) -> str:
        if self.kind == "canary":
            how = f"canary of {self.canary_size}, then the rest"
        elif self.kind == "linear":
            how = f"steps of {self.linear_step_size}"
        else:
            how = "all at once"
        return f"{how}, each step baking {self.bake_seconds} s"

    def deployment_config(self, alarms: Sequence[str]) -> dict[str, Any]:
        """UpdateEndpoint's DeploymentConfig, rolling back on ``alarms`` (none: no rollback)."""
        routing: dict[str, Any] = {
            "Type": TRAFFIC_ROUTING[self.kind],
            "WaitIntervalInSeconds": self.bake_seconds,
        }
        if self.kind == "canary":
            routing["CanarySize"] = self.canary_size.request()
        elif self.kind == "linear":
            routing["LinearStepSize"] = self.linear_step_size.request()
        config: dict[str, Any] = {
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing},
        }
        if alarms:
            config["AutoRollbackConfiguration"] = {
                "Alarms": [{"AlarmName": name} for name in alarms]
            }
        return config


def alarm_dimensions(endpoint_name: str, variant_name: str) -> list[DimensionTypeDef]:
    return [
        {"Name": "EndpointName", "Value": endpoint_name},
        {"Name": "VariantName", "Value": variant_name},
    ]


def endpoint_alarms(
    cloudwatch: CloudWatchClient, endpoint_name: str, variant_name: str
) -> list[str]:
    """The alarms on the variant's ModelLatency and Invocation5XXErrors (the stack's among them).

    Only alarms on exactly the endpoint's and variant's metric count (an alarm on one
    configuration's fleet, with an EndpointConfigName dimension, does not).
    """
    wanted = alarm_dimensions(endpoint_name, variant_name)
    names: list[str] = []
    for metric in ENDPOINT_ALARM_METRICS:
        answer = cloudwatch.describe_alarms_for_metric(
            MetricName=metric, Namespace="AWS/SageMaker", Dimensions=wanted
        )
        for alarm in answer.get("MetricAlarms", []):
            dimensions = sorted(alarm.get("Dimensions", []), key=lambda d: d["Name"])
            if alarm.get("MetricName") == metric and dimensions == wanted:
                names.append(alarm["AlarmName"])
    return list(dict.fromkeys(names))


def planned_alarms() -> list[str]:
    """What a dry run shows for the alarms found when it runs."""
    metrics = ", ".join(ENDPOINT_ALARM_METRICS)
    return [f"<DescribeAlarmsForMetric({metrics}).MetricAlarms[].AlarmName>"]


# --- following a rollout ---------------------------------------------------------


def pending_config(description: Mapping[str, Any]) -> str | None:
    """The configuration an update is moving the endpoint to, while it does."""
    pending = description.get("PendingDeploymentSummary") or {}
    name = pending.get("EndpointConfigName")
    return str(name) if name else None


def rollout_progress(description: Mapping[str, Any]) -> str:
    """One line on an update in progress ("" when none): the new fleet's stage and size.

    A variant's stages (VariantStatus) are Creating, Updating, ActivatingTraffic,
    Baking (the alarms are watched) and Deleting.
    """
    pending = description.get("PendingDeploymentSummary")
    if not pending:
        return ""
    parts = []
    for variant in pending.get("ProductionVariants") or []:
        stages = "/".join(s["Status"] for s in variant.get("VariantStatus") or []) or "starting"
        text = f"{variant['VariantName']} {stages}"
        if "DesiredInstanceCount" in variant:
            text += (
                f", {variant.get('CurrentInstanceCount', 0)}/{variant['DesiredInstanceCount']}"
                " new instances"
            )
        parts.append(text)
    return f"rolling out {pending['EndpointConfigName']}: " + ("; ".join(parts) or "starting")


def rollback_alarm_names(description: Mapping[str, Any]) -> list[str]:
    """The alarms the endpoint's last update watched."""
    config = description.get("LastDeploymentConfig") or {}
    alarms = (config.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    return [alarm["AlarmName"] for alarm in alarms]


def fired_alarms(cloudwatch: CloudWatchClient, description: Mapping[str, Any]) -> str | None:
    """Which of the last update's rollback alarms fired (are in ALARM), or None if it had none."""
    names = rollback_alarm_names(description)
    if not names:
        return None
    answer = cloudwatch.describe_alarms(AlarmNames=names)
    alarms = [*answer.get("MetricAlarms", []), *answer.get("CompositeAlarms", [])]
    firing = [a for a in alarms if a.get("StateValue") == "ALARM"]
    if not firing:
        return f"none of its rollback alarms ({', '.join(names)}) is in ALARM now"
    return "; ".join(
        f"alarm {a['AlarmName']} is in ALARM ({a.get('StateReason', 'no reason given')})"
        for a in firing
    )


def rollback_explainer(aws: Aws) -> Callable[[State], str | None]:
    """For ``wait_until_finished``: which alarm fired, when SageMaker rolled an update back."""

    def explain(state: State) -> str | None:
        return fired_alarms(aws.cloudwatch, state.description) if state.rollout_failed else None

    return explain
