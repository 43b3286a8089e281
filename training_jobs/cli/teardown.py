"""``teardown``: delete what costs money, stop what runs, and list what is left."""

from __future__ import annotations

import click

from training_jobs.cli.options import RESOURCE_NAME, aws_options


def _repeatable(flag: str, what: str) -> click.Option:
    return click.Option([flag], type=RESOURCE_NAME, multiple=True, metavar="NAME", help=what)


@click.command(
    "teardown",
    params=[
        _repeatable(
            "--endpoint-name",
            "delete this endpoint, its autoscaling, its endpoint config and that config's models",
        ),
        _repeatable("--endpoint-config-name", "delete this endpoint config"),
        _repeatable("--model-name", "delete this model"),
        _repeatable("--stop-training-job", "stop this training job if it is in progress"),
        _repeatable(
            "--stop-tuning-job", "stop this tuning job (and its training jobs) if in progress"
        ),
        _repeatable("--stop-transform-job", "stop this batch transform job if it is in progress"),
    ],
)
@aws_options()
def command(
    endpoint_name: tuple[str, ...],
    endpoint_config_name: tuple[str, ...],
    model_name: tuple[str, ...],
    stop_training_job: tuple[str, ...],
    stop_tuning_job: tuple[str, ...],
    stop_transform_job: tuple[str, ...],
    region: str | None,
    dry_run: bool,
) -> int:
    """Delete endpoints together with their autoscaling, endpoint configs and models, delete
    leftover configs and models by name, stop running jobs, then list every endpoint, endpoint
    config, model and scalable target that exists and every job in progress (tab-separated:
    kind, name, status). With no option it only lists."""
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.teardown import (
        Teardown,
        delete_endpoints,
        plan,
        print_inventory,
        stop_jobs,
    )

    region = aws.require_region(region)
    teardown = Teardown(
        endpoints=endpoint_name,
        endpoint_configs=endpoint_config_name,
        models=model_name,
        training_jobs=stop_training_job,
        tuning_jobs=stop_tuning_job,
        transform_jobs=stop_transform_job,
    )
    if dry_run:
        return aws.print_plan(plan(teardown))
    clients = aws.Aws(region)
    stop_jobs(clients.sagemaker, stop_training_job, stop_tuning_job, stop_transform_job)
    if endpoint_name or endpoint_config_name or model_name:
        delete_endpoints(clients, endpoint_name, endpoint_config_name, model_name)
    print_inventory(clients)
    return 0
