"""``backtest``: the Jira Automation rule's dry run on tickets whose priority is known."""

from __future__ import annotations

from pathlib import Path

import click

from training_jobs.cli.options import POSITIVE_INT, exactly_one, output_dir_option

#: Environment variable holding the API key, so it need not appear in `ps` output.
API_KEY_VARIABLE = "JIRA_PRIORITY_API_KEY"
DEFAULT_OUTPUT_DIR = Path("artifacts/backtest")


@click.command("backtest")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--input-format",
    type=click.Choice(["auto", "tickets", "prepared"]),
    default="auto",
    show_default=True,
    help="auto: a file whose first line starts with __label__ is a prepared file",
)
@click.option(
    "--model",
    metavar="PATH_OR_S3_URI",
    help="answer with this model.bin, .ftz or model.tar.gz as the service would (its "
    "scheme.json and postprocessing.json)",
)
@click.option("--api-url", metavar="URL", help="answer with the deployed (or local) API")
@click.option(
    "--api-key",
    envvar=API_KEY_VARIABLE,
    show_envvar=True,
    help="API key for --api-url (none for a server that asks for none, like `make serve`)",
)
@click.option(
    "--allow-insecure-http",
    is_flag=True,
    help="allow an http:// --api-url that is not this machine with --api-key (the key in clear)",
)
@click.option(
    "--scheme",
    default=None,
    metavar="NAME_OR_FILE",
    help="with --api-url: the priority scheme of the labels and answers (default: apache)",
)
@output_dir_option(DEFAULT_OUTPUT_DIR, "backtest.json, summary.md and backtest.png")
@click.option(
    "--project",
    multiple=True,
    metavar="KEY",
    help="only this project's tickets (repeatable; ticket files only)",
)
@click.option("--limit", type=POSITIVE_INT, help="only the first N labelled tickets")
@click.option(
    "--batch-size",
    type=POSITIVE_INT,
    default=100,
    show_default=True,
    help="tickets per call (the HTTP API takes 25 at most)",
)
@click.option(
    "--max-attempts",
    type=POSITIVE_INT,
    default=5,
    show_default=True,
    help="attempts per batch on throttling, unavailability or time-outs",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="seconds per HTTP API request",
)
@click.option("--no-progress", is_flag=True, help="no progress bar on stderr")
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path,
    input_format: str,
    model: str | None,
    api_url: str | None,
    api_key: str | None,
    allow_insecure_http: bool,
    scheme: str | None,
    output_dir: Path,
    project: tuple[str, ...],
    limit: int | None,
    batch_size: int,
    max_attempts: int,
    timeout: float,
    no_progress: bool,
) -> int:
    """The Automation rule's dry run: answer every ticket of INPUT whose priority is known
    (a ticket file, or a prepared file such as the validation.txt of `prepare
    --exclude-bot`) as the service would, and report what the rule would have set, kept
    and left to triage, how often each was right, and the urgency table. Writes
    backtest.json, summary.md and backtest.png."""
    scorer = exactly_one(ctx.params, "model", "api_url")
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "numpy", "matplotlib", "sklearn", "tqdm", "tenacity")
    from jira_priority.labels import DEFAULT_SCHEME, parse_scheme
    from training_jobs.console import printable
    from training_jobs.evaluation import scorers
    from training_jobs.evaluation.backtest import ACTIONS, backtest, write_outputs
    from training_jobs.evaluation.labelled import read_labelled
    from training_jobs.evaluation.markdown import percent
    from training_jobs.evaluation.predicting import RetryPolicy, predict_all, progress_bar

    ranker: scorers.TicketRanker
    if scorer == "model":
        if scheme is not None:
            raise CommandError("--scheme goes with --api-url: a model has its own", exit_code=2)
        ranker = scorers.local_service_ranker(str(model))
    else:
        try:
            chosen = parse_scheme(scheme) if scheme else DEFAULT_SCHEME
        except ValueError as error:  # SchemeError
            raise CommandError(str(error), exit_code=2) from None
        ranker = scorers.HttpApiRanker(
            str(api_url),
            api_key,
            timeout=timeout,
            scheme=chosen,
            allow_insecure_http=allow_insecure_http,
        )
    try:
        data = read_labelled(
            input_path, input_format, projects=project, limit=limit, scheme=ranker.scheme
        )
    except CommandError as error:
        error.exit_code = 2
        raise
    except ValueError as error:
        raise CommandError(str(error), exit_code=2) from None
    try:
        rankings = predict_all(
            data.tickets,
            ranker,
            k=1,
            batch_size=batch_size,
            retry=RetryPolicy(max_attempts=max_attempts),
            progress=progress_bar(len(data.tickets), enabled=not no_progress),
        )
    except scorers.PredictionError as error:
        raise CommandError(f"prediction failed: {error}") from error
    figures = backtest(data.tickets, rankings, ranker.actions, ranker.urgencies, ranker.scheme)
    try:
        report = write_outputs(
            output_dir, figures, source=data.source, predictor=ranker.description
        )
    except OSError as error:
        raise CommandError(f"cannot write to {output_dir}: {error.strerror or error}") from None
    actions = ", ".join(
        f"{action} {report['actions'][action]} (right {percent(report['precision'][action])})"
        for action in ACTIONS
    )
    print(f"{report['tickets']} tickets: {actions}; report in {output_dir}/summary.md")
    if report["urgency_thresholds"]:
        from training_jobs.evaluation.metrics import urgency_table_lines

        default = printable(report["default_priority"], 60)
        print(f"urgency (a priority above {default}):")
        for line in urgency_table_lines(report["urgency_thresholds"]):
            print(f"  {line}")
    return 0
