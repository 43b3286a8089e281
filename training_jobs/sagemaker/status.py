"""``status``: the state of a job or endpoint, once or until it settles.

Prints a JSON summary on stdout (state, secondary status or counters, the
failure reason, and what the next step needs: the model artifact, the best
training job, the endpoint's config). A failed or stopped job ends with its
FailureReason on stderr and exit status 1.
"""

from __future__ import annotations

from typing import Any

from training_jobs.sagemaker.watch import Kind, State


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
    return out
