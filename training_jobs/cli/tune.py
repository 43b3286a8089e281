"""``tune``: a Bayesian hyperparameter tuning job that maximises validation:accuracy."""

from __future__ import annotations

from typing import Any

import click

from training_jobs.cli.options import (
    JOB_DEFINITION_OPTIONS,
    POSITIVE_INT,
    Checked,
    apply,
    job_name_options,
    training_job_options,
)
from training_jobs.sagemaker.search_space import DOCUMENTED_RANGES, OBJECTIVE_METRIC, parse_range

DEFAULT_TIMEOUT_SECONDS = 24 * 3600
#: The tutorial ran 100 jobs, 8 at a time.
DEFAULT_MAX_JOBS = 100
DEFAULT_MAX_PARALLEL_JOBS = 8
#: CreateHyperParameterTuningJob allows at most 32 characters.
MAX_TUNING_JOB_NAME = 32
_DOCUMENTED = ", ".join(
    f"{r.name} {r.as_request()['MinValue']}..{r.as_request()['MaxValue']}"
    for r in DOCUMENTED_RANGES
)

search_options = apply(
    click.option(
        "--max-jobs",
        type=POSITIVE_INT,
        default=DEFAULT_MAX_JOBS,
        show_default=True,
        help="training jobs in total (the tutorial's)",
    ),
    click.option(
        "--max-parallel-jobs",
        type=POSITIVE_INT,
        default=DEFAULT_MAX_PARALLEL_JOBS,
        show_default=True,
        help="training jobs at a time (the tutorial's)",
    ),
    click.option(
        "--range",
        "ranges",
        type=Checked("NAME=MIN:MAX", parse_range),
        multiple=True,
        metavar="NAME=MIN:MAX",
        help="search NAME between MIN and MAX instead of AWS's range (repeatable), "
        "e.g. --range buckets=100000:2000000",
    ),
    click.option(
        "--fixed",
        multiple=True,
        metavar="NAME",
        help="do not search NAME; use the value of its option (repeatable), e.g. --fixed buckets",
    ),
    click.option(
        "--tuning-early-stopping",
        type=click.Choice(["Auto", "Off"]),
        default="Auto",
        show_default=True,
        help="let SageMaker stop training jobs that cannot beat the best so far",
    ),
)


@click.command(
    "tune",
    help="Create a SageMaker hyperparameter tuning job: Bayesian strategy, objective "
    f"{OBJECTIVE_METRIC} (maximised), AWS's documented BlazingText ranges ({_DOCUMENTED}), "
    "automatic early stopping of hopeless jobs. Hyperparameters that are not searched keep "
    "the value of their option. Waits by default, then prints the best training job's name "
    "on stdout.",
)
@job_name_options(what="tuning job", max_length=MAX_TUNING_JOB_NAME)
@search_options
@training_job_options(default_timeout=DEFAULT_TIMEOUT_SECONDS)
def command(**options: Any) -> int:
    from training_jobs.console import say
    from training_jobs.errors import CommandError
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.job_definition import JobDefinition, checked_hyperparameters
    from training_jobs.sagemaker.names import job_name
    from training_jobs.sagemaker.search_space import search_space
    from training_jobs.sagemaker.tune import report_best, tuning_job_request
    from training_jobs.sagemaker.watch import (
        Kind,
        best_training_job,
        describe,
        wait_until_finished,
    )

    region = aws.require_region(options["region"])
    definition = JobDefinition.create(
        region=region,
        use_validation=True,
        **{name: options[name] for name in JOB_DEFINITION_OPTIONS},
    )
    name = job_name(options["job_name"], options["base_name"], max_length=MAX_TUNING_JOB_NAME)
    request = tuning_job_request(
        name,
        definition,
        checked_hyperparameters(options),
        search_space(list(options["ranges"]), list(options["fixed"])),
        max_jobs=options["max_jobs"],
        max_parallel_jobs=options["max_parallel_jobs"],
        early_stopping_type=options["tuning_early_stopping"],
    )
    if options["dry_run"]:
        return aws.print_plan([aws.ApiCall("sagemaker", "CreateHyperParameterTuningJob", request)])

    sagemaker = aws.Aws(region).sagemaker
    if describe(sagemaker, Kind.TUNING_JOB, name) is not None:
        raise CommandError(f"tuning job {name} already exists; pass another --job-name")
    sagemaker.create_hyper_parameter_tuning_job(**request)
    say(
        f"created tuning job {name}: up to {options['max_jobs']} jobs, "
        f"{options['max_parallel_jobs']} at a time, on {definition.instance_type}"
    )
    if not options["wait"]:
        print(name)
        return 0
    state = wait_until_finished(
        sagemaker,
        Kind.TUNING_JOB,
        name,
        poll_seconds=options["poll_seconds"],
        timeout_seconds=options["timeout_seconds"],
    )
    best = best_training_job(state.description)
    report_best(best)
    print(best["TrainingJobName"])
    return 0
