"""``train``: one BlazingText training job in supervised mode on SageMaker.

The hyperparameters are the local trainer's (``train-local``), with the same
names and defaults, so a setting found locally carries over unchanged. The job
reads the channels ``upload`` filled and writes ``model.tar.gz`` (holding
``model.bin``) under the output path. Prints the job name on stdout.
"""

from __future__ import annotations

import argparse

from training_jobs.aws import (
    DEFAULT_PREFIX,
    ApiCall,
    Aws,
    Request,
    ToolError,
    add_aws_arguments,
    add_wait_arguments,
    describe_or_none,
    one_line_errors,
    print_plan,
    require_bucket,
    require_region,
    require_role_arn,
    resource_name,
    say,
    timestamped_name,
)
from training_jobs.hyperparameters import (
    BlazingTextHyperparameters,
    add_hyperparameter_arguments,
    hyperparameters_from_args,
)
from training_jobs.job_definition import JobDefinition, add_job_definition_arguments, tags
from training_jobs.watch import Kind, wait_until_finished

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
        role_arn=require_role_arn(args),
        bucket=require_bucket(args),
        use_validation=not args.no_validation,
    )
    name = args.job_name or timestamped_name(args.base_name)
    request = training_job_request(name, definition, checked_hyperparameters(args))
    if args.dry_run:
        return print_plan([ApiCall("sagemaker", "CreateTrainingJob", request)])

    sagemaker = Aws(region).sagemaker
    if describe_or_none(sagemaker.describe_training_job, TrainingJobName=name) is not None:
        raise ToolError(
            f"training job {name} already exists and job names cannot be reused; "
            "pass another --job-name"
        )
    sagemaker.create_training_job(**request)
    say(f"created training job {name} on {definition.instance_type}")
    if args.wait:
        state = wait_until_finished(
            sagemaker,
            Kind.TRAINING_JOB,
            name,
            poll_seconds=args.poll_seconds,
            timeout_seconds=args.timeout_seconds,
        )
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
    parser.add_argument(
        "--job-name",
        type=resource_name,
        help="training job name (default: BASE-NAME-YYYYMMDD-HHMMSS)",
    )
    parser.add_argument(
        "--base-name",
        type=resource_name,
        default=DEFAULT_PREFIX,
        help=f"prefix of generated job names (default: {DEFAULT_PREFIX})",
    )
    parser.add_argument(
        "--no-validation",
        action="store_true",
        help="train without the validation channel (no validation:accuracy, no early stopping)",
    )
    add_job_definition_arguments(parser)
    add_hyperparameter_arguments(parser)
    add_aws_arguments(parser, role=True, bucket=True)
    add_wait_arguments(parser, default_timeout=DEFAULT_TIMEOUT_SECONDS)
    parser.set_defaults(handler=handle)
