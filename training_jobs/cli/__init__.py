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

from training_jobs.errors import CommandError

#: Subcommand name -> the module whose ``command`` it is, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "prepare": "training_jobs.cli.prepare",
    "train-local": "training_jobs.cli.train_local",
    "classify": "training_jobs.cli.classify",
    "serve": "training_jobs.cli.serve",
    "evaluate": "training_jobs.cli.evaluate",
    "upload": "training_jobs.cli.upload",
    "train": "training_jobs.cli.train",
    "tune": "training_jobs.cli.tune",
    "deploy": "training_jobs.cli.deploy",
    "transform": "training_jobs.cli.transform",
    "status": "training_jobs.cli.status",
    "teardown": "training_jobs.cli.teardown",
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
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        command: click.Command = importlib.import_module(module_name).command
        return command

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
            click.echo(f"{ctx.invoked_subcommand}: {message}", err=True)
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
