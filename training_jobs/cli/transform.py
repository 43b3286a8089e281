"""``transform``: score a file of tickets in bulk with a SageMaker batch transform job."""

from __future__ import annotations

from pathlib import Path

import click

from training_jobs.cli.options import (
    POSITIVE_INT,
    RESOURCE_NAME,
    aws_options,
    job_name_options,
    wait_options,
)

DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_TIMEOUT_SECONDS = 6 * 3600


@click.command("transform")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(path_type=Path),
    help="tickets to score: tutorial CSV, Jira export CSV or JSON lines (gzip allowed)",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV to write the predictions to",
)
@click.option("--force", is_flag=True, help="overwrite --output if it exists")
@click.option(
    "--model-name",
    type=RESOURCE_NAME,
    help="SageMaker model to score with (`deploy` prints the one it creates)",
)
@click.option(
    "--collect",
    metavar="JOB",
    type=RESOURCE_NAME,
    help="do not start a job: write the CSV from this finished job's output "
    "(same --input as when it started)",
)
@click.option(
    "--postprocessing",
    metavar="PATH",
    type=click.Path(exists=True, path_type=Path),
    help="apply this model's post-processing like the Lambda does: its directory, "
    "model.tar.gz, or postprocessing.json (default: none, the model's own ranking)",
)
@click.option(
    "--top-k",
    type=POSITIVE_INT,
    default=1,
    show_default=True,
    help="ranked priorities per ticket, in the ranking column",
)
@job_name_options(what="transform job")
@click.option(
    "--instance-type", default=DEFAULT_INSTANCE_TYPE, show_default=True, help="batch instance type"
)
@click.option(
    "--instance-count", type=POSITIVE_INT, default=1, show_default=True, help="batch instances"
)
@click.option(
    "--scheme",
    default="apache",
    show_default=True,
    metavar="NAME_OR_FILE",
    help="the model's priority scheme, for the names in the CSV: apache, jira-cloud, a scheme "
    "file or names lowest first",
)
@aws_options(bucket=True)
@wait_options(default_timeout=DEFAULT_TIMEOUT_SECONDS)
def command(
    input_path: Path,
    output: Path,
    force: bool,
    scheme: str,
    model_name: str | None,
    collect: str | None,
    postprocessing: Path | None,
    top_k: int,
    job_name: str | None,
    base_name: str,
    instance_type: str,
    instance_count: int,
    region: str | None,
    bucket: str | None,
    prefix: str,
    dry_run: bool,
    wait: bool,
    poll_seconds: float,
    timeout_seconds: float,
) -> int:
    """Normalise the tickets of a CSV (or JSON lines) file like the Lambda does, send them to a
    SageMaker batch transform job as BlazingText application/jsonlines, and write a CSV with
    the predicted priority of every ticket (every label is asked for; with --postprocessing
    the answers are post-processed like the Lambda's, then cut to --top-k). Prints the CSV
    path (or, with --no-wait, the job name)."""
    from training_jobs.console import say
    from training_jobs.errors import CommandError
    from training_jobs.sagemaker import aws, transform
    from training_jobs.sagemaker.names import job_name as make_job_name
    from training_jobs.sagemaker.watch import Kind, wait_until_finished

    region = aws.require_region(region)
    if output.exists() and not force:
        raise CommandError(f"{output} exists; pass --force to overwrite it")
    tickets = transform.read_input_tickets(input_path)
    from jira_priority.labels import SchemeError, parse_scheme

    try:
        names = parse_scheme(scheme)
    except SchemeError as error:
        raise CommandError(str(error), exit_code=2) from None
    fitted = transform.read_postprocessing_option(postprocessing, names)

    if collect:
        if dry_run:
            raise CommandError("--collect only reads; it has nothing to dry-run")
        clients = aws.Aws(region)
        transform.collect(
            clients.sagemaker, clients.s3, collect, tickets, output, top_k, fitted, names
        )
        print(output)
        return 0

    if not model_name:
        raise CommandError(
            "--model-name is required (the model `deploy` created), unless --collect"
        )
    job = transform.TransformJob(
        name=make_job_name(job_name, base_name),
        model_name=model_name,
        bucket=aws.require_bucket(bucket),
        prefix=prefix,
        instance_type=instance_type,
        instance_count=instance_count,
    )
    body = transform.batch_input(tickets, len(names))
    if dry_run:
        return aws.print_plan(job.plan(body, len(tickets)))

    clients = aws.Aws(region)
    transform.start(clients.sagemaker, clients.s3, job, body, len(tickets))
    if not wait:
        say(
            f"collect the result later: jira-priority transform --collect {job.name} "
            f"--input {input_path} --output {output}"
        )
        print(job.name)
        return 0
    wait_until_finished(
        clients.sagemaker,
        Kind.TRANSFORM_JOB,
        job.name,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    transform.collect(
        clients.sagemaker, clients.s3, job.name, tickets, output, top_k, fitted, names
    )
    print(output)
    return 0
