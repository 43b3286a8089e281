"""``train``: one BlazingText training job (supervised mode) on SageMaker."""

from __future__ import annotations

from typing import Any

import click

from training_jobs.cli.options import (
    JOB_DEFINITION_OPTIONS,
    job_name_options,
    training_job_options,
)

DEFAULT_TIMEOUT_SECONDS = 3 * 3600


@click.command("train")
@job_name_options(what="training job")
@click.option(
    "--no-validation",
    is_flag=True,
    help="train without the validation channel (no validation:accuracy, no early stopping)",
)
@training_job_options(default_timeout=DEFAULT_TIMEOUT_SECONDS)
def command(**options: Any) -> int:
    """Create a SageMaker training job with the BlazingText image of the region, the train and
    validation channels, and the hyperparameters of `train-local`. Waits for it by default and
    prints the job name on stdout. A job name is never reused: an existing job is refused."""
    from training_jobs.console import say
    from training_jobs.errors import CommandError
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.job_definition import JobDefinition, checked_hyperparameters
    from training_jobs.sagemaker.names import job_name
    from training_jobs.sagemaker.train import training_job_request
    from training_jobs.sagemaker.watch import Kind, describe, wait_until_finished

    region = aws.require_region(options["region"])
    definition = JobDefinition.create(
        region=region,
        use_validation=not options["no_validation"],
        **{name: options[name] for name in JOB_DEFINITION_OPTIONS},
    )
    name = job_name(options["job_name"], options["base_name"])
    request = training_job_request(name, definition, checked_hyperparameters(options))
    if options["dry_run"]:
        return aws.print_plan([aws.ApiCall("sagemaker", "CreateTrainingJob", request)])

    sagemaker = aws.Aws(region).sagemaker
    if describe(sagemaker, Kind.TRAINING_JOB, name) is not None:
        raise CommandError(
            f"training job {name} already exists and job names cannot be reused; "
            "pass another --job-name"
        )
    sagemaker.create_training_job(**request)
    say(f"created training job {name} on {definition.instance_type}")
    if options["wait"]:
        state = wait_until_finished(
            sagemaker,
            Kind.TRAINING_JOB,
            name,
            poll_seconds=options["poll_seconds"],
            timeout_seconds=options["timeout_seconds"],
        )
        artifact = state.description.get("ModelArtifacts", {}).get("S3ModelArtifacts")
        say(f"model artifact: {artifact}")
    print(name)
    return 0
