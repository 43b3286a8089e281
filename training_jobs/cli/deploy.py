"""``deploy``: a trained model behind a SageMaker endpoint the Lambda can invoke."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from training_jobs.cli.options import (
    POSITIVE_INT,
    RESOURCE_NAME,
    Checked,
    aws_options,
    exactly_one,
    image_option,
    wait_options,
)
from training_jobs.sagemaker.names import endpoint_name

DEFAULT_ENDPOINT_NAME = "jira-priority"
DEFAULT_TIMEOUT_SECONDS = 3600
#: The memory sizes a serverless endpoint can have.
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)


@click.command("deploy")
@click.option("--training-job", type=RESOURCE_NAME, help="model source: a Completed training job")
@click.option(
    "--tuning-job", type=RESOURCE_NAME, help="model source: a tuning job's best training job"
)
@click.option("--model-data-url", help="model source: an s3:// URI of a BlazingText model.tar.gz")
@click.option(
    "--endpoint-name",
    type=Checked("name", endpoint_name),
    default=DEFAULT_ENDPOINT_NAME,
    show_default=True,
    help="endpoint to create or update",
)
@click.option(
    "--model-name", type=RESOURCE_NAME, help="model name (default: ENDPOINT-NAME-YYYYMMDD-HHMMSS)"
)
@click.option(
    "--endpoint-config-name",
    type=RESOURCE_NAME,
    help="endpoint configuration name (default: ENDPOINT-NAME-YYYYMMDD-HHMMSS)",
)
@click.option("--instance-type", help="real-time instance type (default: ml.m5.large)")
@click.option("--instance-count", type=POSITIVE_INT, help="real-time instances (default: 1)")
@click.option(
    "--serverless-memory-mb",
    type=click.Choice([str(mb) for mb in SERVERLESS_MEMORY_MB]),
    help="serverless endpoint memory in MB (billed per request, not per hour)",
)
@click.option(
    "--serverless-max-concurrency",
    type=POSITIVE_INT,
    default=5,
    show_default=True,
    help="serverless: concurrent invocations at most",
)
@image_option()
@click.option(
    "--update",
    is_flag=True,
    help="the endpoint exists: move it to the new configuration (UpdateEndpoint)",
)
@click.option(
    "--keep-previous",
    is_flag=True,
    help="after --update, keep the previous endpoint config and model (default: delete them)",
)
@click.option(
    "--force",
    is_flag=True,
    help="replace a model or endpoint config that already has the requested name",
)
@aws_options(role=True)
@wait_options(default_timeout=DEFAULT_TIMEOUT_SECONDS)
@click.pass_context
def command(
    ctx: click.Context,
    training_job: str | None,
    tuning_job: str | None,
    model_data_url: str | None,
    endpoint_name: str,
    model_name: str | None,
    endpoint_config_name: str | None,
    instance_type: str | None,
    instance_count: int | None,
    serverless_memory_mb: str | None,
    serverless_max_concurrency: int,
    image_uri: str | None,
    update: bool,
    keep_previous: bool,
    force: bool,
    region: str | None,
    role_arn: str | None,
    dry_run: bool,
    wait: bool,
    poll_seconds: float,
    timeout_seconds: float,
) -> int:
    """Create a SageMaker model from a training job's model.tar.gz (or the best job of a tuning
    job, or a model.tar.gz URI: give exactly one), an endpoint configuration (real-time instances
    or serverless) and the endpoint, or with --update move an existing endpoint to the new
    configuration. Waits until InService and prints the endpoint name. Existing resources are
    refused unless --update (endpoint) or --force (model, config of the same name) says
    otherwise."""
    exactly_one(ctx.params, "training_job", "tuning_job", "model_data_url")
    from training_jobs.console import say
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.deploy import (
        Deployment,
        ModelSource,
        choose_hosting,
        deploy,
        planned_model_data,
        resolve_model_data,
    )
    from training_jobs.sagemaker.images import blazingtext_image_uri
    from training_jobs.sagemaker.names import timestamped_name

    region = aws.require_region(region)
    now = datetime.now(UTC)
    deployment = Deployment(
        endpoint_name=endpoint_name,
        model_name=model_name or timestamped_name(endpoint_name, now=now),
        config_name=endpoint_config_name or timestamped_name(endpoint_name, now=now),
        image_uri=blazingtext_image_uri(region, image_uri),
        role_arn=aws.require_role_arn(role_arn),
        hosting=choose_hosting(
            instance_type=instance_type,
            instance_count=instance_count,
            serverless_memory_mb=int(serverless_memory_mb) if serverless_memory_mb else None,
            serverless_max_concurrency=serverless_max_concurrency,
        ),
        update=update,
        keep_previous=keep_previous,
        force=force,
    )
    source = ModelSource(training_job, tuning_job, model_data_url)
    if dry_run:
        return aws.print_plan(deployment.plan(planned_model_data(source)))

    sagemaker = aws.Aws(region).sagemaker
    model_data, origin = resolve_model_data(sagemaker, source)
    say(f"deploying {origin}")
    deploy(
        sagemaker,
        deployment,
        model_data,
        wait=wait,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    if wait:
        say(
            f"endpoint {deployment.endpoint_name} is InService; in samconfig.toml set "
            f'parameter_overrides = "SageMakerEndpointName=\\"{deployment.endpoint_name}\\"" '
            "and run `sam deploy`"
        )
    print(deployment.endpoint_name)
    return 0
