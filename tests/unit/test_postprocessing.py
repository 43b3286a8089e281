"""Post-processing: applying postprocessing.json, reading it, and fitting it."""

from __future__ import annotations

import io
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest
from training_jobs.evaluation.calibration import expected_calibration_error, reliability_bins
from training_jobs.modelling import postprocessing as fitting

from jira_priority.classifier import PriorityClassifier
from jira_priority.errors import BadModelResponseError
from jira_priority.model_files import ModelFileError, read_sidecar
from jira_priority.postprocessing import (
    FILE_NAME,
    Confidence,
    PostProcessing,
    PostProcessingError,
    RankedLabel,
    post_process,
    read_postprocessing,
)
from jira_priority.schemas import Ticket

MAJOR, MINOR, CRITICAL = "__label__4", "__label__3", "__label__5"
LABELS = (MAJOR, MINOR, CRITICAL)
#: Major is 70 % of the training data, Minor 20 %, Critical 10 %.
LOG_PRIOR = (math.log(0.7), math.log(0.2), math.log(0.1))


def make(weight: float = 0.0, temperature: float = 1.0, threshold: float | None = None):
    confidence = (
        Confidence(threshold=threshold, target_precision=0.7, coverage=0.5, precision=0.7)
        if threshold is not None
        else None
    )
    return PostProcessing(LABELS, LOG_PRIOR, weight, temperature, confidence)


ANSWER = [(MAJOR, 0.5), (CRITICAL, 0.3), (MINOR, 0.2)]


def test_without_correction_the_model_order_stands_and_probabilities_are_unchanged() -> None:
    result = make().apply(ANSWER, k=3)

    assert [r.label for r in result.ranking] == [MAJOR, CRITICAL, MINOR]
    assert [r.calibrated_probability for r in result.ranking] == pytest.approx([0.5, 0.3, 0.2])


def test_the_prior_correction_promotes_a_rare_priority() -> None:
    # Critical log .3 - log .1 = 1.10 > Minor log .2 - log .2 = 0 > Major log .5 - log .7 = -0.34
    result = make(weight=1.0).apply(ANSWER, k=2)

    assert [r.label for r in result.ranking] == [CRITICAL, MINOR]
    assert result.ranking[0].probability == 0.3  # the model's own figure is kept
    assert result.ranking[0].calibrated_probability == pytest.approx(0.3)


def test_temperature_above_one_softens_the_probabilities() -> None:
    result = make(temperature=2.0).apply(ANSWER, k=3)

    expected = np.sqrt([0.5, 0.3, 0.2]) / np.sqrt([0.5, 0.3, 0.2]).sum()
    assert [r.calibrated_probability for r in result.ranking] == pytest.approx(expected)


def test_confident_when_the_top_calibrated_probability_reaches_the_threshold() -> None:
    assert make(threshold=0.5).apply(ANSWER, k=1).confident is True
    assert make(threshold=0.51).apply(ANSWER, k=1).confident is False
    assert make().apply(ANSWER, k=1).confident is None


def test_labels_the_model_did_not_answer_count_as_zero() -> None:
    result = make().apply([(MAJOR, 0.9), (MINOR, 0.1)], k=3)

    assert result.ranking[-1] == RankedLabel(CRITICAL, 0.0, pytest.approx(1e-8, rel=0.1))


def test_without_a_file_the_answer_is_the_models_cut_to_k() -> None:
    result = post_process([(MINOR, 0.2), (MAJOR, 0.5)], 1, None)

    assert result.ranking == [RankedLabel(MAJOR, 0.5, None)]
    assert result.confident is None


def test_an_unknown_label_is_refused() -> None:
    with pytest.raises(PostProcessingError):
        make().apply([("__label__9", 1.0)], k=1)


def test_the_classifier_turns_an_unknown_label_into_a_bad_model_response() -> None:
    class Predictor:
        backend, model_id = "test", "m"

        def is_ready(self) -> bool:
            return True

        def postprocessing(self) -> PostProcessing:
            return make()

        def predict(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
            return [[("__label__1", 1.0)] for _ in texts]

    with pytest.raises(BadModelResponseError):
        PriorityClassifier(Predictor(), 5).classify([Ticket(title="x")], k=1)


def test_the_file_round_trips() -> None:
    original = make(weight=0.55, temperature=1.2, threshold=0.4)

    assert PostProcessing.from_json(original.to_json({"fitted_on": {"tickets": 3}})) == original


@pytest.mark.parametrize(
    "change",
    [
        {"format": 2},
        {"temperature": 0},
        {"temperature": "1"},
        {"prior_weight": -1},
        {"log_prior": [0.5, -1, -2]},
        {"log_prior": [-1, -2]},
        {"labels": [MAJOR, MAJOR, MINOR]},
        {"confidence": {"threshold": 2, "target_precision": 0.7, "coverage": 1, "precision": 1}},
        {"confidence": {"threshold": 0.5}},
    ],
)
def test_a_damaged_file_is_refused(change: dict[str, object]) -> None:
    data = {**json.loads(make(threshold=0.5).to_json()), **change}

    with pytest.raises(PostProcessingError):
        PostProcessing.from_json(json.dumps(data))


def test_not_json_and_oversized_files_are_refused() -> None:
    with pytest.raises(PostProcessingError):
        PostProcessing.from_json(b"\xff{")
    with pytest.raises(PostProcessingError):
        PostProcessing.from_json(b" " * 70_000)


# --- the sidecar beside the model -------------------------------------------------


def test_the_sidecar_is_found_beside_a_model_file_in_a_directory_and_in_an_archive(
    tmp_path: Path,
) -> None:
    text = make(weight=0.5).to_json().encode()
    (tmp_path / "model.bin").write_bytes(b"model")
    (tmp_path / FILE_NAME).write_bytes(text)
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in {"model.bin": b"model", f"sub/{FILE_NAME}": text}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    assert read_sidecar(tmp_path / "model.bin", FILE_NAME, 1000) == text
    assert read_sidecar(tmp_path, FILE_NAME, 1000) == text
    assert read_sidecar(archive, FILE_NAME, 1000) == text
    assert read_postprocessing(archive) == make(weight=0.5)


def test_no_sidecar_is_none_and_an_oversized_one_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"model")
    assert read_sidecar(tmp_path / "model.bin", FILE_NAME, 10) is None
    (tmp_path / FILE_NAME).write_bytes(b"x" * 11)
    with pytest.raises(ModelFileError):
        read_sidecar(tmp_path / "model.bin", FILE_NAME, 10)


# --- fitting ---------------------------------------------------------------------------


def synthetic_calibration(rows: int = 3000, seed: int = 0):
    """An over-confident model biased to Major: its true classes follow a known mix."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, size=rows, p=[0.7, 0.2, 0.1])
    logits = rng.normal(0, 1, size=(rows, 3)) + np.eye(3)[truth] * 1.2
    logits[:, 0] += 1.0  # prefers Major
    probabilities = np.exp(3 * logits) / np.exp(3 * logits).sum(axis=1, keepdims=True)
    return probabilities, [LABELS[t] for t in truth]


def test_fitting_corrects_the_prior_and_calibrates() -> None:
    probabilities, truth = synthetic_calibration()
    counts = {MAJOR: 700, MINOR: 200, CRITICAL: 100}

    fitted = fitting.fit(probabilities, truth, LABELS, counts, target_precision=0.8)

    pp = fitted.postprocessing
    assert pp.prior_weight > 0
    assert pp.temperature > 1.5  # the synthetic model is over-confident by 3x
    assert fitted.report["macro_f1_after"] > fitted.report["macro_f1_before"]
    assert fitted.report["ece_after"] < fitted.report["ece_before"]
    assert pp.confidence is not None
    assert pp.confidence.precision >= 0.8


def test_the_threshold_keeps_the_largest_coverage_at_the_target_precision() -> None:
    confidence = [0.9] * 40 + [0.6] * 40 + [0.3] * 40
    correct = [True] * 36 + [False] * 4 + [True] * 24 + [False] * 16 + [False] * 40

    chosen = fitting.choose_threshold(confidence, correct, target_precision=0.75)

    assert chosen.threshold == 0.6
    assert chosen.coverage == pytest.approx(80 / 120, abs=1e-4)
    assert chosen.precision == 0.75


def test_no_threshold_reaching_the_target_means_never_confident() -> None:
    chosen = fitting.choose_threshold([0.9] * 50, [False] * 50, target_precision=0.7)

    assert (chosen.threshold, chosen.coverage) == (1.0, 0.0)


def test_ece_and_reliability_bins() -> None:
    confidence = [0.95] * 10 + [0.55] * 10
    correct = [True] * 5 + [False] * 5 + [True] * 5 + [False] * 5

    bins = reliability_bins(confidence, correct)

    assert [(b.count, b.accuracy) for b in bins] == [(10, 0.5), (10, 0.5)]
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.25)
    assert expected_calibration_error([], []) == 0.0


def test_the_balanced_copy_gives_every_priority_the_largest_count() -> None:
    from training_jobs.datasets import PreparedExample
    from training_jobs.modelling.balanced import class_balanced

    examples = [PreparedExample(MAJOR, f"m{i}", i) for i in range(7)]
    examples += [PreparedExample(MINOR, f"n{i}", i) for i in range(3)]

    balanced = class_balanced(examples, seed=1)

    texts = [e.text for e in balanced if e.label == MINOR]
    assert len(texts) == 7
    assert sorted(set(texts)) == ["n0", "n1", "n2"]
    assert max(texts.count(t) for t in texts) - min(texts.count(t) for t in texts) <= 1
    assert sorted(e.text for e in balanced if e.label == MAJOR) == [f"m{i}" for i in range(7)]


def test_compare_summarises_seeds_then_folds_and_tables_each_project() -> None:
    from training_jobs.evaluation.comparison import Run, per_project_table, summarise

    def run(recipe: str, evaluation: str, seed: int, f1: float) -> Run:
        return Run(recipe, evaluation, seed, 10, f1, 0.3, 0.6, 0.1, 0.2, 0.05, None, None, 5, 1.0)

    runs = [
        run("best", "within", 1, 0.34), run("best", "within", 2, 0.36),
        run("best", "lopo:A", 1, 0.20), run("best", "lopo:B", 1, 0.30),
        run("best", "lopo:A", 2, 0.22), run("best", "lopo:B", 2, 0.32),
    ]  # fmt: skip

    summary = summarise(runs)["best"]

    assert summary["within"]["macro_f1"] == pytest.approx(0.35)
    assert summary["within"]["macro_f1_seed_range"] == pytest.approx([0.34, 0.36])
    assert summary["lopo"]["macro_f1"] == pytest.approx(0.26)  # seeds 0.25 and 0.27
    table = per_project_table([r.as_dict() for r in runs], ["best"])
    assert "| A | 10 | 0.210 | 0.050 |" in table
    assert "| B | 10 | 0.310 | 0.050 |" in table
