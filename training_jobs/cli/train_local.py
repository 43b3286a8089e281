"""``train-local``: a BlazingText-compatible fastText model trained on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from training_jobs.cli.options import (
    hyperparameter_options,
    output_dir_option,
    target_precision_option,
)
from training_jobs.modelling.held_out import MIN_HELD_OUT_LINES
from training_jobs.modelling.sampling import DEFAULT_SHARE

DEFAULT_DATA_DIR = Path("build/data")
DEFAULT_OUTPUT_DIR = Path("artifacts/model")


@click.command("train-local")
@click.option(
    "--train",
    "train_file",
    default=str(DEFAULT_DATA_DIR / "train.txt"),
    show_default=True,
    help="prepared training file, one '__label__N tokens' line per ticket",
)
@click.option(
    "--validation",
    default=str(DEFAULT_DATA_DIR / "validation.txt"),
    show_default=True,
    help="prepared validation file for metrics and early stopping; '' for none",
)
@click.option(
    "--min-validation-lines",
    type=click.IntRange(min=1),
    default=MIN_HELD_OUT_LINES,
    show_default=True,
    help="refuse a validation file with fewer lines (its figures would be noise)",
)
@output_dir_option(
    DEFAULT_OUTPUT_DIR, "model.bin, postprocessing.json, model.ftz and training.json"
)
@click.option("--seed", type=int, default=42, show_default=True, help="fastText's random seed")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="training threads; only 1 gives the same model for the same seed",
)
@click.option(
    "--quantize/--no-quantize",
    default=False,
    show_default=True,
    help="also write a quantised model.ftz (much smaller, slightly less accurate)",
)
@click.option(
    "--quantize-cutoff",
    type=click.IntRange(min=0),
    default=100_000,
    show_default=True,
    help="words and n-grams kept in model.ftz (0 keeps all)",
)
@click.option(
    "--calibration-fraction",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.15,
    show_default=True,
    help="post-processing (prior correction, temperature, top-label map, the keep and set "
    "promises, urgency) is cross-fitted by project when prepare's train.txt.projects names two "
    "or more; else this share of each priority's training lines is held out to fit it; 0 for "
    "no post-processing",
)
@click.option(
    "--default-share",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=DEFAULT_SHARE,
    show_default=True,
    help="train on this share of the default priority's lines (seeded; every other line "
    "once; post-processing still sees every line); make compare measured 0.3 as no better "
    "than all (thin-major recipe)",
)
@target_precision_option("the calibration lines")
@click.option("--verbose", is_flag=True, help="show fastText's own progress lines")
@click.option(
    "--scheme",
    default=None,
    metavar="NAME_OR_FILE",
    help="the priority scheme the labels belong to, written beside the model as scheme.json: "
    "apache, jira-cloud, a scheme file or names lowest first (default: the scheme.json "
    "prepare wrote beside --train, else apache)",
)
@hyperparameter_options()
def command(
    train_file: str,
    validation: str,
    min_validation_lines: int,
    output_dir: Path,
    seed: int,
    threads: int,
    quantize: bool,
    quantize_cutoff: int,
    calibration_fraction: float,
    target_precision: float,
    verbose: bool,
    scheme: str | None,
    default_share: float,
    **hyperparameters: Any,
) -> int:
    """Train a BlazingText-compatible model with fastText. BlazingText's supervised mode is
    fastText's and the model.bin files cross-load, so the model written here can be served by
    the embedded backend or uploaded to a SageMaker endpoint. Writes model.bin, optionally
    model.ftz, training.json (settings, timings, sizes and validation metrics beside the
    majority-class baseline) and, unless --calibration-fraction 0, postprocessing.json fitted on
    answers for lines the model (or, cross-fitted, a model without their project) did not
    train on."""
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "numpy", "fasttext", "sklearn")
    from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters
    from training_jobs.modelling.train_local import print_summary, train

    try:
        hp = BlazingTextHyperparameters.from_options(hyperparameters)
    except ValueError as error:
        raise CommandError(str(error), exit_code=2) from None
    from jira_priority.labels import SchemeError

    try:
        report = train(
            train_path=Path(train_file),
            validation_path=Path(validation) if validation else None,
            output_dir=output_dir,
            hp=hp,
            seed=seed,
            threads=threads,
            quantize=quantize,
            quantize_cutoff=quantize_cutoff,
            verbose=verbose,
            min_validation_lines=min_validation_lines,
            calibration_fraction=calibration_fraction,
            target_precision=target_precision,
            scheme_option=scheme,
            default_share=default_share,
        )
    except SchemeError as error:
        raise CommandError(str(error), exit_code=2) from None
    print_summary(report, output_dir)
    return 0
