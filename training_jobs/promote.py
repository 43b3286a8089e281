"""``promote``: the local gate: a candidate model replaces the served one only if not worse.

Scores the candidate and the current model (each with its own
postprocessing.json) on a held-out prepared file; when the candidate's macro-F1
is at least the current one's (or ``--force``), copies its ``model.bin``,
``postprocessing.json`` and ``training.json`` over the current model's, which
``make serve`` then loads. ``deploy --update`` applies the same gate to an endpoint.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from jira_priority.postprocessing import FILE_NAME as POSTPROCESSING_FILE
from training_jobs.console import doc_summary, fail, say

PROMOTED_FILES = ("model.bin", POSTPROCESSING_FILE, "training.json")


def promote(candidate: Path, live: Path) -> list[str]:
    """Copy the candidate's files over the live directory's; drop a live sidecar it lacks."""
    live.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in PROMOTED_FILES:
        source, target = candidate / name, live / name
        if source.is_file():
            partial = target.with_name(name + ".part")
            shutil.copyfile(source, partial)
            partial.replace(target)
            copied.append(name)
        elif target.exists() and name != "model.bin":
            target.unlink()  # the live one belonged to the replaced model
    return copied


def run(args: argparse.Namespace) -> int:
    from training_jobs.evaluation.gate import GateError, evaluate_gate

    candidate, live = Path(args.candidate), Path(args.live)
    if not (candidate / "model.bin").is_file():
        return fail("promote", f"{candidate} holds no model.bin", 2)
    if (live / "model.bin").is_file():
        try:
            result = evaluate_gate(str(candidate), str(live), Path(args.held_out), args.tolerance)
        except GateError as exc:
            return fail("promote", str(exc))
        if not result.passed and not args.force:
            return fail("promote", f"{result.describe()}; --force promotes it anyway")
        say(result.describe())
    else:
        say(f"{live} holds no model yet: nothing to compare with")
    copied = promote(candidate, live)
    say(f"promoted {', '.join(copied)} from {candidate} to {live}")
    print(live)
    return 0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "promote",
        help="replace the local model with a candidate unless it scores worse (the local gate)",
        description=doc_summary(__doc__),
    )
    parser.add_argument("--candidate", required=True, help="directory train-local wrote")
    parser.add_argument(
        "--live", default="artifacts/model",
        help="the served model's directory (default: artifacts/model)",
    )  # fmt: skip
    parser.add_argument(
        "--held-out", default="build/data/validation.txt",
        help="prepared lines neither model trained on (default: build/data/validation.txt)",
    )  # fmt: skip
    parser.add_argument(
        "--tolerance", type=float, default=0.0,
        help="how much lower the candidate's macro-F1 may be (default: 0)",
    )  # fmt: skip
    parser.add_argument(
        "--force", action="store_true", help="promote even if the candidate scores worse"
    )
    parser.set_defaults(handler=run)
