"""Recipes side by side on the shared data: within the split and on unseen projects.

Every recipe is trained and scored the same way:

* **within**: the 80/20 stratified split ``prepare`` makes (seed 42), trained
  on the 80 %, scored on the 20 %;
* **leave one project out (LOPO)**: for each project, trained on all the
  others' tickets and scored on that project's.

Each fastText recipe runs once per seed (training seed and, with
post-processing, the seed of the 15 % of training rows held out to fit it).
Post-processing is only ever fitted on those held-out training rows, never on
the scored tickets. The TF-IDF + class-balanced logistic regression reference
and the majority baseline are deterministic and run once per evaluation.

Figures per run: macro-F1, balanced accuracy, accuracy, Critical and Blocker
recall, ECE of the top-1 answer (10 bins; the answer's calibrated confidence
where there is post-processing, else the model's own probability), precision
and coverage of the confidence flag, model size and training time (post-processing fit included).
"""

from __future__ import annotations

import io
import pickle
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jira_priority.labels import Priority, priority_from_label
from training_jobs.data.prepare import Example, PrepareOptions, collect
from training_jobs.evaluation.calibration import expected_calibration_error
from training_jobs.evaluation.metrics import compute_metrics
from training_jobs.modelling import postprocessing as fitting
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters

#: The share of training rows held out to fit post-processing (as train-local does).
CALIBRATION_FRACTION = 0.15
DEFAULT_SEEDS = (1, 2, 3)


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    kind: str  # "fasttext", "tfidf-lr" or "majority"
    hyperparameters: BlazingTextHyperparameters | None = None
    postprocess: bool = False
    #: At most this many of the seeds (the slowest recipe, far behind: one seed saves minutes).
    max_seeds: int | None = None


RECIPES: tuple[Recipe, ...] = (
    Recipe("majority", "always the most frequent training priority", "majority"),
    Recipe(
        "tutorial",
        "the tutorial's BlazingText settings: lr 0.05, dim 10, word bigrams, 10 epochs, "
        "2M buckets (early stopping off: its validation channel would be the test data); "
        "first seed only, to keep `make compare` under 20 minutes",
        "fasttext",
        BlazingTextHyperparameters(
            epochs=10, learning_rate=0.05, vector_dim=10, word_ngrams=2, buckets=2_000_000
        ),
        max_seeds=1,
    ),
    Recipe(
        "previous-default",
        "the default before this change: lr 0.5, dim 32, word bigrams, 10 epochs, "
        "100k buckets, no post-processing",
        "fasttext",
        BlazingTextHyperparameters(
            epochs=10, learning_rate=0.5, vector_dim=32, word_ngrams=2, buckets=100_000
        ),
    ),
    Recipe(
        "best",
        "today's default: lr 0.2, dim 32, word unigrams, 5 epochs, + post-processing "
        "(prior correction, temperature, top-label map, confidence) fitted on 15 % of the training "
        "rows",
        "fasttext",
        BlazingTextHyperparameters(),
        postprocess=True,
    ),
    Recipe(
        "tfidf-lr",
        "reference, not served: TF-IDF of word 1-2 grams (min_df 2, sublinear) + "
        "class-balanced logistic regression (scikit-learn, lbfgs, 100 iterations, tol 1e-3)",
        "tfidf-lr",
    ),
)


@dataclass
class Run:
    """One recipe, one evaluation (within or a held-out project), one seed."""

    recipe: str
    evaluation: str
    seed: int | None
    tickets: int
    macro_f1: float
    balanced_accuracy: float
    accuracy: float
    critical_recall: float | None
    blocker_recall: float | None
    ece: float
    confident_precision: float | None
    confident_coverage: float | None
    model_bytes: int
    training_seconds: float
    #: Top-1 confidence and correctness of each ticket, for reliability plots (not in JSON).
    confidence: list[float] = field(default_factory=list, repr=False)
    correct: list[bool] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("confidence", "correct")
        }


@dataclass(frozen=True)
class Answers:
    """What a trained recipe answered for the scored tickets."""

    labels: list[str]
    confidence: list[float]
    confident: list[bool] | None
    model_bytes: int
    training_seconds: float


def _fasttext_answers(
    recipe: Recipe,
    train: Sequence[Example],
    test: Sequence[Example],
    seed: int,
    threads: int,
    workdir: Path,
) -> Answers:
    import fasttext

    from training_jobs.modelling.train_local import fasttext_arguments

    assert recipe.hyperparameters is not None
    started = time.perf_counter()
    calibration: list[Example] = []
    fit_rows: Sequence[Example] = train
    if recipe.postprocess:
        fit_rows, calibration = fitting.hold_out_for_calibration(train, CALIBRATION_FRACTION, seed)
    train_file = workdir / "train.txt"
    train_file.write_text("".join(f"{e.label} {e.text}\n" for e in fit_rows), encoding="utf-8")
    hp = recipe.hyperparameters
    model = fasttext.train_supervised(
        input=str(train_file),
        seed=seed,
        thread=threads,
        verbose=0,
        **fasttext_arguments(hp, hp.epochs),
    )
    labels = [str(label) for label in model.get_labels()]
    postprocessing = None
    if calibration:
        postprocessing = fitting.fit(
            fitting.probability_matrix(model, [e.text for e in calibration], labels),
            [e.label for e in calibration],
            labels,
            Counter(e.label for e in fit_rows),
        ).postprocessing
    seconds = time.perf_counter() - started
    model_file = workdir / "model.bin"
    model.save_model(str(model_file))
    size = model_file.stat().st_size
    matrix = fitting.probability_matrix(model, [e.text for e in test], labels)
    if postprocessing is None:
        best = matrix.argmax(axis=1)
        return Answers([labels[i] for i in best], matrix.max(axis=1).tolist(), None, size, seconds)
    chosen, confidence, confident = [], [], []
    for row in matrix:
        answer = postprocessing.apply(list(zip(labels, row.tolist(), strict=True)), k=1)
        chosen.append(answer.ranking[0].label)
        confidence.append(float(answer.calibrated_probability or 0.0))
        confident.append(bool(answer.confident))
    return Answers(chosen, confidence, confident, size, seconds)


def _tfidf_answers(train: Sequence[Example], test: Sequence[Example]) -> Answers:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    started = time.perf_counter()
    pipeline = make_pipeline(
        TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            token_pattern=r"\S+",  # noqa: S106 - the text is already normalised tokens
            dtype=np.float32,
        ),
        LogisticRegression(class_weight="balanced", max_iter=100, tol=1e-3),
    )
    pipeline.fit([e.text for e in train], [e.label for e in train])
    seconds = time.perf_counter() - started
    probabilities = pipeline.predict_proba([e.text for e in test])
    classes = [str(c) for c in pipeline.classes_]
    best = probabilities.argmax(axis=1)
    buffer = io.BytesIO()
    pickle.dump(pipeline, buffer)
    return Answers(
        [classes[i] for i in best],
        probabilities.max(axis=1).tolist(),
        None,
        len(buffer.getvalue()),
        seconds,
    )


def _majority_answers(train: Sequence[Example], test: Sequence[Example]) -> Answers:
    label = Counter(e.label for e in train).most_common(1)[0][0]
    share = sum(e.label == label for e in train) / len(train)
    return Answers([label] * len(test), [share] * len(test), None, 0, 0.0)


def score(
    recipe: Recipe, evaluation: str, seed: int | None, test: Sequence[Example], answers: Answers
) -> Run:
    truth = [priority_from_label(e.label) for e in test]
    predicted = [priority_from_label(label) for label in answers.labels]
    metrics = compute_metrics(truth, [(p,) for p in predicted])
    recall = {c.priority: c.recall for c in metrics.per_class}
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    precision = coverage = None
    if answers.confident is not None:
        flagged = [c for c, f in zip(correct, answers.confident, strict=True) if f]
        coverage = len(flagged) / len(correct)
        precision = sum(flagged) / len(flagged) if flagged else None
    return Run(
        recipe=recipe.name,
        evaluation=evaluation,
        seed=seed,
        tickets=len(test),
        macro_f1=metrics.macro_f1,
        balanced_accuracy=metrics.balanced_accuracy,
        accuracy=metrics.accuracy,
        critical_recall=recall[Priority.CRITICAL],
        blocker_recall=recall[Priority.BLOCKER],
        ece=expected_calibration_error(answers.confidence, correct),
        confident_precision=precision,
        confident_coverage=coverage,
        model_bytes=answers.model_bytes,
        training_seconds=answers.training_seconds,
        confidence=list(answers.confidence),
        correct=correct,
    )


def evaluations(data: Path) -> tuple[list[tuple[str, list[Example], list[Example]]], list[str]]:
    """("within", train, test) then one ("lopo:PROJECT", train, test) per project."""
    result = collect([data], PrepareOptions())
    everything = result.train + result.validation
    projects = sorted({e.project for e in everything})
    folds = [("within", result.train, result.validation)]
    for project in projects:
        train = [e for e in everything if e.project != project]
        test = [e for e in everything if e.project == project]
        folds.append((f"lopo:{project}", train, test))
    return folds, projects


def run_all(
    data: Path,
    recipes: Sequence[Recipe] = RECIPES,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    threads: int = 2,
    progress: Callable[[str], None] = lambda message: None,
) -> list[Run]:
    folds, _ = evaluations(data)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="jira-priority-compare-") as tmp:
        workdir = Path(tmp)
        for evaluation, train, test in folds:
            for recipe in recipes:
                if recipe.kind == "fasttext":
                    for seed in seeds[: recipe.max_seeds]:
                        answers = _fasttext_answers(recipe, train, test, seed, threads, workdir)
                        runs.append(score(recipe, evaluation, seed, test, answers))
                elif recipe.kind == "tfidf-lr":
                    runs.append(score(recipe, evaluation, None, test, _tfidf_answers(train, test)))
                else:
                    runs.append(
                        score(recipe, evaluation, None, test, _majority_answers(train, test))
                    )
                last = runs[-1]
                progress(
                    f"{evaluation:>14} {recipe.name:<17} macro-F1 {last.macro_f1:.3f} "
                    f"ECE {last.ece:.3f} ({last.training_seconds:.1f} s)"
                )
    return runs


# --- the summary table ---------------------------------------------------------------


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def summarise(runs: Sequence[Run]) -> dict[str, dict[str, dict[str, Any]]]:
    """recipe -> "within" / "lopo" -> mean figures (LOPO: mean over projects of seed means)."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    names = ("macro_f1", "balanced_accuracy", "accuracy", "critical_recall", "blocker_recall",
             "ece", "confident_precision", "confident_coverage")  # fmt: skip
    for recipe in dict.fromkeys(run.recipe for run in runs):
        mine = [run for run in runs if run.recipe == recipe]
        within = [run for run in mine if run.evaluation == "within"]
        lopo = [run for run in mine if run.evaluation.startswith("lopo:")]
        entry: dict[str, dict[str, Any]] = {}
        for scope, chosen in (("within", within), ("lopo", lopo)):
            if not chosen:
                continue
            by_seed: dict[int | None, list[Run]] = {}
            for run in chosen:
                by_seed.setdefault(run.seed, []).append(run)
            figures: dict[str, Any] = {}
            for name in names:
                # per seed: the mean over the evaluations (one within, ten LOPO folds)
                per_seed = [_mean([getattr(r, name) for r in group]) for group in by_seed.values()]
                figures[name] = _mean(per_seed)
                spread = [v for v in per_seed if v is not None]
                figures[f"{name}_seed_range"] = [min(spread), max(spread)] if spread else None
            figures["model_bytes"] = max(run.model_bytes for run in chosen)
            figures["training_seconds"] = statistics.fmean(r.training_seconds for r in chosen)
            figures["runs"] = len(chosen)
            entry[scope] = figures
        summary[recipe] = entry
    return summary


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def markdown_table(summary: dict[str, dict[str, dict[str, Any]]]) -> str:
    header = (
        "| recipe | split macro-F1 | LOPO macro-F1 | split bal. acc. | LOPO bal. acc. "
        "| split acc. | LOPO acc. | split Critical / Blocker recall "
        "| LOPO Critical / Blocker recall | split ECE | LOPO ECE | model size | training time |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for recipe, entry in summary.items():
        w, lo = entry.get("within", {}), entry.get("lopo", {})

        def f1(scope: dict[str, Any]) -> str:
            value = _f(scope.get("macro_f1"))
            spread = scope.get("macro_f1_seed_range")
            if spread and spread[1] - spread[0] > 0:
                value += f" ({spread[0]:.3f}-{spread[1]:.3f})"
            return value

        size = max(w.get("model_bytes", 0), lo.get("model_bytes", 0))
        rows.append(
            f"| {recipe} | {f1(w)} | {f1(lo)} "
            f"| {_f(w.get('balanced_accuracy'))} | {_f(lo.get('balanced_accuracy'))} "
            f"| {_f(w.get('accuracy'))} | {_f(lo.get('accuracy'))} "
            f"| {_f(w.get('critical_recall'))} / {_f(w.get('blocker_recall'))} "
            f"| {_f(lo.get('critical_recall'))} / {_f(lo.get('blocker_recall'))} "
            f"| {_f(w.get('ece'))} | {_f(lo.get('ece'))} "
            f"| {size / 1e6:.1f} MB | {_f(w.get('training_seconds'), 1)} s |"
        )
    return header + "\n".join(rows) + "\n"


def confidence_table(summary: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = ["| recipe | split: precision / coverage | LOPO: precision / coverage |",
             "|---|---|---|"]  # fmt: skip
    for recipe, entry in summary.items():
        w, lo = entry.get("within", {}), entry.get("lopo", {})
        if w.get("confident_coverage") is None:
            continue
        lines.append(
            f"| {recipe} | {_f(w.get('confident_precision'))} / {_f(w.get('confident_coverage'))} "
            f"| {_f(lo.get('confident_precision'))} / {_f(lo.get('confident_coverage'))} |"
        )
    return "\n".join(lines) + "\n"


def per_project_table(runs: Sequence[dict[str, Any]], recipes: Sequence[str]) -> str:
    """LOPO macro-F1 (and ECE of the first recipe) per held-out project, mean over seeds.

    Takes the runs as ``compare.json`` stores them, so the table can be re-made from the file.
    """
    projects = sorted(
        {r["evaluation"].split(":", 1)[1] for r in runs if r["evaluation"].startswith("lopo:")}
    )
    header = "| held out | tickets | " + " | ".join(f"{name} macro-F1" for name in recipes)
    header += f" | {recipes[0]} ECE |\n|---|---:|" + "---:|" * (len(recipes) + 1) + "\n"
    rows = []
    for project in projects:
        mine = [r for r in runs if r["evaluation"] == f"lopo:{project}"]
        cells = []
        for name in recipes:
            cells.append(_f(_mean([r["macro_f1"] for r in mine if r["recipe"] == name])))
        ece = _f(_mean([r["ece"] for r in mine if r["recipe"] == recipes[0]]))
        rows.append(f"| {project} | {mine[0]['tickets']} | {' | '.join(cells)} | {ece} |")
    return header + "\n".join(rows) + "\n"
