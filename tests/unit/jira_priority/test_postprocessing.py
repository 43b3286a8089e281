"""Post-processing in the service: applying postprocessing.json and reading it."""

from __future__ import annotations

import io
import json
import math
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from jira_priority.classifier import PriorityClassifier
from jira_priority.errors import BadModelResponseError
from jira_priority.model_files import ModelFileError, read_sidecar
from jira_priority.postprocessing import (
    FILE_NAME,
    MAX_FILE_BYTES,
    MAX_KNOTS,
    Confidence,
    PostProcessing,
    PostProcessingError,
    RankedLabel,
    TopLabelMap,
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


# --- the top-label map (format 2) -----------------------------------------------

KNOTS = TopLabelMap(x=(0.2, 0.4, 0.4, 0.8), y=(0.1, 0.3, 0.5, 0.9))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, 0.1),  # below the first knot: its y
        (0.2, 0.1),  # on a knot: its y
        (0.3, 0.2),  # between knots: linear
        (0.4, 0.5),  # a repeated x: the last of its y (right-continuous)
        (0.6, 0.7),
        (0.8, 0.9),
        (1.0, 0.9),  # above the last knot: its y
    ],
)
def test_the_map_interpolates_between_knots_and_clips_at_the_ends(
    value: float, expected: float
) -> None:
    assert KNOTS(value) == pytest.approx(expected)


def test_a_one_knot_map_is_constant() -> None:
    single = TopLabelMap(x=(0.5,), y=(0.6,))

    assert [single(v) for v in (0.0, 0.5, 1.0)] == [0.6, 0.6, 0.6]


def with_map(threshold: float | None = None) -> PostProcessing:
    return replace(make(threshold=threshold), top_label_map=TopLabelMap((0.3, 0.6), (0.2, 0.4)))


def test_the_answers_confidence_is_the_map_of_its_prioritys_calibrated_probability() -> None:
    result = with_map().apply(ANSWER, k=2)

    # Major's temperature-1 probability 0.5 maps to 0.2 + 0.2 * (0.5 - 0.3) / 0.3.
    assert result.calibrated_probability == pytest.approx(0.2 + 0.2 * 2 / 3)
    # The ranking keeps each priority's temperature-scaled odds.
    assert [r.calibrated_probability for r in result.ranking] == pytest.approx([0.5, 0.3])


def test_confident_compares_the_answers_confidence_to_the_threshold() -> None:
    assert with_map(threshold=0.33).apply(ANSWER, k=1).confident is True
    # 0.5 (the ranking's figure) would clear 0.4; the answer's confidence 0.333 does not.
    assert with_map(threshold=0.4).apply(ANSWER, k=1).confident is False


def test_without_a_map_the_answers_confidence_is_its_prioritys_calibrated_probability() -> None:
    result = make(weight=1.0).apply(ANSWER, k=1)

    assert result.calibrated_probability == result.ranking[0].calibrated_probability


def test_without_a_file_the_answer_has_no_confidence() -> None:
    assert post_process(ANSWER, 1, None).calibrated_probability is None


def test_a_file_with_a_map_round_trips_as_format_2() -> None:
    original = with_map(threshold=0.3)
    text = original.to_json()

    assert json.loads(text)["format"] == 2
    assert json.loads(text)["top_label_map"] == {"x": [0.3, 0.6], "y": [0.2, 0.4]}
    assert PostProcessing.from_json(text) == original


def test_a_format_1_file_is_read_without_a_map() -> None:
    # As the previous version wrote it (no top_label_map field).
    old = {
        "format": 1,
        "labels": list(LABELS),
        "log_prior": list(LOG_PRIOR),
        "prior_weight": 1.0,
        "temperature": 1.0,
        "confidence": {
            "threshold": 0.25,
            "target_precision": 0.7,
            "coverage": 0.5,
            "precision": 0.7,
        },
    }

    read = PostProcessing.from_json(json.dumps(old))

    assert read.top_label_map is None
    answer = read.apply(ANSWER, k=1)
    assert answer.ranking[0].label == CRITICAL
    assert answer.calibrated_probability == pytest.approx(0.3)
    assert answer.confident is True


@pytest.mark.parametrize(
    "knots",
    [
        {"x": [0.1, 0.2], "y": [0.5]},  # not as many y as x
        {"x": [], "y": []},
        {"x": [0.5, 0.2], "y": [0.1, 0.2]},  # x not sorted
        {"x": [0.1, 0.2], "y": [0.3, 0.2]},  # y decreasing
        {"x": [0.1, 1.5], "y": [0.1, 0.2]},
        {"x": [0.1, 0.2], "y": [-0.1, 0.2]},
        {"x": [0.1, float("nan")], "y": [0.1, 0.2]},
        {"x": [0.1, 0.2], "y": [0.1, float("inf")]},
        {"x": [0.1, True], "y": [0.1, 0.2]},
        {"x": "0.1", "y": [0.1]},
        {"x": [0.5]},
        [0.5, 0.5],
        {"x": [i / 1000 for i in range(600)], "y": [i / 1000 for i in range(600)]},  # > MAX_KNOTS
    ],
)
def test_a_malformed_map_is_refused(knots: object) -> None:
    data = {**json.loads(make(threshold=0.5).to_json()), "top_label_map": knots}

    with pytest.raises(PostProcessingError):
        PostProcessing.from_json(json.dumps(data))


def test_a_map_of_the_most_knots_allowed_fits_in_the_file() -> None:
    x = tuple(round(0.123456 + i * 0.001, 6) for i in range(MAX_KNOTS))
    largest = replace(make(threshold=0.5), top_label_map=TopLabelMap(x, x))

    text = largest.to_json({"fitted_on": {"tickets": 5000}})

    assert len(text.encode()) < MAX_FILE_BYTES
    assert PostProcessing.from_json(text) == largest


def test_the_classifier_answers_the_confidence_at_the_top_and_the_odds_in_the_ranking() -> None:
    class Predictor:
        backend, model_id = "test", "m"

        def is_ready(self) -> bool:
            return True

        def postprocessing(self) -> PostProcessing:
            return with_map(threshold=0.4)

        def predict(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
            return [ANSWER for _ in texts]

    [prediction] = PriorityClassifier(Predictor(), 5).classify([Ticket(title="x")], k=2)

    assert prediction.calibrated_probability == pytest.approx(0.333333, abs=1e-6)
    assert prediction.confident is False
    assert [r.calibrated_probability for r in prediction.ranking] == [0.5, 0.3]
    assert prediction.probability == 0.5


def triage_postprocessing(keep: float | None, set_: float | None) -> PostProcessing:
    """Thresholds of their own for keep (Major) and set answers; an urgency map that reads
    only log p(Critical), with weight 1: urgency = sigmoid(log p) = p / (1 + p)."""
    from jira_priority.postprocessing import Promises, UrgencyMap

    def promise(threshold: float | None) -> Confidence:
        return Confidence(threshold=threshold, target_precision=0.7, coverage=0.1, precision=0.8)

    return PostProcessing(
        LABELS,
        LOG_PRIOR,
        0.0,
        1.0,
        default_label=MAJOR,
        promises=Promises(keep=promise(keep), set=promise(set_)),
        urgency_map=UrgencyMap(weights=(0.0, 0.0, 1.0), intercept=0.0),
    )


@pytest.mark.parametrize(
    ("answer", "keep", "set_", "action"),
    [
        ([(MAJOR, 0.8), (CRITICAL, 0.1), (MINOR, 0.1)], 0.7, 0.7, "keep"),
        ([(MAJOR, 0.8), (CRITICAL, 0.1), (MINOR, 0.1)], 0.9, 0.1, "triage"),
        ([(CRITICAL, 0.8), (MAJOR, 0.1), (MINOR, 0.1)], 0.1, 0.7, "set"),
        ([(CRITICAL, 0.8), (MAJOR, 0.1), (MINOR, 0.1)], 0.1, None, "triage"),
    ],
)
def test_each_action_has_its_own_threshold(
    answer: list[tuple[str, float]], keep: float | None, set_: float | None, action: str
) -> None:
    result = triage_postprocessing(keep, set_).apply(answer, k=1)

    assert result.action == action
    assert result.confident is (action != "triage")


def test_urgency_is_the_urgency_map_of_the_models_probabilities() -> None:
    result = triage_postprocessing(0.7, 0.7).apply([(MAJOR, 0.5), (CRITICAL, 0.3), (MINOR, 0.2)], 1)

    # sigmoid(log 0.3) = 0.3 / 1.3
    assert result.urgency == pytest.approx(0.3 / 1.3)


def test_a_format_2_file_answers_the_action_with_the_schemes_default() -> None:
    pp = make(threshold=0.4)  # format 2: one threshold, no default of its own

    with_default = pp.apply([(CRITICAL, 0.6), (MAJOR, 0.3), (MINOR, 0.1)], 1, MAJOR)
    without = pp.apply([(CRITICAL, 0.6), (MAJOR, 0.3), (MINOR, 0.1)], 1)

    assert (with_default.action, with_default.urgency) == ("set", pytest.approx(0.6))
    assert (without.action, without.urgency) == (None, None)
    assert with_default.confident is without.confident is True


def test_the_classifier_answers_action_and_urgency_for_every_ticket_of_a_batch() -> None:
    class Predictor:
        backend, model_id = "test", "m"

        def is_ready(self) -> bool:
            return True

        def postprocessing(self) -> PostProcessing:
            return triage_postprocessing(0.7, 0.99)

        def predict(self, texts: list[str], k: int) -> list[list[tuple[str, float]]]:
            return [
                [(MAJOR, 0.8), (CRITICAL, 0.1), (MINOR, 0.1)],
                [(CRITICAL, 0.8), (MAJOR, 0.1), (MINOR, 0.1)],
            ]

    keep, triage = PriorityClassifier(Predictor(), 5).classify(
        [Ticket(title="a"), Ticket(title="b")], k=1, batch=True
    )

    assert (keep.priority, keep.action, keep.confident) == ("Major", "keep", True)
    assert (triage.priority, triage.action, triage.confident) == ("Critical", "triage", False)
    assert triage.urgency == pytest.approx(0.8 / 1.8, abs=1e-6)
    assert keep.model_dump()["urgency"] == pytest.approx(0.1 / 1.1, abs=1e-6)
