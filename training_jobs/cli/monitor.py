"""``monitor``: how often people change the priority the bot set, per priority and per week."""

from __future__ import annotations

from pathlib import Path

import click

from training_jobs.cli.options import output_dir_option

DEFAULT_OUTPUT_DIR = Path("artifacts/monitor")


@click.command("monitor")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--bot",
    "bots",
    multiple=True,
    required=True,
    metavar="ACCOUNT",
    help="the Jira Automation rule's actor: its accountId (Cloud), user name (Data Center) or "
    "display name, compared without case (repeatable)",
)
@click.option(
    "--days",
    type=click.IntRange(1, 365),
    default=7,
    show_default=True,
    help="a decision is overridden when someone else changes the priority within this many days",
)
@click.option(
    "--as-of",
    metavar="TIMESTAMP",
    help="when the data was fetched, e.g. 2024-03-01T10:15:30+0000 (default: its newest "
    "timestamp); decisions less than --days before it are still open",
)
@output_dir_option(DEFAULT_OUTPUT_DIR, "monitor.json, summary.md and override_rate.png")
def command(
    input_path: Path, bots: tuple[str, ...], days: int, as_of: str | None, output_dir: Path
) -> int:
    """Read the JSON lines of `fetch --changelog` and report how often people change the
    priority the bot set: the bot's first priority change of a ticket is one decision, and it
    is overridden when someone else changes the priority within --days days after it.
    Decisions whose window is not over yet are reported apart as open. Writes monitor.json
    (counts, rate, by priority, project and ISO week), summary.md and override_rate.png."""
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "numpy", "matplotlib")
    from training_jobs.console import printable, say
    from training_jobs.data.changelog import Bots, ChangelogError, parse_jira_time
    from training_jobs.data.readers import ReadStats, read_changelogs
    from training_jobs.evaluation import monitor as monitoring
    from training_jobs.evaluation.markdown import percent

    try:
        accounts = Bots.of(bots)
        moment = parse_jira_time(as_of) if as_of is not None else None
    except ChangelogError as error:
        raise CommandError(f"--as-of: {error}", exit_code=2) from None
    except ValueError as error:
        raise CommandError(f"--bot: {error}", exit_code=2) from None
    stats = ReadStats()
    records = list(read_changelogs(input_path, stats=stats))
    result = monitoring.monitor(records, accounts, days, moment)
    if not result.with_changelog:
        raise CommandError(
            f"no line of {input_path} has priority_changes ({stats.rows_read} read, "
            f"{stats.rows_rejected} rejected): fetch it with `fetch --changelog`"
        )
    if not result.decisions:
        actors = ", ".join(
            f"{printable(name or '?', 60)} ({printable(by or '?', 60)}): {n}"
            for (by, name), n in result.actors.most_common(monitoring.ACTORS_SHOWN)
        )
        say(
            f"no priority change by {', '.join(printable(b, 60) for b in bots)} in "
            f"{result.with_changelog} tickets; priorities were changed by: {actors or 'no one'}"
        )
    report = monitoring.build_report(
        result, bots=bots, source=monitoring.source_of(input_path, stats)
    )
    try:
        monitoring.write_outputs(output_dir, report)
    except OSError as error:
        raise CommandError(f"cannot write to {output_dir}: {error.strerror or error}") from None
    print(
        f"{report['bot_set']} decisions of the bot, {report['overridden']} overridden within "
        f"{days} days ({percent(report['override_rate'])}); {report['open']['bot_set']} still "
        f"open; report in {output_dir}/summary.md"
    )
    for priority, row in report["by_priority"].items():
        print(
            f"  {printable(priority, 60) or '(none)'}: {row['bot_set']} set, "
            f"{row['overridden']} overridden ({percent(row['override_rate'])})"
        )
    return 0
