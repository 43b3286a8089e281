"""``tune``: a Bayesian hyperparameter tuning job that maximises validation:accuracy.

The default search space is the one AWS documents for BlazingText in
supervised mode ("Tune a BlazingText Model"); ``--range`` narrows or widens a
hyperparameter and ``--fixed`` takes one out of the search (it then keeps the
value of its own option, like every hyperparameter that is not searched).
When the job ends, the best training job is reported and its name printed on
stdout, ready for ``deploy --training-job``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, fields
from typing import Any

from training_jobs.console import say
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters
from training_jobs.sagemaker.aws import (
    ApiCall,
    Aws,
    Request,
    ToolError,
    add_job_name_arguments,
    job_name,
    one_line_errors,
    positive_int,
    print_plan,
    require_region,
)
from training_jobs.sagemaker.job_definition import JobDefinition, add_training_job_arguments, tags
from training_jobs.sagemaker.train import checked_hyperparameters
from training_jobs.sagemaker.watch import Kind, describe, wait_as_asked

OBJECTIVE_METRIC = "validation:accuracy"
STRATEGY = "Bayesian"
#: The tutorial ran 100 jobs, 8 at a time.
DEFAULT_MAX_JOBS = 100
DEFAULT_MAX_PARALLEL_JOBS = 8
#: CreateHyperParameterTuningJob allows at most 32 characters.
MAX_TUNING_JOB_NAME = 32
DEFAULT_TIMEOUT_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ParameterRange:
    name: str
    low: float
    high: float
    integer: bool

    def as_request(self) -> Request:
        def text(value: float) -> str:
            return str(int(value)) if self.integer else repr(float(value))

        return {
            "Name": self.name,
            "MinValue": text(self.low),
            "MaxValue": text(self.high),
            "ScalingType": "Auto",
        }


#: AWS's recommended ranges for BlazingText text classification (mode is fixed to supervised).
DOCUMENTED_RANGES: tuple[ParameterRange, ...] = (
    ParameterRange("buckets", 1_000_000, 10_000_000, integer=True),
    ParameterRange("epochs", 5, 15, integer=True),
    ParameterRange("learning_rate", 0.005, 0.01, integer=False),
    ParameterRange("min_count", 0, 100, integer=True),
    ParameterRange("vector_dim", 32, 300, integer=True),
    ParameterRange("word_ngrams", 1, 3, integer=True),
)

_NUMERIC_TYPES = {
    f.name: f.type
    for f in fields(BlazingTextHyperparameters)
    if f.name != "mode" and f.type in ("int", "float", int, float)
}


def parse_range(text: str) -> ParameterRange:
    """``NAME=MIN:MAX`` (an argparse type)."""
    name, _, bounds = text.partition("=")
    name = name.strip().replace("-", "_")
    low_text, _, high_text = bounds.partition(":")
    if name not in _NUMERIC_TYPES:
        raise argparse.ArgumentTypeError(
            f"{name!r} is not a numeric BlazingText hyperparameter "
            f"(one of {', '.join(sorted(_NUMERIC_TYPES))})"
        )
    integer = _NUMERIC_TYPES[name] in ("int", int)
    try:
        low, high = (int(v) if integer else float(v) for v in (low_text, high_text))
    except ValueError:
        kind = "integers" if integer else "numbers"
        raise argparse.ArgumentTypeError(
            f"expected {name}=MIN:MAX with {kind}, got {text!r}"
        ) from None
    if not low < high:
        raise argparse.ArgumentTypeError(f"{name}: MIN must be below MAX, got {text!r}")
    return ParameterRange(name, low, high, integer)


def search_space(overrides: list[ParameterRange], fixed: list[str]) -> list[ParameterRange]:
    ranges = {r.name: r for r in DOCUMENTED_RANGES}
    ranges.update({r.name: r for r in overrides})
    for name in fixed:
        key = name.replace("-", "_")
        if key not in _NUMERIC_TYPES:
            raise ToolError(f"--fixed {name}: not a tunable hyperparameter")
        ranges.pop(key, None)
    if not ranges:
        raise ToolError("nothing left to tune: every hyperparameter is --fixed")
    return sorted(ranges.values(), key=lambda r: r.name)


def tuning_job_request(
    name: str,
    definition: JobDefinition,
    hyperparameters: BlazingTextHyperparameters,
    ranges: list[ParameterRange],
    *,
    max_jobs: int,
    max_parallel_jobs: int,
    early_stopping_type: str,
) -> Request:
    if max_parallel_jobs > max_jobs:
        raise ToolError("--max-parallel-jobs cannot exceed --max-jobs")
    tuned = {r.name for r in ranges}
    static = {k: v for k, v in hyperparameters.as_sagemaker().items() if k not in tuned}
    parameter_ranges: dict[str, Any] = {
        "IntegerParameterRanges": [r.as_request() for r in ranges if r.integer],
        "ContinuousParameterRanges": [r.as_request() for r in ranges if not r.integer],
        "CategoricalParameterRanges": [],
    }
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": STRATEGY,
            "HyperParameterTuningJobObjective": {
                "Type": "Maximize",
                "MetricName": OBJECTIVE_METRIC,
            },
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": max_jobs,
                "MaxParallelTrainingJobs": max_parallel_jobs,
            },
            "ParameterRanges": parameter_ranges,
            "TrainingJobEarlyStoppingType": early_stopping_type,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": static,
            **definition.common_request(),
        },
        "Tags": tags(),
    }


def best_training_job(description: Any) -> dict[str, Any]:
    """The tuning job's best training job, or ToolError if none succeeded."""
    best = description.get("BestTrainingJob")
    if not best:
        raise ToolError(
            f"tuning job {description['HyperParameterTuningJobName']} has no successful "
            "training job yet"
        )
    return dict(best)


def report_best(best: dict[str, Any]) -> None:
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
    say(
        f"best training job: {best['TrainingJobName']} "
        f"({metric.get('MetricName', OBJECTIVE_METRIC)} = {metric.get('Value', '?')})"
    )
    say(f"its tuned hyperparameters: {json.dumps(best.get('TunedHyperParameters', {}))}")


@one_line_errors
def handle(args: argparse.Namespace) -> int:
    region = require_region(args)
    definition = JobDefinition.from_args(
        args,
        region=region,
        use_validation=True,
    )
    name = job_name(args, max_length=MAX_TUNING_JOB_NAME)
    request = tuning_job_request(
        name,
        definition,
        checked_hyperparameters(args),
        search_space(args.range, args.fixed),
        max_jobs=args.max_jobs,
        max_parallel_jobs=args.max_parallel_jobs,
        early_stopping_type=args.tuning_early_stopping,
    )
    if args.dry_run:
        return print_plan([ApiCall("sagemaker", "CreateHyperParameterTuningJob", request)])

    sagemaker = Aws(region).sagemaker
    if describe(sagemaker, Kind.TUNING_JOB, name) is not None:
        raise ToolError(f"tuning job {name} already exists; pass another --job-name")
    sagemaker.create_hyper_parameter_tuning_job(**request)
    say(
        f"created tuning job {name}: up to {args.max_jobs} jobs, {args.max_parallel_jobs} at a "
        f"time, on {definition.instance_type}"
    )
    if not args.wait:
        print(name)
        return 0
    state = wait_as_asked(sagemaker, Kind.TUNING_JOB, name, args)
    best = best_training_job(state.description)
    report_best(best)
    print(best["TrainingJobName"])
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    documented = ", ".join(
        f"{r.name} {r.as_request()['MinValue']}..{r.as_request()['MaxValue']}"
        for r in DOCUMENTED_RANGES
    )
    parser = subparsers.add_parser(
        "tune",
        help="run a Bayesian hyperparameter tuning job (objective validation:accuracy)",
        description="Create a SageMaker hyperparameter tuning job: Bayesian strategy, objective "
        f"{OBJECTIVE_METRIC} (maximised), AWS's documented BlazingText ranges ({documented}), "
        "automatic early stopping of hopeless jobs. Hyperparameters that are not searched keep "
        "the value of their option. Waits by default, then prints the best training job's name "
        "on stdout.",
    )
    add_job_name_arguments(parser, what="tuning job", max_length=MAX_TUNING_JOB_NAME)
    search = parser.add_argument_group("search")
    search.add_argument(
        "--max-jobs",
        type=positive_int,
        default=DEFAULT_MAX_JOBS,
        help=f"training jobs in total (default: {DEFAULT_MAX_JOBS}, as in the tutorial)",
    )
    search.add_argument(
        "--max-parallel-jobs",
        type=positive_int,
        default=DEFAULT_MAX_PARALLEL_JOBS,
        help=f"training jobs at a time (default: {DEFAULT_MAX_PARALLEL_JOBS}, as in the tutorial)",
    )
    search.add_argument(
        "--range",
        type=parse_range,
        action="append",
        default=[],
        metavar="NAME=MIN:MAX",
        help="search NAME between MIN and MAX instead of AWS's range (repeatable), "
        "e.g. --range buckets=100000:2000000",
    )
    search.add_argument(
        "--fixed",
        action="append",
        default=[],
        metavar="NAME",
        help="do not search NAME; use the value of its option (repeatable), e.g. --fixed buckets",
    )
    search.add_argument(
        "--tuning-early-stopping",
        choices=("Auto", "Off"),
        default="Auto",
        help="let SageMaker stop training jobs that cannot beat the best so far (default: Auto)",
    )
    add_training_job_arguments(parser, default_timeout=DEFAULT_TIMEOUT_SECONDS)
    parser.set_defaults(handler=handle)
