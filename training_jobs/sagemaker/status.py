"""``status``: the state of a job or endpoint, once or until it settles.

Prints a JSON summary on stdout (state, secondary status or counters, the
failure reason, and what the next step needs: the model artifact, the best
training job, the endpoint's config). A failed or stopped job ends with its
FailureReason on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from training_jobs.sagemaker.aws import (
    ApiCall,
    Aws,
    ToolError,
    add_aws_arguments,
    add_wait_arguments,
    one_line_errors,
    print_plan,
    require_region,
    resource_name,
)
from training_jobs.sagemaker.watch import READERS, Kind, State, wait_as_asked


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


def _target(args: argparse.Namespace) -> tuple[Kind, str]:
    for kind in Kind:
        name = getattr(args, kind.value.replace("-", "_"))
        if name:
            return kind, str(name)
    raise ToolError("name a --training-job, --tuning-job, --transform-job or --endpoint")


@one_line_errors
def handle(args: argparse.Namespace) -> int:
    region = require_region(args)
    kind, name = _target(args)
    if args.dry_run:
        request = {kind.name_field: name}
        return print_plan([ApiCall("sagemaker", f"Describe{kind.api_name}", request)])
    sagemaker = Aws(region).sagemaker
    if args.wait:
        state = wait_as_asked(sagemaker, kind, name, args)
    else:
        state = READERS[kind](sagemaker, name)
    print(json.dumps(summary(state), indent=2, default=str))
    if state.finished and not state.succeeded:
        raise ToolError(f"{kind.label} {name} {state.status}: {state.failure_reason}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show a job's or endpoint's state; --wait follows it until it settles",
        description="Describe one training job, tuning job, transform job or endpoint and print "
        "a JSON summary. With --wait, print a progress line (elapsed time, state, secondary "
        "status) at every check until it completes or fails. A failed job exits with status 1.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--training-job", type=resource_name, metavar="NAME", help="a training job")
    target.add_argument("--tuning-job", type=resource_name, metavar="NAME", help="a tuning job")
    target.add_argument(
        "--transform-job", type=resource_name, metavar="NAME", help="a batch transform job"
    )
    target.add_argument("--endpoint", type=resource_name, metavar="NAME", help="an endpoint")
    add_aws_arguments(parser)
    add_wait_arguments(parser, default_timeout=24 * 3600, wait_by_default=False)
    parser.set_defaults(handler=handle)
