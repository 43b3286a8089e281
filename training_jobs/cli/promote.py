"""``promote``: the local gate: a candidate model replaces the served one only if not worse."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("promote")
@click.option(
    "--candidate",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="directory train-local wrote",
)
@click.option(
    "--live",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("artifacts/model"),
    show_default=True,
    help="the served model's directory",
)
@click.option(
    "--held-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("build/data/validation.txt"),
    show_default=True,
    help="prepared lines neither model trained on",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0, max=1),
    default=0.0,
    show_default=True,
    help="how much lower the candidate's macro-F1 may be",
)
@click.option("--force", is_flag=True, help="promote even if the candidate scores worse")
@click.option(
    "--allow-scheme-change",
    is_flag=True,
    help="promote even if the candidate's priority scheme (scheme.json) differs from the "
    "current model's, so the same label gets another name (--force does not)",
)
def command(
    candidate: Path,
    live: Path,
    held_out: Path,
    tolerance: float,
    force: bool,
    allow_scheme_change: bool,
) -> int:
    """Score the candidate and the current model (each with its own postprocessing.json) on a
    held-out prepared file; when the candidate's macro-F1 is at least the current one's (or
    --force), copy its model.bin, postprocessing.json, scheme.json and training.json over the
    current model's, which `make serve` then loads. A candidate whose priority scheme differs
    from the current model's is refused unless --allow-scheme-change. `deploy --update`
    applies the same gate to an endpoint."""
    from training_jobs.console import say
    from training_jobs.errors import CommandError
    from training_jobs.evaluation.gate import evaluate_gate
    from training_jobs.modelling.packaging import promote

    if not (candidate / "model.bin").is_file():
        raise CommandError(f"{candidate} holds no model.bin", exit_code=2)
    if (live / "model.bin").is_file():
        result = evaluate_gate(
            str(candidate), str(live), held_out, tolerance, allow_scheme_change=allow_scheme_change
        )
        if result.scheme_change:
            say(f"{result.scheme_change} (allowed by --allow-scheme-change)")
        if not result.passed and not force:
            raise CommandError(f"{result.describe()}; --force promotes it anyway")
        say(result.describe())
    else:
        say(f"{live} holds no model yet: nothing to compare with")
    copied = promote(candidate, live)
    say(f"promoted {', '.join(copied)} from {candidate} to {live}")
    print(live)
    return 0
