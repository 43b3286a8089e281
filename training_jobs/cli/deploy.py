"""``deploy``: a trained model behind a SageMaker endpoint the Lambda can invoke."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from training_jobs.cli.options import (
    POSITIVE_FLOAT,
    POSITIVE_INT,
    RESOURCE_NAME,
    Checked,
    aws_options,
    exactly_one,
    image_option,
    wait_options,
)
from training_jobs.sagemaker.names import endpoint_name
from training_jobs.sagemaker.rollout import TRAFFIC_ROUTING, CapacitySize, capacity_size

DEFAULT_ENDPOINT_NAME = "jira-priority"
DEFAULT_TIMEOUT_SECONDS = 3600
#: The memory sizes a serverless endpoint can have.
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
#: Invocations per instance per minute autoscaling aims at: AWS's rule is the requests per
#: second one instance serves at most x 0.5 x 60; 600 (10 a second) is far below what a
#: BlazingText instance answers, so it scales early. Raise it after a load test.
DEFAULT_TARGET_INVOCATIONS = 600.0
#: How long each rollout step bakes: the stack's alarms need 3 bad minutes of 5 to fire,
#: and SageMaker's metrics arrive a minute or two late.
DEFAULT_BAKE_SECONDS = 600
CAPACITY = Checked("size", capacity_size)


def _usage_checks(ctx: click.Context) -> None:
    """Options that only mean something together with another."""
    given = {
        name
        for name in ctx.params
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }
    rollout = ctx.params["rollout"]
    for name in ("rollback_alarm", "bake_seconds", "canary_size", "linear_step_size"):
        if name in given and not rollout:
            raise click.UsageError(f"--{name.replace('_', '-')} needs --rollout")
    if "canary_size" in given and rollout != "canary":
        raise click.UsageError("--canary-size goes with --rollout canary")
    if "linear_step_size" in given and rollout != "linear":
        raise click.UsageError("--linear-step-size goes with --rollout linear")
    if rollout and not ctx.params["update"]:
        raise click.UsageError("--rollout moves an existing endpoint's traffic: it needs --update")
    bounds = [ctx.params["min_instances"], ctx.params["max_instances"]]
    if any(bound is not None for bound in bounds) and None in bounds:
        raise click.UsageError("give --min-instances and --max-instances together")
    if "target_invocations" in given and None in bounds:
        raise click.UsageError("--target-invocations needs --min-instances and --max-instances")


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
    "--gate-data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("build/data/validation.txt"),
    show_default=True,
    help="with --update: prepared held-out lines both models are scored on",
)
@click.option(
    "--gate-tolerance",
    type=click.FloatRange(min=0, max=1),
    default=0.0,
    show_default=True,
    help="with --update: how much lower the candidate's macro-F1 may be",
)
@click.option(
    "--ignore-gate",
    is_flag=True,
    help="with --update: replace the live model even if the candidate scores worse",
)
@click.option(
    "--allow-scheme-change",
    is_flag=True,
    help="with --update: replace the live model even if the candidate's priority scheme "
    "(scheme.json) differs, so the same label gets another name (--ignore-gate does not)",
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
@click.option(
    "--rollout",
    type=click.Choice(list(TRAFFIC_ROUTING)),
    help="with --update: move the traffic blue/green in a canary step, linear steps or all at "
    "once, each step baking while alarms are watched; SageMaker rolls back if one fires",
)
@click.option(
    "--rollback-alarm",
    multiple=True,
    metavar="NAME",
    help="with --rollout: a CloudWatch alarm that rolls the update back (repeatable, at most "
    "10; default: the alarms on the endpoint's ModelLatency and Invocation5XXErrors)",
)
@click.option(
    "--canary-size",
    type=CAPACITY,
    default="10%",
    show_default=True,
    help="--rollout canary: the first step, a percentage of the new fleet (at most 50%) or "
    "a number of instances",
)
@click.option(
    "--linear-step-size",
    type=CAPACITY,
    default="25%",
    show_default=True,
    help="--rollout linear: each step, 10-50% of the new fleet or a number of instances",
)
@click.option(
    "--bake-seconds",
    type=click.IntRange(min=0, max=3600),
    default=DEFAULT_BAKE_SECONDS,
    show_default=True,
    help="with --rollout: how long each step waits, alarms watched, before the next "
    "(WaitIntervalInSeconds)",
)
@click.option(
    "--min-instances",
    type=POSITIVE_INT,
    help="autoscale the real-time variant between this many instances and --max-instances "
    "(registered once InService)",
)
@click.option("--max-instances", type=POSITIVE_INT, help="autoscaling's maximum (see above)")
@click.option(
    "--target-invocations",
    type=POSITIVE_FLOAT,
    default=DEFAULT_TARGET_INVOCATIONS,
    show_default=True,
    help="autoscaling's target: invocations per instance per minute "
    "(SageMakerVariantInvocationsPerInstance)",
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
    gate_data: Path,
    gate_tolerance: float,
    ignore_gate: bool,
    allow_scheme_change: bool,
    keep_previous: bool,
    force: bool,
    rollout: str | None,
    rollback_alarm: tuple[str, ...],
    canary_size: CapacitySize,
    linear_step_size: CapacitySize,
    bake_seconds: int,
    min_instances: int | None,
    max_instances: int | None,
    target_invocations: float,
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
    configuration, unless the candidate's macro-F1 on --gate-data is below the live model's
    (--ignore-gate deploys it anyway) or its priority scheme differs from the live model's
    (--allow-scheme-change deploys it anyway); --rollout shifts its traffic in steps that roll
    back when an alarm fires. --min-instances/--max-instances autoscale the variant (kept by
    --update). Waits until InService and prints the endpoint name. Existing resources are
    refused unless --update (endpoint) or --force (model, config of the same name) says
    otherwise."""
    exactly_one(ctx.params, "training_job", "tuning_job", "model_data_url")
    _usage_checks(ctx)
    from training_jobs.console import say
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.autoscaling import Scaling
    from training_jobs.sagemaker.deploy import (
        Deployment,
        ModelSource,
        check_gate,
        check_wait,
        choose_hosting,
        deploy,
        planned_model_data,
        resolve_model_data,
    )
    from training_jobs.sagemaker.images import blazingtext_image_uri
    from training_jobs.sagemaker.names import timestamped_name
    from training_jobs.sagemaker.rollout import Rollout

    region = aws.require_region(region)
    now = datetime.now(UTC)
    scaling = None
    if min_instances is not None and max_instances is not None:
        scaling = Scaling(min_instances, max_instances, target_invocations)
        if instance_count is None and serverless_memory_mb is None:
            instance_count = min_instances
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
        rollout=Rollout(
            rollout,
            bake_seconds=bake_seconds,
            canary_size=canary_size,
            linear_step_size=linear_step_size,
            alarms=rollback_alarm,
        )
        if rollout
        else None,
        scaling=scaling,
    )
    check_wait(deployment, wait)
    source = ModelSource(training_job, tuning_job, model_data_url)
    if dry_run:
        return aws.print_plan(deployment.plan(planned_model_data(source)))

    clients = aws.Aws(region)
    model_data, origin = resolve_model_data(clients.sagemaker, source)
    if update:
        check_gate(
            clients.sagemaker,
            endpoint_name,
            model_data,
            gate_data,
            gate_tolerance,
            score=not ignore_gate,
            allow_scheme_change=allow_scheme_change,
        )
    say(f"deploying {origin}")
    deploy(
        clients,
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
