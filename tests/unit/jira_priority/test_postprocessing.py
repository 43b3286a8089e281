"""Post-processing in the service: applying postprocessing.json and reading it."""

from __future__ import annotations

import io
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest

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
        {"format": 3},
        {"format": True},
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
