"""``calibrate``: fit postprocessing.json for a model that has none (e.g. a training job's).

``train-local`` fits it on lines it held out of training; a model trained
elsewhere (a SageMaker training job's model.tar.gz) gets it here, fitted on a
prepared file that model did **not** train on. The class priors come from the
model's own label counts. Writes the model's ``model.bin`` and
``postprocessing.json`` to ``--output-dir``, ready for ``package``, ``serve``
and ``promote``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from jira_priority.model_files import ModelFileError, locate_model
from jira_priority.postprocessing import FILE_NAME
from training_jobs.console import doc_summary, fail, say
from training_jobs.datasets import DatasetError, read_prepared
from training_jobs.modelling import postprocessing as fitting


def run(args: argparse.Namespace) -> int:
    import fasttext

    output = Path(args.output_dir)
    try:
        examples = list(read_prepared(Path(args.data)))
        with tempfile.TemporaryDirectory() as tmp:
            model_file = locate_model(Path(args.model), Path(tmp))
            if model_file.suffix != ".bin":
                return fail(
                    "calibrate", "calibrate a model.bin (a quantised .ftz is not hosted)", 2
                )
            model = fasttext.load_model(str(model_file))
            output.mkdir(parents=True, exist_ok=True)
            if model_file.resolve() != (output / "model.bin").resolve():
                shutil.copyfile(model_file, output / "model.bin")
    except (DatasetError, ModelFileError, OSError, ValueError) as exc:
        return fail("calibrate", str(exc))
    if not examples:
        return fail("calibrate", f"{args.data} has no lines")
    labels, counts = model.get_labels(include_freq=True)
    labels = [str(label) for label in labels]
    fitted = fitting.fit(
        fitting.probability_matrix(model, [e.text for e in examples], labels),
        [e.label for e in examples],
        labels,
        {label: int(count) for label, count in zip(labels, counts, strict=True)},
        target_precision=args.target_precision,
    )
    (output / FILE_NAME).write_text(
        fitted.postprocessing.to_json({"fitted_on": {"file": str(args.data), **fitted.report}}),
        encoding="utf-8",
    )
    say(
        f"fitted on {len(examples)} lines: macro-F1 {fitted.report['macro_f1_before']} -> "
        f"{fitted.report['macro_f1_after']}, ECE {fitted.report['ece_before']} -> "
        f"{fitted.report['ece_after']}"
    )
    print(output / FILE_NAME)
    return 0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "calibrate",
        help="fit postprocessing.json for an existing model on lines it did not train on",
        description=doc_summary(__doc__),
    )
    parser.add_argument(
        "--model", required=True, help="model.bin, its directory, or a training job's model.tar.gz"
    )
    parser.add_argument("--data", required=True, help="prepared lines the model did not train on")
    parser.add_argument("-o", "--output-dir", required=True, help="where model.bin and the file go")
    parser.add_argument(
        "--target-precision",
        type=float,
        default=fitting.DEFAULT_TARGET_PRECISION,
        help=f"precision of 'confident' answers (default: {fitting.DEFAULT_TARGET_PRECISION})",
    )
    parser.set_defaults(handler=run)
