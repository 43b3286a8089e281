"""Endpoint autoscaling: Application Auto Scaling on a real-time variant's instance count.

A variant is registered as a scalable target (``sagemaker:variant:DesiredInstanceCount``,
between a minimum and a maximum) with one target-tracking policy that keeps
``SageMakerVariantInvocationsPerInstance`` (invocations per instance per minute)
near a target. AWS's rule for the target: the requests per second one instance
serves at most, times a safety factor (0.5 to start), times 60.

Serverless endpoints have no instances to scale (SageMaker scales them up to
their MaxConcurrency itself). UpdateEndpoint refuses to change the instance type
of a registered variant, so ``deploy --update`` deregisters it first and
registers it again afterwards; a model change alone keeps the registration.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from training_jobs.console import say
from training_jobs.sagemaker.aws import PROJECT_TAG, ApiCall, Request, placeholder

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient

SERVICE_NAMESPACE: Final = "sagemaker"
SCALABLE_DIMENSION: Final = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED_METRIC: Final = "SageMakerVariantInvocationsPerInstance"
#: Seconds between two scale-outs and two scale-ins: out quickly, in cautiously
#: (an instance takes minutes to start; removing one too early costs a new start).
SCALE_OUT_COOLDOWN = 60
SCALE_IN_COOLDOWN = 300


def resource_id(endpoint_name: str, variant_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


def _target_key(endpoint_name: str, variant_name: str) -> Request:
    return {
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id(endpoint_name, variant_name),
        "ScalableDimension": SCALABLE_DIMENSION,
    }


@dataclass(frozen=True)
class Scaling:
    """Between ``min_instances`` and ``max_instances``, near ``target_invocations`` each."""

    min_instances: int
    max_instances: int
    #: Invocations per instance per minute (SageMakerVariantInvocationsPerInstance).
    target_invocations: float

    def describe(self) -> str:
        return (
            f"{self.min_instances}-{self.max_instances} instances, "
            f"~{self.target_invocations:g} invocations per instance per minute"
        )

    @staticmethod
    def policy_name(endpoint_name: str) -> str:
        return f"{endpoint_name}-invocations-per-instance"

    def target_request(self, endpoint_name: str, variant_name: str) -> Request:
        return {
            **_target_key(endpoint_name, variant_name),
            "MinCapacity": self.min_instances,
            "MaxCapacity": self.max_instances,
            "Tags": {PROJECT_TAG["Key"]: PROJECT_TAG["Value"]},
        }

    def policy_request(self, endpoint_name: str, variant_name: str) -> Request:
        return {
            **_target_key(endpoint_name, variant_name),
            "PolicyName": self.policy_name(endpoint_name),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": float(self.target_invocations),
                "PredefinedMetricSpecification": {"PredefinedMetricType": PREDEFINED_METRIC},
                "ScaleOutCooldown": SCALE_OUT_COOLDOWN,
                "ScaleInCooldown": SCALE_IN_COOLDOWN,
            },
        }

    def plan(self, endpoint_name: str, variant_name: str) -> list[ApiCall]:
        return [
            ApiCall(
                "application-autoscaling",
                "RegisterScalableTarget",
                self.target_request(endpoint_name, variant_name),
            ),
            ApiCall(
                "application-autoscaling",
                "PutScalingPolicy",
                self.policy_request(endpoint_name, variant_name),
            ),
        ]

    def apply(
        self, autoscaling: ApplicationAutoScalingClient, endpoint_name: str, variant_name: str
    ) -> None:
        """Register (or update) the target, then put the policy: both calls are upserts."""
        autoscaling.register_scalable_target(**self.target_request(endpoint_name, variant_name))
        autoscaling.put_scaling_policy(**self.policy_request(endpoint_name, variant_name))
        say(f"autoscaling {resource_id(endpoint_name, variant_name)}: {self.describe()}")


@dataclass(frozen=True)
class Registered:
    """A variant's scalable target as Application Auto Scaling has it, with its policies."""

    resource_id: str
    min_capacity: int
    max_capacity: int
    policies: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What ``status`` prints."""
        policies = []
        for policy in self.policies:
            tracking = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
            metric = (tracking.get("PredefinedMetricSpecification") or {}).get(
                "PredefinedMetricType"
            )
            policies.append(
                {
                    "name": policy["PolicyName"],
                    "type": policy["PolicyType"],
                    "metric": metric,
                    "target_value": tracking.get("TargetValue"),
                }
            )
        return {
            "resource_id": self.resource_id,
            "min_instances": self.min_capacity,
            "max_instances": self.max_capacity,
            "policies": policies,
        }


def registered(
    autoscaling: ApplicationAutoScalingClient, endpoint_name: str, variant_name: str
) -> Registered | None:
    """The variant's scalable target and its policies, or None if it is not registered."""
    rid = resource_id(endpoint_name, variant_name)
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace=SERVICE_NAMESPACE, ResourceIds=[rid], ScalableDimension=SCALABLE_DIMENSION
    )["ScalableTargets"]
    if not targets:
        return None
    policies: list[dict[str, Any]] = []
    pages = autoscaling.get_paginator("describe_scaling_policies").paginate(
        ServiceNamespace=SERVICE_NAMESPACE, ResourceId=rid, ScalableDimension=SCALABLE_DIMENSION
    )
    for page in pages:
        policies += [dict(policy) for policy in page["ScalingPolicies"]]
    target = targets[0]
    return Registered(rid, target["MinCapacity"], target["MaxCapacity"], policies)


def deregister(autoscaling: ApplicationAutoScalingClient, target: Registered) -> None:
    """Delete the target's policies, then the target.

    Deregistering alone deletes the policies on AWS; emulators keep them, and the
    order says what is meant.
    """
    for policy in target.policies:
        autoscaling.delete_scaling_policy(
            PolicyName=policy["PolicyName"],
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceId=target.resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
        )
        say(f"deleted scaling policy {policy['PolicyName']}")
    autoscaling.deregister_scalable_target(
        ServiceNamespace=SERVICE_NAMESPACE,
        ResourceId=target.resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
    )
    say(f"deregistered {target.resource_id} from autoscaling")


def restore(autoscaling: ApplicationAutoScalingClient, target: Registered) -> None:
    """Register ``target`` again as it was read, with its policies (after an update failed)."""
    autoscaling.register_scalable_target(
        ServiceNamespace=SERVICE_NAMESPACE,
        ResourceId=target.resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
        MinCapacity=target.min_capacity,
        MaxCapacity=target.max_capacity,
    )
    configurations = (
        "TargetTrackingScalingPolicyConfiguration",
        "StepScalingPolicyConfiguration",
        "PredictiveScalingPolicyConfiguration",
    )
    for policy in target.policies:
        request: dict[str, Any] = {
            "PolicyName": policy["PolicyName"],
            "ServiceNamespace": SERVICE_NAMESPACE,
            "ResourceId": target.resource_id,
            "ScalableDimension": SCALABLE_DIMENSION,
            "PolicyType": policy["PolicyType"],
        }
        request.update({name: policy[name] for name in configurations if name in policy})
        autoscaling.put_scaling_policy(**request)
    say(f"registered {target.resource_id} for autoscaling again, as it was")


def plan_deregister(endpoint_name: str, variant_name: str, note: str) -> list[ApiCall]:
    """What a dry run shows for ``deregister``: the policies are read when it runs."""
    key = _target_key(endpoint_name, variant_name)
    policy = placeholder("DescribeScalingPolicies", "ScalingPolicies[].PolicyName")
    return [
        ApiCall(
            "application-autoscaling",
            "DeleteScalingPolicy",
            {"PolicyName": policy, **key},
            note=f"each policy of the variant, {note}",
        ),
        ApiCall("application-autoscaling", "DeregisterScalableTarget", key, note=note),
    ]


def scalable_targets(autoscaling: ApplicationAutoScalingClient) -> Iterator[dict[str, Any]]:
    """Every SageMaker variant registered with Application Auto Scaling."""
    paginator = autoscaling.get_paginator("describe_scalable_targets")
    for page in paginator.paginate(ServiceNamespace=SERVICE_NAMESPACE):
        for target in page["ScalableTargets"]:
            if target["ScalableDimension"] == SCALABLE_DIMENSION:
                yield dict(target)
