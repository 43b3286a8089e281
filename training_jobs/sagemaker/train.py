"""``train``: one BlazingText training job in supervised mode on SageMaker.

The hyperparameters are the local trainer's (``train-local``), with the same
names and defaults, so a setting found locally carries over unchanged. The job
reads the channels ``upload`` filled and writes ``model.tar.gz`` (holding
``model.bin``) under the output path. Prints the job name on stdout.
"""

from __future__ import annotations

import argparse

from training_jobs.console import say
from training_jobs.modelling.hyperparameters import (
    BlazingTextHyperparameters,
    hyperparameters_from_args,
)
from training_jobs.sagemaker.aws import (
    ApiCall,
    Aws,
    Request,
    ToolError,
    add_job_name_arguments,
    job_name,
    one_line_errors,
    print_plan,
    require_region,
)
from training_jobs.sagemaker.job_definition import JobDefinition, add_training_job_arguments, tags
from training_jobs.sagemaker.watch import Kind, describe, wait_as_asked

DEFAULT_TIMEOUT_SECONDS = 3 * 3600


def checked_hyperparameters(args: argparse.Namespace) -> BlazingTextHyperparameters:
    try:
        return hyperparameters_from_args(args)
    except ValueError as error:
        raise ToolError(f"invalid hyperparameters: {error}") from None


def training_job_request(
    name: str, definition: JobDefinition, hyperparameters: BlazingTextHyperparameters
) -> Request:
    if hyperparameters.early_stopping and not definition.validation_uri:
        raise ToolError("--early-stopping needs a validation channel")
    return {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters.as_sagemaker(),
        **definition.common_request(),
        "Tags": tags(),
    }


@one_line_errors
def handle(args: argparse.Namespace) -> int:
    region = require_region(args)
    definition = JobDefinition.from_args(
        args,
        region=region,
        use_validation=not args.no_validation,
    )
    name = job_name(args)
    request = training_job_request(name, definition, checked_hyperparameters(args))
    if args.dry_run:
        return print_plan([ApiCall("sagemaker", "CreateTrainingJob", request)])

    sagemaker = Aws(region).sagemaker
    if describe(sagemaker, Kind.TRAINING_JOB, name) is not None:
        raise ToolError(
            f"training job {name} already exists and job names cannot be reused; "
            "pass another --job-name"
        )
    sagemaker.create_training_job(**request)
    say(f"created training job {name} on {definition.instance_type}")
    if args.wait:
        state = wait_as_asked(sagemaker, Kind.TRAINING_JOB, name, args)
        artifact = state.description.get("ModelArtifacts", {}).get("S3ModelArtifacts")
        say(f"model artifact: {artifact}")
    print(name)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "train",
        help="run a BlazingText training job (supervised mode) on SageMaker",
        description="Create a SageMaker training job with the BlazingText image of the region, "
        "the train and validation channels, and the hyperparameters of `train-local`. "
        "Waits for it by default and prints the job name on stdout. A job name is never "
        "reused: an existing job is refused.",
    )
    add_job_name_arguments(parser, what="training job")
    parser.add_argument(
        "--no-validation",
        action="store_true",
        help="train without the validation channel (no validation:accuracy, no early stopping)",
    )
    add_training_job_arguments(parser, default_timeout=DEFAULT_TIMEOUT_SECONDS)
    parser.set_defaults(handler=handle)
