"""``status``: the state of a job or endpoint, once or until it settles.

Prints a JSON summary on stdout (state, secondary status or counters, the
failure reason, and what the next step needs: the model artifact, the best
training job, the endpoint's config, its rollout and autoscaling). A failed or
stopped job ends with its FailureReason on stderr and exit status 1; so does an
endpoint update that was rolled back while ``--wait`` followed it, naming the
alarm that fired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from training_jobs.sagemaker import autoscaling
from training_jobs.sagemaker.aws import ApiCall, placeholder
from training_jobs.sagemaker.rollout import rollout_progress
from training_jobs.sagemaker.watch import Kind, State

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient


def summary(state: State) -> dict[str, Any]:
    described = state.description
    out: dict[str, Any] = {
        "kind": state.kind.value,
        "name": state.name,
        "status": state.status,
        "detail": state.detail,
        "failure_reason": state.failure_reason,
    }
    if state.kind is Kind.TRAINING_JOB:
        out["model_artifact"] = described.get("ModelArtifacts", {}).get("S3ModelArtifacts")
        out["billable_seconds"] = described.get("BillableTimeInSeconds")
        out["final_metrics"] = {
            m["MetricName"]: m["Value"] for m in described.get("FinalMetricDataList", [])
        }
    elif state.kind is Kind.TUNING_JOB:
        best = described.get("BestTrainingJob") or {}
        out["best_training_job"] = best.get("TrainingJobName")
        out["best_objective"] = best.get("FinalHyperParameterTuningJobObjectiveMetric")
        out["best_hyperparameters"] = best.get("TunedHyperParameters")
    elif state.kind is Kind.TRANSFORM_JOB:
        out["output"] = described.get("TransformOutput", {}).get("S3OutputPath")
    else:
        out["endpoint_config"] = described.get("EndpointConfigName")
        out["rollout"] = rollout_progress(described) or None
        out["rolled_back"] = state.rolled_back
        out["last_deployment_config"] = described.get("LastDeploymentConfig")
        if state.status == "InService" and not state.rolled_back:
            # InService with a FailureReason: its last update failed and was rolled back.
            out["last_update_failure"] = described.get("FailureReason")
    return out


def endpoint_autoscaling(
    scaling: ApplicationAutoScalingClient, endpoint_name: str, variants: list[str]
) -> list[dict[str, Any]]:
    """Each variant's scalable target and policies (an empty list: none autoscales)."""
    found = (autoscaling.registered(scaling, endpoint_name, variant) for variant in variants)
    return [target.summary() for target in found if target is not None]


def plan(kind: Kind, name: str) -> list[ApiCall]:
    """The reads ``status`` makes."""
    calls = [ApiCall("sagemaker", f"Describe{kind.api_name}", {kind.name_field: name})]
    if kind is Kind.ENDPOINT:
        variant = placeholder(f"DescribeEndpoint({name})", "ProductionVariants[].VariantName")
        calls.append(
            ApiCall(
                "application-autoscaling",
                "DescribeScalableTargets",
                {
                    "ServiceNamespace": autoscaling.SERVICE_NAMESPACE,
                    "ResourceIds": [autoscaling.resource_id(name, variant)],
                    "ScalableDimension": autoscaling.SCALABLE_DIMENSION,
                },
                note="for each variant; DescribeScalingPolicies for each one registered",
            )
        )
    return calls
