"""``train-local``: train a BlazingText-compatible model on this machine with fastText.

BlazingText's supervised mode is fastText's, and the ``model.bin`` files
cross-load, so the model written here can be served by the embedded backend,
uploaded as a ``model.tar.gz`` to a SageMaker endpoint, and a training job's
``model.bin`` can be evaluated or served here. The hyperparameters are
BlazingText's (``training_jobs.modelling.hyperparameters``), mapped onto fastText's.

Early stopping follows BlazingText's meaning (validation accuracy checked
after each epoch from ``min_epochs`` on; stop after ``patience`` epochs
without improvement) with one difference: fastText cannot resume training,
so the candidate for N epochs is a fresh run of N epochs (its learning rate
decays to zero over those N). The best candidate is kept.

Unless ``--calibration-fraction 0``, the model's post-processing (prior
correction, temperature, top-label map, the keep and set promises, the urgency
map; ``training_jobs.modelling.postprocessing``) is fitted on answers the model
did not train on and written as ``postprocessing.json`` beside ``model.bin``.
When ``prepare`` recorded the lines' projects (``train.txt.projects``) and there
are two or more, those answers are cross-fitted (``training_jobs.modelling.crossfit``:
folds grouped by project, so every promise is measured as an unseen site meets it)
and the model trains on every line; otherwise a stratified share of the lines is
held out of training to fit it, and the report says the promises were measured
on the training projects only.

Outputs in ``--output-dir``: ``model.bin``, ``postprocessing.json``, optionally
``model.ftz`` (quantised), ``scheme.json`` (the priority scheme the labels mean,
from ``--scheme`` or the one ``prepare`` wrote beside the training file; serving
reads it), and ``training.json`` (settings, data, timings, sizes and
validation metrics beside the majority-class baseline, both as
``training_jobs.evaluation.metrics`` computes them for ``evaluate``).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_priority.labels import (
    DEFAULT_SCHEME,
    SCHEME_FILE,
    Level,
    PriorityScheme,
    UnknownLabelError,
    parse_scheme,
    read_scheme_file,
)
from jira_priority.postprocessing import FILE_NAME as POSTPROCESSING_FILE
from jira_priority.postprocessing import PostProcessing
from training_jobs.console import say
from training_jobs.data.manifest import projects_file
from training_jobs.data.prepare import with_default_priority as inferred_default
from training_jobs.data.readers import PreparedExample, file_sha256, read_prepared
from training_jobs.errors import CommandError
from training_jobs.evaluation.metrics import (
    Metrics,
    compute_metrics,
    majority_baseline,
    urgency_table_lines,
    urgency_thresholds,
)
from training_jobs.modelling import crossfit, sampling
from training_jobs.modelling import postprocessing as fitting
from training_jobs.modelling.held_out import MIN_HELD_OUT_LINES
from training_jobs.modelling.hyperparameters import (
    BlazingTextHyperparameters,
)
from training_jobs.modelling.loading import load_fasttext

REPORT_FILE = "training.json"
#: Below this, validation figures are noise: a validation file this short is refused.
MIN_VALIDATION_LINES = MIN_HELD_OUT_LINES
#: Tickets timed one at a time for the latency figure.
LATENCY_SAMPLE = 500


# --- fastText ----------------------------------------------------------------


def _fasttext() -> Any:
    try:
        import fasttext
    except ImportError as exc:
        raise CommandError(
            "the fasttext module is missing: install the training extra "
            "(pip install -e '.[train]', which brings fasttext-community)"
        ) from exc
    if not hasattr(fasttext, "train_supervised"):
        raise CommandError(
            "this fasttext build can only predict (fasttext-predict); training needs "
            "fasttext-community (pip install -e '.[train]')"
        )
    return fasttext


def fasttext_arguments(hp: BlazingTextHyperparameters, epochs: int) -> dict[str, Any]:
    """BlazingText's supervised hyperparameters under fastText's names."""
    return {
        "epoch": epochs,
        "lr": hp.learning_rate,
        "dim": hp.vector_dim,
        "wordNgrams": hp.word_ngrams,
        "minCount": hp.min_count,
        "bucket": hp.buckets,
        "loss": "softmax",
        # BlazingText's supervised mode has no sub-word features.
        "minn": 0,
        "maxn": 0,
    }


def predict_priorities(
    model: Any, texts: Sequence[str], scheme: PriorityScheme = DEFAULT_SCHEME
) -> list[Level]:
    """The top priority for each (already normalised) text."""
    if not texts:
        return []
    labels, _ = model.predict(list(texts), k=1)
    try:
        return [scheme.from_label(str(ranked[0]) if len(ranked) else "") for ranked in labels]
    except UnknownLabelError as exc:
        raise CommandError(f"the model answered an {exc}") from exc


def validation_metrics(
    model: Any,
    validation: Sequence[PreparedExample],
    scheme: PriorityScheme = DEFAULT_SCHEME,
    postprocessing: PostProcessing | None = None,
) -> Metrics:
    """The figures of ``training_jobs.evaluation.metrics`` for the model on the validation lines.

    With ``postprocessing``, the answers are the post-processed ones the service gives.
    """
    texts = [example.text for example in validation]
    if postprocessing is None:
        predicted = predict_priorities(model, texts, scheme)
    else:
        labels = fitting.post_processed_labels(model, texts, postprocessing)
        try:
            predicted = [scheme.from_label(label) for label in labels]
        except UnknownLabelError as exc:
            raise CommandError(f"the model answered an {exc}") from exc
    truth = [example.level(scheme) for example in validation]
    return compute_metrics(truth, [(p,) for p in predicted], scheme)


#: Probability cut-offs reported for rules that act only on confident answers (Jira Automation).
THRESHOLDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def threshold_figures(
    model: Any,
    validation: Sequence[PreparedExample],
    scheme: PriorityScheme = DEFAULT_SCHEME,
    postprocessing: PostProcessing | None = None,
) -> list[dict[str, Any]]:
    """For each threshold: the share of tickets whose top probability reaches it, and how
    often that top priority is right (what a rule that sets it only then would achieve).

    With ``postprocessing``, the answer is the service's (the post-processed top priority)
    and the probability its ``calibrated_probability``; else the model's own top-1."""
    if not validation:
        return []
    texts = [example.text for example in validation]
    if postprocessing is None:
        labels, probabilities = model.predict(texts, k=1)
        predicted = [str(ranked[0]) if len(ranked) else "" for ranked in labels]
        top = [float(p[0]) if len(p) else 0.0 for p in probabilities]
    else:
        answers = fitting.post_processed_answers(model, texts, postprocessing)
        predicted = [answer.ranking[0].label for answer in answers]
        top = [answer.calibrated_probability or 0.0 for answer in answers]
    right = [label == example.label for label, example in zip(predicted, validation, strict=True)]
    figures = []
    for threshold in THRESHOLDS:
        covered = [i for i, p in enumerate(top) if p >= threshold]
        by_priority: dict[str, dict[str, Any]] = {}
        for level in scheme.priorities:
            mine = [i for i in covered if predicted[i] == level.label]
            if mine:
                hits = sum(right[i] for i in mine)
                by_priority[level.value] = {"tickets": len(mine), "precision": hits / len(mine)}
        figures.append(
            {
                "threshold": threshold,
                "tickets": len(covered),
                "coverage": len(covered) / len(validation),
                "precision": sum(right[i] for i in covered) / len(covered) if covered else None,
                "by_priority": by_priority,
            }
        )
    return figures


def training_scheme(option: str | None, train_path: Path) -> PriorityScheme:
    """``--scheme`` if given, else the scheme.json prepare wrote beside the file, else apache."""
    if option:
        return parse_scheme(option)
    beside = train_path.parent / SCHEME_FILE
    return read_scheme_file(beside) if beside.is_file() else DEFAULT_SCHEME


@dataclass
class Candidate:
    epochs: int
    model: Any
    accuracy: float | None
    seconds: float


def train_file(
    path: Path,
    hp: BlazingTextHyperparameters,
    epochs: int,
    *,
    seed: int,
    threads: int,
    verbose: bool = False,
) -> Any:
    """A fastText model trained on the ``__label__N text`` lines of ``path``."""
    try:
        return _fasttext().train_supervised(
            input=str(path),
            seed=seed,
            thread=threads,
            verbose=2 if verbose else 0,
            **fasttext_arguments(hp, epochs),
        )
    except (ValueError, RuntimeError, MemoryError) as exc:
        raise CommandError(f"fastText could not train on {path}: {exc}") from exc


def read_projects(train_path: Path, lines: int) -> list[str] | None:
    """The project of each line of ``train_path`` (prepare's ``train.txt.projects``), if it
    is there and matches the file line for line."""
    path = projects_file(train_path)
    if not path.is_file():
        return None
    try:
        projects = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    if len(projects) != lines:
        say(f"{path} has {len(projects)} lines for {lines} training lines: not using it")
        return None
    return [project.strip() for project in projects]


def with_default_priority(scheme: PriorityScheme, counts: Counter[str]) -> PriorityScheme:
    """The scheme, with the most common training priority as default if it declares none."""
    scheme, inferred = inferred_default(scheme, counts)
    if inferred:
        say(
            f"the {scheme.name} scheme declares no default priority: taking the most common, "
            f"{scheme.default}"
        )
    return scheme


def train_candidates(
    train_path: Path,
    validation: Sequence[PreparedExample],
    hp: BlazingTextHyperparameters,
    *,
    seed: int,
    threads: int,
    verbose: bool,
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> tuple[Candidate, list[dict[str, Any]]]:
    """Train once, or with early stopping one run per epoch count; the best run and the log."""
    schedule: Iterator[int]
    if hp.early_stopping and validation:
        schedule = iter(range(min(hp.min_epochs, hp.epochs), hp.epochs + 1))
    else:
        if hp.early_stopping:
            say("early stopping needs a validation file; training all epochs")
        schedule = iter([hp.epochs])
    best: Candidate | None = None
    log: list[dict[str, Any]] = []
    since_best = 0
    for epochs in schedule:
        started = time.perf_counter()
        model = train_file(train_path, hp, epochs, seed=seed, threads=threads, verbose=verbose)
        seconds = time.perf_counter() - started
        accuracy = validation_metrics(model, validation, scheme).accuracy if validation else None
        candidate = Candidate(epochs, model, accuracy, seconds)
        shown = f"validation accuracy {accuracy:.4f}" if accuracy is not None else "no validation"
        say(f"epochs {epochs}: trained in {seconds:.1f} s, {shown}")
        log.append({"epochs": epochs, "seconds": round(seconds, 2), "accuracy": accuracy})
        if best is None or (accuracy is not None and (best.accuracy or 0.0) < accuracy):
            best, since_best = candidate, 0
        else:
            since_best += 1
            if since_best >= hp.patience:
                say(f"early stopping: no improvement for {hp.patience} epochs")
                break
    assert best is not None  # the schedule is never empty
    return best, log


def measure_serving(model_path: Path, texts: Sequence[str]) -> dict[str, Any]:
    """Load time and one-ticket latency, as the embedded backend will see them."""
    started = time.perf_counter()
    model, _ = load_fasttext(model_path)  # its checks and test prediction, as served
    load_seconds = time.perf_counter() - started
    sample = list(texts[:LATENCY_SAMPLE]) or ["null pointer exception on startup"]
    timings = []
    for text in sample:
        started = time.perf_counter()
        model.predict(text, k=3)
        timings.append(time.perf_counter() - started)
    timings.sort()
    return {
        "bytes": model_path.stat().st_size,
        "megabytes": round(model_path.stat().st_size / 1_000_000, 1),
        "load_seconds": round(load_seconds, 3),
        "latency_ms_median": round(statistics.median(timings) * 1000, 3),
        "latency_ms_p99": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000, 3),
        "latency_sample": len(sample),
    }


# --- the command ---------------------------------------------------------------


def _count_lines(path: Path, scheme: PriorityScheme) -> Counter[str]:
    return Counter(example.label for example in read_prepared(path, scheme))


def train(
    *,
    train_path: Path,
    validation_path: Path | None,
    output_dir: Path,
    hp: BlazingTextHyperparameters,
    seed: int = 42,
    threads: int = 1,
    quantize: bool = False,
    quantize_cutoff: int = 100_000,
    verbose: bool = False,
    min_validation_lines: int = MIN_VALIDATION_LINES,
    calibration_fraction: float = 0.15,
    target_precision: float = fitting.DEFAULT_TARGET_PRECISION,
    scheme_option: str | None = None,
    default_share: float = sampling.DEFAULT_SHARE,
) -> dict[str, Any]:
    """Train, write the outputs, and return the report written to training.json.

    ``default_share``: the share of the default priority's lines the model trains on
    (``training_jobs.modelling.sampling``); post-processing is fitted on every line.

    ``scheme_option`` is --scheme: the labels' priority scheme (default: the
    scheme.json prepare wrote beside ``train_path``, else apache)."""
    if threads < 1:
        raise ValueError("threads must be at least 1")
    if quantize_cutoff < 0:
        raise ValueError("quantize cutoff must be at least 0")
    scheme = training_scheme(scheme_option, train_path)
    train_counts = _count_lines(train_path, scheme)  # also checks every line's label
    if not train_counts:
        raise CommandError(f"{train_path} has no training lines")
    validation = list(read_prepared(validation_path, scheme)) if validation_path else []
    if validation_path and len(validation) < min_validation_lines:
        raise CommandError(
            f"{validation_path} has {len(validation)} validation line(s), fewer than "
            f"{min_validation_lines}: metrics and early stopping on so few would be noise. "
            "Prepare more (prepare --validation-fraction), pass --min-validation-lines, "
            "or --validation '' to train without"
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    scheme = with_default_priority(scheme, train_counts)
    default = scheme.default_level
    default_label = default.label if default is not None else None
    file_counts = train_counts
    examples = list(read_prepared(train_path, scheme))
    trained_on: list[PreparedExample] = examples
    calibration: list[PreparedExample] = []
    lines: list[crossfit.Line] = []
    if calibration_fraction > 0:
        projects = read_projects(train_path, len(examples))
        if projects is not None:
            lines = [
                crossfit.Line(e.label, e.text, project)
                for e, project in zip(examples, projects, strict=True)
            ]
        if not crossfit.can_cross_fit(lines):
            lines = []
            say(
                "the training lines name fewer than two projects (prepare writes "
                "train.txt.projects): post-processing is fitted on a random "
                f"{calibration_fraction:.0%} of them, so its promises are measured on the "
                "projects the model trains on, not on an unseen one"
            )
            trained_on, calibration = fitting.hold_out_for_calibration(
                examples, calibration_fraction, seed
            )
    trained_on = sampling.thin_default(trained_on, default_label, default_share, seed)
    train_counts = Counter(example.label for example in trained_on)
    thinned_share = ""
    if default is not None and len(trained_on) < len(examples) - len(calibration):
        thinned_share = f", {default_share:.0%} of the {default.value} ones"
    say(
        f"training on {len(trained_on)} lines of {train_path}{thinned_share}"
        + (f" ({len(calibration)} held out to calibrate)" if calibration else "")
        + (f", validating on {len(validation)} of {validation_path}" if validation_path else "")
    )
    fit_path = train_path
    if len(trained_on) != len(examples):
        fit_path = crossfit.write_lines(output_dir / "train-fitted.txt", trained_on)
    started = time.perf_counter()
    try:
        best, log = train_candidates(
            fit_path,
            validation,
            hp,
            seed=seed,
            threads=threads,
            verbose=verbose,
            scheme=scheme,
        )
    finally:
        if fit_path != train_path:
            fit_path.unlink(missing_ok=True)
    training_seconds = time.perf_counter() - started
    postprocessing_path = output_dir / POSTPROCESSING_FILE
    postprocessing: PostProcessing | None = None
    calibration_report: dict[str, Any] | None = None
    if calibration or lines:
        labels = [str(label) for label in best.model.get_labels()]
        fitted_default = default_label if default_label in labels else None
        if lines:
            say(f"cross-fitting the post-processing ({crossfit.DEFAULT_FOLDS} folds by project)")
            thinned = output_dir / "train-fold.txt"

            def train_fold(fold: Sequence[crossfit.Line]) -> Any:
                kept = sampling.thin_default(fold, default_label, default_share, seed)
                try:
                    return train_file(
                        crossfit.write_lines(thinned, kept),
                        hp,
                        best.epochs,
                        seed=seed,
                        threads=threads,
                    )
                finally:
                    thinned.unlink(missing_ok=True)

            crossfitted = crossfit.cross_fit(lines, labels, train_fold)
            fitted = fitting.fit(
                crossfitted.probabilities,
                [line.label for line in lines],
                labels,
                train_counts,
                target_precision=target_precision,
                default_label=fitted_default,
                groups=[line.project for line in lines],
            )
            how = crossfitted.describe()
        else:
            fitted = fitting.fit(
                fitting.probability_matrix(best.model, [e.text for e in calibration], labels),
                [example.label for example in calibration],
                labels,
                train_counts,
                target_precision=target_precision,
                default_label=fitted_default,
            )
            how = {
                "method": "held-out",
                "fraction": calibration_fraction,
                "note": "a random share of the training lines (one project, or no "
                "train.txt.projects): the promises hold for the projects the model trained on",
            }
        postprocessing = fitted.postprocessing
        calibration_report = {"how": how, **fitted.report}
        partial_pp = output_dir / (POSTPROCESSING_FILE + ".part")
        partial_pp.write_text(
            postprocessing.to_json({"fitted_on": calibration_report}),
            encoding="utf-8",
        )
        partial_pp.replace(postprocessing_path)
        say(
            f"wrote {postprocessing_path}: prior weight {postprocessing.prior_weight}, "
            f"temperature {postprocessing.temperature}, "
            f"top-label map of {fitted.report['top_label_knots']} knots"
        )
        for line in promise_lines(fitted.report, target_precision):
            say(line)
    elif postprocessing_path.exists():
        postprocessing_path.unlink()  # an old file would not match this model.bin
    model_path = output_dir / "model.bin"
    partial = output_dir / "model.bin.part"
    best.model.save_model(str(partial))
    partial.replace(model_path)
    scheme.write(output_dir)  # the embedded backend and evaluate read the names from here
    say(f"wrote {model_path} ({model_path.stat().st_size / 1e6:.1f} MB), {scheme.name} scheme")

    texts = [example.text for example in validation]
    models: dict[str, Any] = {"model.bin": measure_serving(model_path, texts)}
    evaluation: dict[str, Any] = {}
    if validation:
        evaluation["model.bin"] = validation_metrics(
            best.model, validation, scheme, postprocessing
        ).as_dict()
        evaluation["majority_baseline"] = majority_baseline(
            [example.level(scheme) for example in validation], scheme
        ).as_dict()
        evaluation["thresholds"] = threshold_figures(best.model, validation, scheme, postprocessing)
        if postprocessing is not None and postprocessing.default_label is not None:
            answers = fitting.post_processed_answers(
                best.model, [e.text for e in validation], postprocessing
            )
            rank = scheme.from_label(postprocessing.default_label).rank
            evaluation["urgency_thresholds"] = urgency_thresholds(
                [a.urgency or 0.0 for a in answers],
                [e.level(scheme).rank > rank for e in validation],
            )

    quantised_path = output_dir / "model.ftz"
    if quantize:
        started = time.perf_counter()
        # retrain on what the model trained on (not the calibration rows, not thinned lines)
        quantize_path = crossfit.write_lines(output_dir / "train-quantize.txt", trained_on)
        try:
            best.model.quantize(
                input=str(quantize_path),
                qnorm=True,
                retrain=True,
                cutoff=quantize_cutoff,
                thread=threads,
                verbose=2 if verbose else 0,
            )
        except (ValueError, RuntimeError) as exc:
            raise CommandError(f"fastText could not quantise the model: {exc}") from exc
        finally:
            quantize_path.unlink(missing_ok=True)
        best.model.save_model(str(quantised_path))
        say(
            f"wrote {quantised_path} ({quantised_path.stat().st_size / 1e6:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        models["model.ftz"] = measure_serving(quantised_path, texts)
        if validation:
            evaluation["model.ftz"] = validation_metrics(
                best.model, validation, scheme, postprocessing
            ).as_dict()
    elif quantised_path.exists():
        quantised_path.unlink()  # an old .ftz would not match this model.bin

    report: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "hyperparameters": hp.as_dict(),
        "sagemaker_hyperparameters": hp.as_sagemaker(),
        "fasttext_arguments": fasttext_arguments(hp, best.epochs),
        "seed": seed,
        "threads": threads,
        "scheme": scheme.as_dict(),
        "data": {
            "train": {
                "path": str(train_path),
                "sha256": file_sha256(train_path),
                "lines": sum(file_counts.values()),
                "labels": dict(sorted(file_counts.items())),
                "trained_on": sum(train_counts.values()),
                "default_share": default_share,
                "held_out_to_calibrate": len(calibration),
            },
            "validation": (
                {
                    "path": str(validation_path),
                    "sha256": file_sha256(validation_path),
                    "lines": len(validation),
                }
                if validation_path
                else None
            ),
        },
        "calibration": (
            {"fraction": calibration_fraction, **calibration_report} if calibration_report else None
        ),
        "postprocessing": postprocessing.as_dict() if postprocessing else None,
        "epochs_trained": best.epochs,
        "candidates": log,
        "training_seconds": round(training_seconds, 2),
        "models": models,
        "validation": evaluation,
    }
    (output_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def promise_lines(report: dict[str, Any], target_precision: float) -> list[str]:
    """What the fitted promises are, in words: made (threshold, precision, coverage, the
    weakest project) or not made, and why."""
    lines = []
    for kind, meaning in (("keep", "keep the default"), ("set", "set another priority")):
        promise = report.get(f"promise_{kind}")
        if promise is None:
            continue
        spread = promise.get("spread") or {}
        weakest = spread.get("precision_min")
        if promise["made"]:
            lines.append(
                f"{kind} ({meaning}): confident from {promise['threshold']:.3f}, right "
                f"{promise['precision']:.1%} on {promise['coverage']:.1%} of the tickets"
                + (
                    f"; weakest project {weakest:.1%} ({spread['projects_counted']} counted)"
                    if weakest is not None
                    else ""
                )
            )
        else:
            lines.append(
                f"{kind} ({meaning}): NO PROMISE: no threshold keeps {target_precision:.0%} "
                f"precision on these answers ({promise['answers_of_this_kind']} of them)"
                + (" in every project" if spread else "")
                + f"; they are never confident, so action is never '{kind}'"
            )
    urgency = report.get("urgency")
    if urgency:
        lines.append(
            f"urgency: calibrated (ECE {urgency['ece_before']:.3f} -> {urgency['ece_after']:.3f}); "
            f"{urgency['share_above_default']:.1%} of the tickets are above the default"
        )
    return lines


def print_summary(report: dict[str, Any], output_dir: Path) -> None:
    print(
        f"trained {report['epochs_trained']} epochs in {report['training_seconds']:.1f} s "
        f"-> {output_dir}"
    )
    for name, info in report["models"].items():
        print(
            f"  {name}: {info['megabytes']} MB, loads in {info['load_seconds']:.3f} s, "
            f"{info['latency_ms_median']:.3f} ms per ticket (median)"
        )
    evaluation = report["validation"]
    if evaluation:
        for name in ("model.bin", "model.ftz", "majority_baseline"):
            if name in evaluation:
                m = evaluation[name]
                print(
                    f"  validation {name}: accuracy {m['accuracy']:.4f}, "
                    f"macro-F1 {m['macro_f1']:.4f}"
                )
        probability = "calibrated probability" if report.get("postprocessing") else "probability"
        for row in evaluation.get("thresholds", []):
            if row["precision"] is not None:
                print(
                    f"  top {probability} >= {row['threshold']}: {row['coverage']:.1%} of "
                    f"tickets, right {row['precision']:.1%} of the time"
                )
    if evaluation.get("urgency_thresholds"):
        print("  urgency on the validation lines (a label such as likely-urgent at a threshold):")
        for line in urgency_table_lines(evaluation["urgency_thresholds"]):
            print(f"    {line}")
    print(f"  report: {output_dir / REPORT_FILE}")
