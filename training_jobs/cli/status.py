"""``status``: the state of a job or endpoint, once or until it settles."""

from __future__ import annotations

import json

import click

from training_jobs.cli.options import RESOURCE_NAME, aws_options, exactly_one, wait_options

TARGETS = ("training_job", "tuning_job", "transform_job", "endpoint")


@click.command("status")
@click.option("--training-job", type=RESOURCE_NAME, metavar="NAME", help="a training job")
@click.option("--tuning-job", type=RESOURCE_NAME, metavar="NAME", help="a tuning job")
@click.option("--transform-job", type=RESOURCE_NAME, metavar="NAME", help="a batch transform job")
@click.option("--endpoint", type=RESOURCE_NAME, metavar="NAME", help="an endpoint")
@aws_options()
@wait_options(default_timeout=24 * 3600, wait_by_default=False)
@click.pass_context
def command(
    ctx: click.Context,
    training_job: str | None,
    tuning_job: str | None,
    transform_job: str | None,
    endpoint: str | None,
    region: str | None,
    dry_run: bool,
    wait: bool,
    poll_seconds: float,
    timeout_seconds: float,
) -> int:
    """Describe one training job, tuning job, transform job or endpoint (give exactly one) and
    print a JSON summary (for an endpoint also its rollout and autoscaling). With --wait, print
    a progress line (elapsed time, state, secondary status or rollout stage) at every check
    until it completes or fails. A failed job, or an endpoint update rolled back while --wait
    followed it (naming the alarm that fired), exits with status 1."""
    target = exactly_one(ctx.params, *TARGETS)
    from training_jobs.errors import CommandError
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.rollout import rollback_explainer
    from training_jobs.sagemaker.status import endpoint_autoscaling, plan, summary
    from training_jobs.sagemaker.watch import READERS, Kind, variants_of, wait_until_finished

    region = aws.require_region(region)
    kind = Kind(target.replace("_", "-"))
    name = str(ctx.params[target])
    if dry_run:
        return aws.print_plan(plan(kind, name))
    clients = aws.Aws(region)
    explain = rollback_explainer(clients)
    if wait:
        state = wait_until_finished(
            clients.sagemaker,
            kind,
            name,
            poll_seconds=poll_seconds,
            timeout_seconds=timeout_seconds,
            explain=explain,
        )
    else:
        state = READERS[kind](clients.sagemaker, name)
    out = summary(state)
    if kind is Kind.ENDPOINT:
        variants = variants_of(clients.sagemaker, state.description)
        out["autoscaling"] = endpoint_autoscaling(clients.autoscaling, name, variants)
    print(json.dumps(out, indent=2, default=str))
    if state.finished and not state.succeeded:
        extra = explain(state)
        raise CommandError(state.failure_line() + (f"; {extra}" if extra else ""))
    return 0
