"""``calibrate``: fit postprocessing.json for a model that has none (e.g. a training job's)."""

from __future__ import annotations

from pathlib import Path

import click

from training_jobs.cli.options import target_precision_option


@click.command("calibrate")
@click.option(
    "--model",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="model.bin, its directory, or a training job's model.tar.gz",
)
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="prepared lines the model did not train on",
)
@click.option(
    "-o",
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="where model.bin and postprocessing.json go",
)
@target_precision_option("--data")
@click.option(
    "--default-priority",
    default=None,
    metavar="NAME",
    help="the site's default priority (default: the model's scheme.json says; a scheme that "
    "declares none takes the most common priority of --data)",
)
def command(
    model: Path,
    data: Path,
    output_dir: Path,
    target_precision: float,
    default_priority: str | None,
) -> int:
    """Fit postprocessing.json (prior correction, temperature, top-label map, confidence
    threshold) for a model trained elsewhere (a SageMaker training job's model.tar.gz), on a
    prepared file that model did not train on; train-local fits it on lines it held out of
    training. The class priors come from the model's own label counts. Writes the model's
    model.bin and postprocessing.json (and its scheme.json) to --output-dir, ready for
    package, serve and promote. The file needs 50 lines or more, of two priorities or more,
    each one the model answers.

    On a site's own labelled history (fetch, then prepare), this is where promises that
    hold on that site come from: the keep and set thresholds and the urgency map are
    fitted on its tickets, the model is left as it is. With prepare's train.txt.projects
    beside --data, the thresholds must hold in each of its projects."""
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "numpy", "fasttext", "sklearn", "scipy")
    import shutil
    import tempfile
    from collections import Counter

    from jira_priority.labels import SchemeError
    from jira_priority.model_files import ModelFileError, read_model_scheme
    from jira_priority.postprocessing import FILE_NAME
    from training_jobs.console import say
    from training_jobs.data.readers import read_prepared
    from training_jobs.modelling import postprocessing as fitting
    from training_jobs.modelling.held_out import check_calibration_lines
    from training_jobs.modelling.loading import load_fasttext
    from training_jobs.modelling.train_local import (
        promise_lines,
        read_projects,
        with_default_priority,
    )

    try:
        scheme = read_model_scheme(model)  # its scheme.json, else apache
    except ModelFileError as exc:
        raise CommandError(str(exc)) from None
    examples = list(read_prepared(data, scheme))
    if not examples:
        raise CommandError(f"{data} has no lines")
    try:
        scheme = scheme.with_default(default_priority)
    except SchemeError as exc:
        raise CommandError(str(exc), exit_code=2) from None
    with tempfile.TemporaryDirectory() as tmp:
        # The checked loader: the file's layout and its scheme.json before fastText sees
        # it, then a test prediction (its postprocessing.json is not read: it is replaced).
        loaded, checked = load_fasttext(model, Path(tmp), with_postprocessing=False)
        if checked.path.suffix != ".bin":
            raise CommandError(
                "calibrate a model.bin (a quantised .ftz is not hosted)", exit_code=2
            )
        labels, counts = loaded.get_labels(include_freq=True)
        labels = [str(label) for label in labels]
        check_calibration_lines(data, [e.label for e in examples], labels)
        # what follows may print a notice: only for a usable model and data
        scheme = with_default_priority(scheme, Counter(e.label for e in examples))
        projects = read_projects(data, len(examples))
        output_dir.mkdir(parents=True, exist_ok=True)
        if checked.path.resolve() != (output_dir / "model.bin").resolve():
            shutil.copyfile(checked.path, output_dir / "model.bin")
        scheme.write(output_dir)  # the names travel with the model
    default = scheme.default_level
    default_label = default.label if default is not None and default.label in labels else None
    fitted = fitting.fit(
        fitting.probability_matrix(loaded, [e.text for e in examples], labels),
        [e.label for e in examples],
        labels,
        {label: int(count) for label, count in zip(labels, counts, strict=True)},
        target_precision=target_precision,
        default_label=default_label,
        groups=projects if projects and len(set(projects)) >= 2 else None,
    )
    (output_dir / FILE_NAME).write_text(
        fitted.postprocessing.to_json({"fitted_on": {"file": str(data), **fitted.report}}),
        encoding="utf-8",
    )
    say(
        f"fitted on {len(examples)} lines: macro-F1 {fitted.report['macro_f1_before']} -> "
        f"{fitted.report['macro_f1_after']}; ECE of the model's top answer "
        f"{fitted.report['ece_before']}, of the temperature-scaled answer "
        f"{fitted.report['ece_temperature']}, after the top-label map "
        f"{fitted.report['ece_after']} (fitted on these lines: optimistic)"
    )
    for line in promise_lines(fitted.report, target_precision):
        say(line)
    print(output_dir / FILE_NAME)
    return 0
