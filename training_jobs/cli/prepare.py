"""``prepare``: Jira tickets in, BlazingText train/validation files and a manifest out."""

from __future__ import annotations

from pathlib import Path

import click

from jira_priority.text import MAX_TOKENS
from training_jobs.cli.options import output_dir_option
from training_jobs.data.prepare import DEFAULT_OUTPUT_DIR


def _text_encoding(value: str) -> str:
    from training_jobs.data.readers import DatasetError, text_encoding

    try:
        return text_encoding(value)
    except DatasetError as error:
        raise click.BadParameter(str(error)) from None


@click.command("prepare")
@click.argument(
    "inputs",
    nargs=-1,
    required=True,
    metavar="INPUT...",
    type=click.Path(path_type=Path),
)
@output_dir_option(DEFAULT_OUTPUT_DIR, "train.txt, validation.txt and manifest.json")
@click.option(
    "--validation-fraction",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.2,
    show_default=True,
    help="share of each priority's tickets put in validation.txt",
)
@click.option("--seed", type=int, default=42, show_default=True, help="seed of split and shuffles")
@click.option(
    "--max-tokens",
    type=click.IntRange(1, MAX_TOKENS),
    default=MAX_TOKENS,
    show_default=True,
    help=f"tokens kept per ticket, title first; at most {MAX_TOKENS}, what serving keeps",
)
@click.option(
    "--status",
    multiple=True,
    metavar="STATUS",
    help="keep only tickets with this status (repeatable; e.g. --status Resolved --status "
    "Closed, so that open tickets' priorities, which may still change, are left out)",
)
@click.option(
    "--issue-type",
    multiple=True,
    metavar="TYPE",
    help="keep only tickets of this issue type (repeatable; e.g. Bug)",
)
@click.option(
    "--project",
    multiple=True,
    metavar="KEY",
    help="keep only tickets of this project (repeatable; e.g. HIVE)",
)
@click.option(
    "--holdout-project",
    multiple=True,
    metavar="KEY",
    help="put every ticket of this project in holdout.txt and none in train or validation "
    "(repeatable), to measure how the model does on an unseen project",
)
@click.option(
    "--drop-duplicates/--no-drop-duplicates",
    default=True,
    show_default=True,
    help="drop tickets whose normalised text was already seen, so the same text cannot be in "
    "both train and validation",
)
@click.option(
    "--oversample",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    metavar="RATIO",
    help="repeat random training tickets of each priority until it has at least RATIO x the "
    "count of the most common one (0 = off, 1 = balanced; validation is never oversampled)",
)
@click.option(
    "--scheme",
    default="apache",
    show_default=True,
    metavar="NAME_OR_FILE",
    help="the site's priority scheme: apache (Optional .. Blocker), jira-cloud (Lowest .. "
    'Highest), a JSON file ({"name": ..., "priorities": [lowest, ..., highest]} or '
    '{"scheme": "jira-cloud", "map": {"P1": "Highest", ...}}), or names lowest first, '
    "comma-separated; prepare fails if most rows are outside it",
)
@click.option(
    "--default-priority",
    default=None,
    metavar="NAME",
    help="the priority Jira gives a new issue on this site (default: the scheme's own: Major "
    "for apache, Medium for jira-cloud; a scheme that declares none takes the most common "
    "priority of the training file); answers equal to it are 'keep', urgency is the chance "
    "of a priority above it",
)
@click.option(
    "--exclude-bot",
    multiple=True,
    metavar="ACCOUNT",
    help="the Jira Automation rule's actor (accountId, Data Center user name or display name; "
    "repeatable): leave out tickets whose priority it set and no one changed after it, keep "
    "those a person changed after it with the person's priority (needs fetch --changelog)",
)
@click.option(
    "--correction-weight",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    metavar="K",
    help="with --exclude-bot: write each ticket a person changed after the bot K times to "
    "train.txt (never to validation.txt)",
)
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    callback=lambda _ctx, _param, value: _text_encoding(value),
    help="text encoding of the input files (utf-8, cp1252, utf-16 ...); rows with bytes "
    "invalid in it are rejected and counted",
)
def command(
    inputs: tuple[Path, ...],
    output_dir: Path,
    validation_fraction: float,
    seed: int,
    max_tokens: int,
    status: tuple[str, ...],
    issue_type: tuple[str, ...],
    project: tuple[str, ...],
    holdout_project: tuple[str, ...],
    drop_duplicates: bool,
    oversample: float,
    scheme: str,
    default_priority: str | None,
    exclude_bot: tuple[str, ...],
    correction_weight: int,
    encoding: str,
) -> int:
    """Turn Jira tickets (the tutorial's CSV layout, a Jira CSV export, or JSON lines; gzip is
    detected) into BlazingText train/validation files, one `__label__N tokens` line per ticket,
    normalised as the Lambda normalises a request, and a manifest.json that accounts for every
    row read."""
    from collections import Counter
    from dataclasses import replace

    from jira_priority.labels import parse_scheme
    from training_jobs.console import say
    from training_jobs.data.changelog import Bots
    from training_jobs.data.prepare import (
        PrepareOptions,
        collect,
        fold_names,
        print_summary,
        scheme_misfit,
        with_default_priority,
        write_outputs,
    )
    from training_jobs.errors import CommandError

    try:
        options = PrepareOptions(
            validation_fraction=validation_fraction,
            seed=seed,
            max_tokens=max_tokens,
            statuses=fold_names(status),
            issue_types=fold_names(issue_type),
            projects=fold_names(project),
            holdout_projects=fold_names(holdout_project),
            drop_duplicates=drop_duplicates,
            oversample=oversample,
            encoding=encoding,
            scheme=parse_scheme(scheme).with_default(default_priority),
            exclude_bots=frozenset(a.strip() for a in exclude_bot),
            correction_weight=correction_weight,
        )
        if exclude_bot:
            try:
                Bots.of(exclude_bot)  # a blank name is a mistake (an empty variable), not a bot
            except ValueError as error:
                raise ValueError(f"--exclude-bot: {error}") from None
    except ValueError as error:  # SchemeError included
        raise CommandError(str(error), exit_code=2) from None
    result = collect(list(inputs), options)
    misfit = scheme_misfit(result, options.scheme)
    if misfit is not None:
        raise CommandError(misfit)
    if not result.train:
        raise CommandError(
            f"no ticket left to train on ({result.rows_read} rows read, "
            f"{result.rows_rejected} rejected, {sum(result.filtered.values())} filtered out)"
        )
    with_default, inferred = with_default_priority(
        options.scheme, Counter(example.label for example in result.train)
    )
    if inferred:
        say(
            f"the {with_default.name} scheme declares no default priority: taking the most "
            f"common one, {with_default.default} (--default-priority to choose)"
        )
        options = replace(options, scheme=with_default)
    try:
        manifest = write_outputs(result, list(inputs), output_dir, options)
    except OSError as error:
        raise CommandError(f"cannot write to {output_dir}: {error.strerror or error}") from None
    print_summary(result, output_dir, manifest)
    return 0
