"""``retrain``: fetch what is new, prepare without the bot's own answers, train, and promote
through the gate (or, with --sagemaker, upload, train, calibrate, package and deploy --update)."""

from __future__ import annotations

from pathlib import Path

import click

from training_jobs.cli.options import aws_options

DEFAULT_WORK_DIR = Path("build/retrain")
DEFAULT_LIVE = Path("artifacts/model")


@click.command("retrain")
@click.option(
    "--site",
    required=True,
    envvar="JIRA_SITE",
    show_envvar=True,
    help="the Jira site's URL (credentials as for fetch: JIRA_EMAIL + JIRA_API_TOKEN, or JIRA_PAT)",
)
@click.option(
    "--jql",
    required=True,
    help="which issues, without ORDER BY, e.g. 'project = ACME AND issuetype = Bug AND "
    "priority IS NOT EMPTY'; later runs add the window since the last run",
)
@click.option(
    "--bot",
    "bots",
    multiple=True,
    metavar="ACCOUNT",
    help="the Automation rule's actor (accountId, user name or display name; repeatable): "
    "fetch with the changelog, monitor it, and prepare with --exclude-bot",
)
@click.option(
    "-w",
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_WORK_DIR,
    show_default=True,
    help="the fetches, the merged tickets, the prepared data, the candidate and the reports; "
    "retrain-state.json says what was fetched when",
)
@click.option(
    "--live",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_LIVE,
    show_default=True,
    help="the served model's directory, which promote replaces when the candidate passes",
)
@click.option(
    "--api",
    type=click.Choice(["auto", "cloud", "datacenter"]),
    default="auto",
    show_default=True,
    help="as for fetch",
)
@click.option(
    "--allow-insecure-http", is_flag=True, help="as for fetch: an http:// site off this machine"
)
@click.option("--scheme", metavar="NAME_OR_FILE", help="the site's priority scheme, as for prepare")
@click.option("--default-priority", metavar="NAME", help="as for prepare (and calibrate)")
@click.option(
    "--correction-weight",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    metavar="K",
    help="with --bot: tickets a person changed after the bot count K times in train.txt",
)
@click.option(
    "--days",
    type=click.IntRange(1, 365),
    default=7,
    show_default=True,
    help="monitor's window: a change within this many days after the bot's overrides it",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="how much lower the candidate's macro-F1 may be than the live model's (the gate)",
)
@click.option(
    "--sagemaker",
    is_flag=True,
    help="train on SageMaker and deploy --update the endpoint instead of train-local and promote",
)
@click.option("--endpoint-name", metavar="NAME", help="with --sagemaker: the endpoint to update")
@click.option(
    "--rollout",
    type=click.Choice(["canary", "linear", "all-at-once"]),
    help="with --sagemaker: deploy --update's guarded rollout",
)
@aws_options(role=True, bucket=True)
def command(
    site: str,
    jql: str,
    bots: tuple[str, ...],
    work_dir: Path,
    live: Path,
    api: str,
    allow_insecure_http: bool,
    scheme: str | None,
    default_priority: str | None,
    correction_weight: int,
    days: int,
    tolerance: float,
    sagemaker: bool,
    endpoint_name: str | None,
    rollout: str | None,
    region: str | None,
    role_arn: str | None,
    bucket: str | None,
    prefix: str,
    dry_run: bool,
) -> int:
    """Retrain on the site's tickets, one existing command after another: fetch what was
    updated since the last run (with the changelog when --bot names the Automation rule's
    actor), merge it with the earlier fetches, monitor what people changed after the bot,
    prepare without the bot's unconfirmed priorities, train-local (which fits the
    post-processing), backtest the candidate, and promote it only if the gate passes. With
    --sagemaker: upload, train, calibrate the job's model, backtest, package --upload and
    deploy --update (the endpoint's gate). Each command is printed before it runs; the first
    that fails stops the run with its exit status, the live model untouched. --dry-run prints
    the commands and runs none."""
    from training_jobs.cli.retraining import (
        Retrain,
        RetrainSettings,
        SageMakerTarget,
        print_plan,
    )
    from training_jobs.errors import CommandError

    target = None
    if sagemaker:
        from training_jobs.sagemaker import aws

        if not endpoint_name:
            raise CommandError("--sagemaker needs --endpoint-name", exit_code=2)
        target = SageMakerTarget(
            endpoint_name=endpoint_name,
            region=aws.require_region(region),
            bucket=aws.require_bucket(bucket),
            prefix=prefix,
            role_arn=aws.require_role_arn(role_arn),
            rollout=rollout,
        )
    elif endpoint_name or rollout:
        raise CommandError("--endpoint-name and --rollout go with --sagemaker", exit_code=2)
    settings = RetrainSettings(
        site=site,
        jql=jql,
        work_dir=work_dir,
        live=live,
        bots=bots,
        api=api,
        allow_insecure_http=allow_insecure_http,
        scheme=scheme,
        default_priority=default_priority,
        correction_weight=correction_weight,
        days=days,
        tolerance=tolerance,
        sagemaker=target,
    )
    if any(not bot.strip() for bot in bots):
        raise CommandError("--bot: a blank account name", exit_code=2)
    run = Retrain(settings)
    if dry_run:
        print_plan(run.plan())
        return 0
    return run.run()
