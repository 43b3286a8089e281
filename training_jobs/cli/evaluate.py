"""``evaluate``: score a labelled file with a model, endpoint or the API, and report metrics."""

from __future__ import annotations

from pathlib import Path

import click

from jira_priority.labels import PRIORITIES
from training_jobs.cli.options import POSITIVE_INT, exactly_one, output_dir_option

#: Environment variable holding the API key, so it need not appear in `ps` output.
API_KEY_VARIABLE = "JIRA_PRIORITY_API_KEY"
DEFAULT_OUTPUT_DIR = Path("artifacts/evaluation")


@click.command("evaluate")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--input-format",
    type=click.Choice(["auto", "tickets", "prepared"]),
    default="auto",
    show_default=True,
    help="auto: a file whose first line starts with __label__ is a prepared file",
)
@click.option("--model", metavar="PATH_OR_S3_URI", help="scorer: model.bin, .ftz or model.tar.gz")
@click.option("--endpoint", metavar="NAME", help="scorer: a SageMaker endpoint")
@click.option("--api-url", metavar="URL", help="scorer: the deployed (or local) API's base URL")
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
    "--region",
    envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
    show_envvar=True,
    help="AWS region of --endpoint",
)
@output_dir_option(DEFAULT_OUTPUT_DIR, "report.json, summary.md and the PNGs")
@click.option("--by-project", is_flag=True, help="also report every project separately")
@click.option(
    "--project",
    multiple=True,
    metavar="KEY",
    help="evaluate only this project's tickets (repeatable; ticket files only)",
)
@click.option(
    "--projects-from",
    metavar="TICKET_FILE",
    type=click.Path(path_type=Path),
    help="for a prepared file: the ticket file it was prepared from, to recover each line's "
    "project for --by-project (matched on the normalised text)",
)
@click.option("--limit", type=POSITIVE_INT, help="evaluate only the first N labelled tickets")
@click.option("--title", help="report title (default: input file and scorer kind)")
@click.option(
    "--k",
    type=click.IntRange(2, len(PRIORITIES)),
    default=2,
    show_default=True,
    help="ranked priorities to ask for per ticket (top-2 needs two)",
)
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
@click.option(
    "--scheme",
    default=None,
    metavar="NAME_OR_FILE",
    help="the priority scheme of the labels and answers: apache, jira-cloud, a scheme file or "
    "names lowest first (default: the scheme.json with --model, else apache)",
)
@click.option("--no-progress", is_flag=True, help="no progress bar on stderr")
@click.pass_context
def command(
    ctx: click.Context,
    input_path: Path,
    input_format: str,
    model: str | None,
    endpoint: str | None,
    api_url: str | None,
    api_key: str | None,
    allow_insecure_http: bool,
    region: str | None,
    output_dir: Path,
    by_project: bool,
    project: tuple[str, ...],
    projects_from: Path | None,
    limit: int | None,
    title: str | None,
    k: int,
    batch_size: int,
    max_attempts: int,
    timeout: float,
    scheme: str | None,
    no_progress: bool,
) -> int:
    """Score a labelled file (tutorial CSV, Jira export, JSON lines, gzipped or not, or a
    prepared BlazingText file) with one scorer, --model, --endpoint or --api-url, and write
    report.json (every figure beside the majority-class baseline, per class, and per project
    with --by-project), summary.md and the confusion and per-class PNGs."""
    scorer = exactly_one(ctx.params, "model", "endpoint", "api_url")
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "numpy", "matplotlib", "sklearn", "tqdm", "tenacity")
    from jira_priority.labels import DEFAULT_SCHEME, parse_scheme
    from training_jobs.evaluation import scorers
    from training_jobs.evaluation.labelled import read_labelled
    from training_jobs.evaluation.metrics import urgency_table_lines, urgency_thresholds
    from training_jobs.evaluation.predicting import RetryPolicy, predict_all, progress_bar
    from training_jobs.evaluation.report import evaluate_rankings, per_project, write_outputs

    try:
        chosen = parse_scheme(scheme) if scheme else None
    except ValueError as error:  # SchemeError
        raise CommandError(str(error), exit_code=2) from None
    ranker: scorers.TicketRanker
    if scorer == "model":
        ranker = scorers.local_model_ranker(str(model), chosen)
    elif scorer == "endpoint":
        ranker = scorers.sagemaker_ranker(
            str(endpoint), region=region, scheme=chosen or DEFAULT_SCHEME
        )
    else:
        ranker = scorers.HttpApiRanker(
            str(api_url),
            api_key,
            timeout=timeout,
            scheme=chosen or DEFAULT_SCHEME,
            allow_insecure_http=allow_insecure_http,
        )
    try:
        data = read_labelled(
            input_path,
            input_format,
            projects=project,
            limit=limit,
            projects_from=projects_from,
            scheme=ranker.scheme,
        )
    except CommandError as error:
        error.exit_code = 2
        raise
    except ValueError as error:
        raise CommandError(str(error), exit_code=2) from None
    progress = progress_bar(len(data.tickets), enabled=not no_progress)
    try:
        rankings = predict_all(
            data.tickets,
            ranker,
            k=k,
            batch_size=batch_size,
            retry=RetryPolicy(max_attempts=max_attempts),
            progress=progress,
        )
    except scorers.PredictionError as error:
        raise CommandError(f"prediction failed: {error}") from error
    evaluation = evaluate_rankings(data.tickets, rankings, ranker.scheme)
    urgency = None
    default = ranker.scheme.default_level
    urgencies = ranker.urgencies
    if default is not None and len(urgencies) == len(rankings) and None not in urgencies:
        urgency = urgency_thresholds(
            [u or 0.0 for u in urgencies],
            [t.priority.rank > default.rank for t in data.tickets],
        )
    projects = per_project(data.tickets, rankings, ranker.scheme) if by_project else None
    report = write_outputs(
        output_dir,
        evaluation,
        projects,
        title=title or f"{input_path.name} · {ranker.description['kind']}",
        source=data.source,
        predictor=ranker.description,
        k=k,
        urgency=urgency,
    )
    comparison = report["comparison"]
    print(
        f"{report['count']} tickets: accuracy {comparison['accuracy']['model']:.3f} "
        f"(majority {comparison['accuracy']['baseline']:.3f}), "
        f"macro-F1 {comparison['macro_f1']['model']:.3f} "
        f"(majority {comparison['macro_f1']['baseline']:.3f}); "
        f"report in {output_dir}/summary.md"
    )
    if urgency:
        print(f"urgency (a priority above {default.value if default else 'the default'}):")
        for line in urgency_table_lines(urgency):
            print(f"  {line}")
    return 0
