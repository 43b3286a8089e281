"""``python -m training_jobs COMMAND``: one tool, one module per command.

Each command module defines ``register(subparsers)``, which adds its parser
and sets ``handler`` (a function taking the parsed arguments and returning an
exit code) as the parser default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: The command modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "training_jobs.fetch",
    "training_jobs.prepare",
    "training_jobs.train_local",
    "training_jobs.classify",
    "training_jobs.serve",
    "training_jobs.evaluate",
    "training_jobs.upload",
    "training_jobs.train",
    "training_jobs.tune",
    "training_jobs.deploy",
    "training_jobs.transform",
    "training_jobs.status",
    "training_jobs.teardown",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training_jobs",
        description="Prepare Jira data, train, tune, deploy, score, evaluate and tear down "
        "the BlazingText priority model.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
