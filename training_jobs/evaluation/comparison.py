"""Recipes side by side on the shared data: within the split and on unseen projects.

Every recipe is trained and scored the same way:

* **within**: the 80/20 stratified split ``prepare`` makes (seed 42), trained
  on the 80 %, scored on the 20 %;
* **leave one project out (LOPO)**: for each project, trained on all the
  others' tickets and scored on that project's.

Each fastText recipe runs once per seed. Post-processing is fitted as
``train-local`` fits it: cross-fitted on the training rows with folds grouped
by project (``training_jobs.modelling.crossfit``), or, for the recipe that
shows the old way, on a random 15 % of the training rows held out of training;
never on the scored tickets. The TF-IDF + class-balanced logistic regression
reference and the majority baseline are deterministic and run once per
evaluation.

Figures per run: macro-F1, balanced accuracy, accuracy, Critical and Blocker
recall, ECE of the top-1 answer (10 bins; the answer's calibrated confidence
where there is post-processing, else the model's own probability), precision
and coverage of the confidence flag and of the ``set`` and ``keep`` actions,
urgency (the probability of a priority above the default, Major) ROC AUC,
average precision and ECE, model size and training time (post-processing fit
included). On a held-out project, also **the site's own promise**: the
post-processing refitted (as ``calibrate --data`` does) on the older half of the
project's tickets (by key number), its confident and set answers scored on the
newer half.
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

from jira_priority.labels import APACHE, Priority, priority_from_label
from jira_priority.postprocessing import PostProcessing, label_rank
from training_jobs.data.prepare import Example, PrepareOptions, collect
from training_jobs.evaluation.calibration import expected_calibration_error
from training_jobs.evaluation.metrics import compute_metrics
from training_jobs.modelling import crossfit, sampling
from training_jobs.modelling import postprocessing as fitting
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters

#: The share of training rows held out to fit post-processing the old way.
CALIBRATION_FRACTION = 0.15
DEFAULT_SEEDS = (1, 2, 3)
#: The default priority's label (Major): urgency is the chance of a priority above it.
DEFAULT_LABEL = APACHE.default_level.label if APACHE.default_level else "__label__4"
#: A fold's promise counts when its confident (or set) answers cover this share of tickets.
MIN_FOLD_COVERAGE = 0.05
#: How far below the promise a counted fold may fall (the goal's tolerance).
FOLD_TOLERANCE = 0.05


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    kind: str  # "fasttext", "tfidf-lr" or "majority"
    hyperparameters: BlazingTextHyperparameters | None = None
    postprocess: bool = False
    #: Post-processing cross-fitted with folds grouped by project (else a random hold-out).
    cross_fitted: bool = True
    #: The share of the default priority's lines trained on (training_jobs.modelling.sampling).
    default_share: float = 1.0
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
        "random-holdout",
        "the default before the triage answers: lr 0.2, dim 32, word unigrams, 5 epochs, all "
        "Major lines, + post-processing fitted on a random 15 % of the training rows",
        "fasttext",
        BlazingTextHyperparameters(),
        postprocess=True,
        cross_fitted=False,
    ),
    Recipe(
        "best",
        "today's default: lr 0.2, dim 32, word unigrams, 5 epochs, every Major line, + "
        "post-processing (prior correction, temperature, top-label map, keep and set "
        "promises, urgency) cross-fitted by project (5 folds)",
        "fasttext",
        BlazingTextHyperparameters(),
        postprocess=True,
    ),
    Recipe(
        "thin-major",
        "the best recipe trained on 30 % of the Major lines (every other line once; "
        "train-local --default-share 0.3)",
        "fasttext",
        BlazingTextHyperparameters(),
        postprocess=True,
        default_share=0.3,
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
    #: Urgency: ranking and calibration of "the priority is above the default".
    urgency_auc: float | None = None
    urgency_ap: float | None = None
    urgency_ece: float | None = None
    #: The actions a Jira rule takes: how often right, and what share of tickets.
    set_precision: float | None = None
    set_coverage: float | None = None
    keep_precision: float | None = None
    keep_coverage: float | None = None
    #: The site's own promise (held-out projects): fitted on the older half, scored on the newer.
    own_confident_precision: float | None = None
    own_confident_coverage: float | None = None
    own_set_precision: float | None = None
    own_set_coverage: float | None = None
    own_ece: float | None = None
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
    #: The probability of a priority above the default (calibrated with post-processing).
    urgency: list[float] = field(default_factory=list)
    actions: list[str] | None = None


@dataclass(frozen=True)
class Trained:
    """A fastText recipe's model, its labels, training counts and post-processing."""

    model: Any
    labels: list[str]
    counts: Counter[str]
    postprocessing: PostProcessing | None
    model_bytes: int
    seconds: float


def _train_fasttext(
    recipe: Recipe,
    train: Sequence[Example],
    seed: int,
    threads: int,
    workdir: Path,
    target_precision: float,
) -> Trained:
    from training_jobs.modelling.train_local import train_file

    hp = recipe.hyperparameters
    assert hp is not None
    started = time.perf_counter()
    lines = [crossfit.Line(e.label, e.text, e.project) for e in train]
    cross_fit = recipe.postprocess and recipe.cross_fitted and crossfit.can_cross_fit(lines)
    calibration: list[Example] = []
    fit_rows: Sequence[Example] = train
    if recipe.postprocess and not cross_fit:
        fit_rows, calibration = fitting.hold_out_for_calibration(train, CALIBRATION_FRACTION, seed)
    fit_rows = sampling.thin_default(fit_rows, DEFAULT_LABEL, recipe.default_share, seed)
    train_path = workdir / "train.txt"

    def trainer(rows: Sequence[crossfit.Labelled]) -> Any:
        kept = sampling.thin_default(rows, DEFAULT_LABEL, recipe.default_share, seed)
        return train_file(crossfit.write_lines(train_path, kept), hp, hp.epochs, seed=seed,
                          threads=threads)  # fmt: skip

    model = train_file(crossfit.write_lines(train_path, fit_rows), hp, hp.epochs, seed=seed,
                       threads=threads)  # fmt: skip
    labels = [str(label) for label in model.get_labels()]
    counts = Counter(e.label for e in fit_rows)
    default = DEFAULT_LABEL if DEFAULT_LABEL in labels else None
    postprocessing = None
    if cross_fit:
        fitted = crossfit.cross_fit(lines, labels, trainer)
        postprocessing = fitting.fit(
            fitted.probabilities, [e.label for e in train], labels, counts,
            target_precision, default, groups=[e.project for e in train],
        ).postprocessing  # fmt: skip
    elif calibration:
        postprocessing = fitting.fit(
            fitting.probability_matrix(model, [e.text for e in calibration], labels),
            [e.label for e in calibration], labels, counts, target_precision, default,
        ).postprocessing  # fmt: skip
    seconds = time.perf_counter() - started
    model_file = workdir / "model.bin"
    model.save_model(str(model_file))
    return Trained(model, labels, counts, postprocessing, model_file.stat().st_size, seconds)


def _above_default(labels: Sequence[str], matrix: Any) -> list[float]:
    """Each row's probability of a label above the default (``labels`` order)."""
    columns = [i for i, label in enumerate(labels) if label_rank(label) > label_rank(DEFAULT_LABEL)]
    return [float(v) for v in matrix[:, columns].sum(axis=1)] if columns else [0.0] * len(matrix)


def _fasttext_answers(
    trained: Trained, test: Sequence[Example], postprocessing: PostProcessing | None
) -> Answers:
    labels = trained.labels
    matrix = fitting.probability_matrix(trained.model, [e.text for e in test], labels)
    if postprocessing is None:
        best = matrix.argmax(axis=1)
        return Answers(
            [labels[i] for i in best],
            matrix.max(axis=1).tolist(),
            None,
            trained.model_bytes,
            trained.seconds,
            urgency=_above_default(labels, matrix),
        )
    answers = [
        postprocessing.apply(list(zip(labels, row.tolist(), strict=True)), k=1) for row in matrix
    ]
    return Answers(
        [answer.ranking[0].label for answer in answers],
        [float(answer.calibrated_probability or 0.0) for answer in answers],
        [bool(answer.confident) for answer in answers],
        trained.model_bytes,
        trained.seconds,
        urgency=[float(answer.urgency or 0.0) for answer in answers],
        actions=[answer.action or "triage" for answer in answers],
    )


def older_and_newer(test: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """A project's tickets in creation order (their keys' numbers), split in halves."""

    def number(example: Example) -> int:
        tail = example.key.rpartition("-")[2]
        return int(tail) if tail.isdigit() else -1

    ordered = sorted(test, key=number)  # stable: file order where keys say nothing
    half = len(ordered) // 2
    return ordered[:half], ordered[half:]


def site_own_promise(
    trained: Trained, test: Sequence[Example], target_precision: float
) -> dict[str, float | None]:
    """Post-processing refitted on the project's older half (as ``calibrate --data`` does),
    its confident and set answers scored on the newer half."""
    older, newer = older_and_newer(test)
    default = DEFAULT_LABEL if DEFAULT_LABEL in trained.labels else None
    labels_seen = {e.label for e in older}
    if len(older) < fitting.MIN_CONFIDENT or len(labels_seen) < 2:
        return {}
    known = [e for e in older if e.label in trained.labels]
    refitted = fitting.fit(
        fitting.probability_matrix(trained.model, [e.text for e in known], trained.labels),
        [e.label for e in known], trained.labels, trained.counts, target_precision, default,
    ).postprocessing  # fmt: skip
    answers = _fasttext_answers(trained, newer, refitted)
    correct = [a == e.label for a, e in zip(answers.labels, newer, strict=True)]
    confident = answers.confident or []
    actions = answers.actions or []
    precision, coverage = _share_right(correct, confident)
    set_precision, set_coverage = _share_right(correct, [a == "set" for a in actions])
    return {
        "own_confident_precision": precision,
        "own_confident_coverage": coverage,
        "own_set_precision": set_precision,
        "own_set_coverage": set_coverage,
        "own_ece": expected_calibration_error(answers.confidence, correct),
    }


def _share_right(correct: Sequence[bool], flagged: Sequence[bool]) -> tuple[float | None, float]:
    """(precision of the flagged answers or None, the share flagged)."""
    chosen = [c for c, f in zip(correct, flagged, strict=True) if f]
    coverage = len(chosen) / len(correct) if correct else 0.0
    return (sum(chosen) / len(chosen) if chosen else None), coverage


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
        urgency=_above_default(classes, probabilities),
    )


def _majority_answers(train: Sequence[Example], test: Sequence[Example]) -> Answers:
    label = Counter(e.label for e in train).most_common(1)[0][0]
    share = sum(e.label == label for e in train) / len(train)
    above = sum(label_rank(e.label) > label_rank(DEFAULT_LABEL) for e in train) / len(train)
    return Answers([label] * len(test), [share] * len(test), None, 0, 0.0, [above] * len(test))


def score(
    recipe: Recipe, evaluation: str, seed: int | None, test: Sequence[Example], answers: Answers
) -> Run:
    from sklearn.metrics import average_precision_score, roc_auc_score

    truth = [priority_from_label(e.label) for e in test]
    predicted = [priority_from_label(label) for label in answers.labels]
    metrics = compute_metrics(truth, [(p,) for p in predicted])
    recall = {c.priority: c.recall for c in metrics.per_class}
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    precision = coverage = None
    if answers.confident is not None:
        precision, coverage = _share_right(correct, answers.confident)
    actions: dict[str, tuple[float | None, float | None]] = {"set": (None, None)}
    actions["keep"] = (None, None)
    if answers.actions is not None:
        for kind in ("set", "keep"):
            actions[kind] = _share_right(correct, [a == kind for a in answers.actions])
    above = [label_rank(e.label) > label_rank(DEFAULT_LABEL) for e in test]
    auc = ap = urgency_ece = None
    if answers.urgency:
        urgency_ece = expected_calibration_error(answers.urgency, above)
        if any(above) and not all(above):
            auc = float(roc_auc_score(above, answers.urgency))
            ap = float(average_precision_score(above, answers.urgency))
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
        urgency_auc=auc,
        urgency_ap=ap,
        urgency_ece=urgency_ece,
        set_precision=actions["set"][0],
        set_coverage=actions["set"][1],
        keep_precision=actions["keep"][0],
        keep_coverage=actions["keep"][1],
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
    target_precision: float = fitting.DEFAULT_TARGET_PRECISION,
) -> list[Run]:
    folds, _ = evaluations(data)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="jira-priority-compare-") as tmp:
        workdir = Path(tmp)
        for evaluation, train, test in folds:
            for recipe in recipes:
                if recipe.kind == "fasttext":
                    for seed in seeds[: recipe.max_seeds]:
                        trained = _train_fasttext(
                            recipe, train, seed, threads, workdir, target_precision
                        )
                        run = score(
                            recipe,
                            evaluation,
                            seed,
                            test,
                            _fasttext_answers(trained, test, trained.postprocessing),
                        )
                        if trained.postprocessing is not None and evaluation != "within":
                            for name, value in site_own_promise(
                                trained, test, target_precision
                            ).items():
                                setattr(run, name, value)
                        runs.append(run)
                elif recipe.kind == "tfidf-lr":
                    runs.append(score(recipe, evaluation, None, test, _tfidf_answers(train, test)))
                else:
                    runs.append(
                        score(recipe, evaluation, None, test, _majority_answers(train, test))
                    )
                last = runs[-1]
                progress(
                    f"{evaluation:>14} {recipe.name:<17} macro-F1 {last.macro_f1:.3f} "
                    f"ECE {last.ece:.3f} urgency AUC {_f(last.urgency_auc)} "
                    f"({last.training_seconds:.1f} s)"
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
             "ece", "confident_precision", "confident_coverage", "urgency_auc", "urgency_ap",
             "urgency_ece", "set_precision", "set_coverage", "keep_precision", "keep_coverage",
             "own_confident_precision", "own_confident_coverage", "own_set_precision",
             "own_set_coverage", "own_ece")  # fmt: skip
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
            if scope == "lopo":
                figures.update(fold_spread(chosen))
            figures["model_bytes"] = max(run.model_bytes for run in chosen)
            figures["training_seconds"] = statistics.fmean(r.training_seconds for r in chosen)
            figures["runs"] = len(chosen)
            entry[scope] = figures
        summary[recipe] = entry
    return summary


#: (precision field, coverage field) of each promise the folds are checked against.
PROMISES = {
    "confident": ("confident_precision", "confident_coverage"),
    "set": ("set_precision", "set_coverage"),
    "keep": ("keep_precision", "keep_coverage"),
    "own_confident": ("own_confident_precision", "own_confident_coverage"),
    "own_set": ("own_set_precision", "own_set_coverage"),
}


def fold_spread(runs: Sequence[Run]) -> dict[str, Any]:
    """Per held-out project (mean over seeds): each promise's precision where its answers
    cover at least MIN_FOLD_COVERAGE, the weakest and the mean of those folds, how many
    folds counted; and the answer ECE's worst fold."""
    by_fold: dict[str, list[Run]] = {}
    for run in runs:
        by_fold.setdefault(run.evaluation, []).append(run)
    figures: dict[str, Any] = {}
    for promise, (precision_name, coverage_name) in PROMISES.items():
        counted: dict[str, float] = {}
        coverages: dict[str, float] = {}
        for fold, mine in sorted(by_fold.items()):
            coverage = _mean([getattr(r, coverage_name) for r in mine])
            precision = _mean([getattr(r, precision_name) for r in mine])
            if coverage is not None:
                coverages[fold.removeprefix("lopo:")] = round(coverage, 4)
            if coverage is not None and coverage >= MIN_FOLD_COVERAGE and precision is not None:
                counted[fold.removeprefix("lopo:")] = round(precision, 4)
        figures[f"{promise}_per_fold"] = {"precision": counted, "coverage": coverages}
        figures[f"{promise}_fold_min"] = min(counted.values()) if counted else None
        figures[f"{promise}_fold_mean"] = _mean(list(counted.values()))
        figures[f"{promise}_folds_counted"] = len(counted)
    eces = [_mean([r.ece for r in mine]) for mine in by_fold.values()]
    figures["ece_fold_max"] = max((e for e in eces if e is not None), default=None)
    return figures


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


def urgency_table(summary: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Urgency (a priority above the default): ranking (ROC AUC, average precision) and
    calibration (ECE), split and LOPO."""
    lines = [
        "| recipe | split AUC | LOPO AUC | split AP | LOPO AP | split ECE | LOPO ECE |",
        "|---|---|---|---|---|---|---|",
    ]
    for recipe, entry in summary.items():
        w, lo = entry.get("within", {}), entry.get("lopo", {})
        lines.append(
            f"| {recipe} | {_f(w.get('urgency_auc'))} | {_f(lo.get('urgency_auc'))} "
            f"| {_f(w.get('urgency_ap'))} | {_f(lo.get('urgency_ap'))} "
            f"| {_f(w.get('urgency_ece'))} | {_f(lo.get('urgency_ece'))} |"
        )
    return "\n".join(lines) + "\n"


def confidence_table(summary: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Each promise: precision / coverage on the split and LOPO (mean), and the folds where
    it covers at least MIN_FOLD_COVERAGE of the tickets: their weakest and mean precision."""
    lines = [
        "| recipe | answers | split: precision / coverage | LOPO: precision / coverage "
        f"| LOPO folds covering >= {MIN_FOLD_COVERAGE:.0%}: weakest / mean precision (folds) |",
        "|---|---|---|---|---|",
    ]
    for recipe, entry in summary.items():
        w, lo = entry.get("within", {}), entry.get("lopo", {})
        if w.get("confident_coverage") is None:
            continue
        for promise, label in (("confident", "confident"), ("set", "action set"),
                               ("keep", "action keep")):  # fmt: skip
            cells = [
                f"{_f(scope.get(f'{promise}_precision'))} / {_f(scope.get(f'{promise}_coverage'))}"
                for scope in (w, lo)
            ]
            spread = "n/a"
            if f"{promise}_fold_min" in lo:
                spread = (
                    f"{_f(lo.get(f'{promise}_fold_min'))} / {_f(lo.get(f'{promise}_fold_mean'))} "
                    f"({lo.get(f'{promise}_folds_counted')})"
                )
            lines.append(f"| {recipe} | {label} | {cells[0]} | {cells[1]} | {spread} |")
        for promise, label in (("own_confident", "site's own: confident"),
                               ("own_set", "site's own: set")):  # fmt: skip
            if lo.get(f"{promise}_coverage") is None:
                continue
            lines.append(
                f"| {recipe} | {label} | n/a "
                f"| {_f(lo.get(f'{promise}_precision'))} / {_f(lo.get(f'{promise}_coverage'))} "
                f"| {_f(lo.get(f'{promise}_fold_min'))} / {_f(lo.get(f'{promise}_fold_mean'))} "
                f"({lo.get(f'{promise}_folds_counted')}) |"
            )
    return "\n".join(lines) + "\n"


def per_project_table(runs: Sequence[dict[str, Any]], recipes: Sequence[str]) -> str:
    """LOPO figures per held-out project, mean over seeds: each recipe's macro-F1 and urgency
    ROC AUC, and for the first recipe its ECE, confident and set answers (precision /
    coverage) and the site's own promise (confident precision / coverage on the newer half).

    Takes the runs as ``compare.json`` stores them, so the table can be re-made from the file.
    """
    projects = sorted(
        {r["evaluation"].split(":", 1)[1] for r in runs if r["evaluation"].startswith("lopo:")}
    )
    first = recipes[0]
    columns = [f"{name} macro-F1" for name in recipes] + [f"{name} urgency AUC" for name in recipes]
    columns += [f"{first} ECE", f"{first} confident", f"{first} set", f"{first} site's own"]
    header = "| held out | tickets | " + " | ".join(columns) + " |\n"
    header += "|---|---:|" + "---:|" * len(columns) + "\n"
    rows = []
    for project in projects:
        mine = [r for r in runs if r["evaluation"] == f"lopo:{project}"]

        def mean(name: str, recipe: str, fold: list[dict[str, Any]] = mine) -> float | None:
            return _mean([r.get(name) for r in fold if r["recipe"] == recipe])

        def pair(precision: str, coverage: str) -> str:
            return f"{_f(mean(precision, first))} / {_f(mean(coverage, first))}"

        cells = [_f(mean("macro_f1", name)) for name in recipes]
        cells += [_f(mean("urgency_auc", name)) for name in recipes]
        cells += [
            _f(mean("ece", first)),
            pair("confident_precision", "confident_coverage"),
            pair("set_precision", "set_coverage"),
            pair("own_confident_precision", "own_confident_coverage"),
        ]
        rows.append(f"| {project} | {mine[0]['tickets']} | {' | '.join(cells)} |")
    return header + "\n".join(rows) + "\n"


def goals_report(summary: dict[str, dict[str, dict[str, Any]]], target_precision: float) -> str:
    """The served recipe ("best") against the goals, in words: each promise kept in every
    fold where it covers at least MIN_FOLD_COVERAGE (or not made), ECE, urgency AUC
    against TF-IDF + LR's."""
    best = summary.get("best", {}).get("lopo")
    if not best:
        return ""
    floor = target_precision - FOLD_TOLERANCE
    lines = [f"Goals of the served recipe (best), leaving each project out (floor {floor:.2f}):"]
    for promise, label in (("confident", "confident answers"), ("set", "`set` answers"),
                           ("own_confident", "the site's own confident answers"),
                           ("own_set", "the site's own `set` answers")):  # fmt: skip
        weakest = best.get(f"{promise}_fold_min")
        counted = best.get(f"{promise}_folds_counted", 0)
        if weakest is None:
            lines.append(f"- {label}: cover under {MIN_FOLD_COVERAGE:.0%} in every fold")
        else:
            verdict = "kept" if weakest >= floor else f"missed by {floor - weakest:.3f}"
            lines.append(f"- {label}: weakest of {counted} counted folds {weakest:.3f}: {verdict}")
    lines.append(
        f"- answer ECE: mean {_f(best.get('ece'))} (goal 0.06), worst fold "
        f"{_f(best.get('ece_fold_max'))} (goal 0.10); urgency ECE {_f(best.get('urgency_ece'))} "
        "(goal 0.05)"
    )
    reference = summary.get("tfidf-lr", {}).get("lopo", {}).get("urgency_auc")
    lines.append(
        f"- urgency ROC AUC {_f(best.get('urgency_auc'))} against TF-IDF + LR's {_f(reference)}"
    )
    return "\n".join(lines) + "\n"
