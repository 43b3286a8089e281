"""``jira-priority`` (also ``python -m training_jobs``): the root command.

Subcommands are loaded on demand: a command module holds only its click
options and imports what does the work (numpy, fastText, boto3 ...) when it
runs, so every ``--help`` works with the base install alone. Failures the user
can act on (``CommandError`` and the AWS SDK's errors) are handled here, once:
one line on stderr, ``COMMAND: message``, and the error's exit status.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from training_jobs.console import MESSAGE_LIMIT, printable
from training_jobs.errors import CommandError

#: Subcommand name -> (the module whose ``command`` it is, the line ``--help`` lists it with),
#: in the order ``--help`` lists them. The root ``--help`` imports none of the modules.
COMMANDS: dict[str, tuple[str, str]] = {
    "fetch": (
        "training_jobs.cli.fetch",
        "pull the issues a JQL query selects from Jira Cloud or Data Center into JSON lines",
    ),
    "prepare": (
        "training_jobs.cli.prepare",
        "turn Jira tickets (CSV, Jira export, JSON lines, .gz) into BlazingText files",
    ),
    "train-local": (
        "training_jobs.cli.train_local",
        "train a BlazingText-compatible fastText model on this machine",
    ),
    "classify": (
        "training_jobs.cli.classify",
        "predict the priority of one ticket with a local or S3 model",
    ),
    "serve": (
        "training_jobs.cli.serve",
        "serve POST /predict on 127.0.0.1 with the embedded model, like sam local start-api",
    ),
    "evaluate": (
        "training_jobs.cli.evaluate",
        "score a labelled file with a model, endpoint or the API, and report metrics",
    ),
    "upload": ("training_jobs.cli.upload", "upload prepared train/validation files to S3"),
    "train": (
        "training_jobs.cli.train",
        "run a BlazingText training job (supervised mode) on SageMaker",
    ),
    "tune": (
        "training_jobs.cli.tune",
        "run a Bayesian hyperparameter tuning job (objective validation:accuracy)",
    ),
    "deploy": (
        "training_jobs.cli.deploy",
        "create a model, endpoint config and endpoint (or update an endpoint)",
    ),
    "transform": (
        "training_jobs.cli.transform",
        "score a CSV of tickets with a batch transform job",
    ),
    "status": (
        "training_jobs.cli.status",
        "show a job's or endpoint's state; --wait follows it until it settles",
    ),
    "teardown": (
        "training_jobs.cli.teardown",
        "delete endpoint, endpoint config and model; stop jobs; list what is left",
    ),
    "compare": (
        "training_jobs.cli.compare",
        "train and score every recipe within the split and leaving each project out",
    ),
    "calibrate": (
        "training_jobs.cli.calibrate",
        "fit postprocessing.json for an existing model on lines it did not train on",
    ),
    "package": (
        "training_jobs.cli.package",
        "pack a local model.bin and its postprocessing.json as a BlazingText model.tar.gz",
    ),
    "promote": (
        "training_jobs.cli.promote",
        "replace the local model with a candidate unless it scores worse (the local gate)",
    ),
    "backtest": (
        "training_jobs.cli.backtest",
        "the Automation rule's dry run: what it would have set, kept and left to triage",
    ),
    "monitor": (
        "training_jobs.cli.monitor",
        "how often people change the priority the bot set, per priority and per week",
    ),
    "retrain": (
        "training_jobs.cli.retrain",
        "fetch what is new, prepare without the bot's answers, train, promote through the gate",
    ),
}

#: Exit status of a run stopped with Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


def user_message(error: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit status of a failure the user can act on, else None."""
    if isinstance(error, CommandError):
        return str(error), error.exit_code
    if "botocore" in sys.modules:
        # Only a command that imported the AWS SDK can fail with its errors.
        from training_jobs.sagemaker.aws import AWS_ERRORS, describe_error

        if isinstance(error, AWS_ERRORS):
            return describe_error(error), 1
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or error}", 1
    return None


class LazyGroup(click.Group):
    """A group whose subcommands are imported when one is asked for, and one error handler."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command: click.Command = importlib.import_module(COMMANDS[cmd_name][0]).command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands from ``COMMANDS``, without importing any of them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:
            handled = user_message(error)
            if handled is None:
                raise
            message, status = handled
            # One line, whatever outside text the message quotes.
            click.echo(f"{ctx.invoked_subcommand}: {printable(message, MESSAGE_LIMIT)}", err=True)
            ctx.exit(status)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def cli() -> None:
    """Prepare Jira data, train, tune, deploy, score, evaluate and tear down the
    BlazingText priority model.

    Options whose help names an environment variable take their default from it.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (0 when it returns nothing)."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="jira-priority",
            standalone_mode=False,
        )
    except click.exceptions.NoArgsIsHelpError as error:
        error.show()  # no command at all: the help, as click shows it
        return error.exit_code
    except click.UsageError as error:
        # The one format: ``COMMAND: message``, here with where to read the usage.
        name = error.ctx.info_name if error.ctx else "jira-priority"
        path = error.ctx.command_path if error.ctx else "jira-priority"
        click.echo(f"{name}: {error.format_message()} (see {path} --help)", err=True)
        return error.exit_code
    except click.ClickException as error:
        click.echo(f"jira-priority: {error.format_message()}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        return INTERRUPTED
    return int(result or 0)


def run() -> None:
    """The console script ``jira-priority``."""
    raise SystemExit(main())
