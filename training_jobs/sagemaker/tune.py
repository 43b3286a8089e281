"""``tune``: a Bayesian hyperparameter tuning job that maximises validation:accuracy.

The default search space is the one AWS documents for BlazingText in
supervised mode ("Tune a BlazingText Model"); ``--range`` narrows or widens a
hyperparameter and ``--fixed`` takes one out of the search (it then keeps the
value of its own option, like every hyperparameter that is not searched).
When the job ends, the best training job is reported and its name printed on
stdout, ready for ``deploy --training-job``.
"""

from __future__ import annotations

import json
from typing import Any

from training_jobs.console import say
from training_jobs.errors import CommandError
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters
from training_jobs.sagemaker.aws import (
    Request,
)
from training_jobs.sagemaker.job_definition import JobDefinition, tags
from training_jobs.sagemaker.search_space import OBJECTIVE_METRIC, ParameterRange

STRATEGY = "Bayesian"


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
        raise CommandError("--max-parallel-jobs cannot exceed --max-jobs")
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


def report_best(best: dict[str, Any]) -> None:
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
    say(
        f"best training job: {best['TrainingJobName']} "
        f"({metric.get('MetricName', OBJECTIVE_METRIC)} = {metric.get('Value', '?')})"
    )
    say(f"its tuned hyperparameters: {json.dumps(best.get('TunedHyperParameters', {}))}")
