"""``train-local``: metrics, BlazingText hyperparameters on fastText, outputs and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fasttext
import pytest
from training_jobs.cli import main
from training_jobs.evaluation.metrics import compute_metrics, majority_baseline
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters
from training_jobs.modelling.train_local import fasttext_arguments

from jira_priority.labels import Priority, priority_from_label
from jira_priority.postprocessing import FILE_NAME, PostProcessing
from tests.support.models import PROBES, synthetic_lines, write_lines

TINY = ["--vector-dim", "8", "--buckets", "1000", "--min-count", "1", "--word-ngrams", "1"]


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    train = write_lines(tmp_path / "data" / "train.txt", synthetic_lines(40, seed=1))
    validation = write_lines(tmp_path / "data" / "validation.txt", synthetic_lines(8, seed=2))
    return train, validation


def train(tmp_path: Path, data: tuple[Path, Path], *options: str, out: str = "model") -> int:
    train_file, validation_file = data
    return main(
        [
            "train-local",
            "--train", str(train_file),
            "--validation", str(validation_file),
            "-o", str(tmp_path / out),
            "--min-validation-lines", "10",  # the tiny data's 40 lines are enough here
            *TINY,
            *options,
        ]
    )  # fmt: skip


def report(tmp_path: Path, out: str = "model") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((tmp_path / out / "training.json").read_text())
    return loaded


def test_score_accuracy_and_macro_f1_by_hand() -> None:
    truth = ["__label__4", "__label__4", "__label__4", "__label__6"]
    predicted = ["__label__4", "__label__4", "__label__6", "__label__6"]

    metrics = compute_metrics(
        [priority_from_label(label) for label in truth],
        [(priority_from_label(label),) for label in predicted],
    )

    # Major: P 2/2, R 2/3, F1 0.8; Blocker: P 1/2, R 1/1, F1 2/3.
    assert metrics.accuracy == pytest.approx(0.75)
    assert metrics.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    per_class = {c.priority.value: c for c in metrics.per_class}
    major = per_class["Major"]
    assert major.recall is not None
    assert (major.precision, round(major.recall, 4), major.f1, major.support) == (
        1.0,
        0.6667,
        0.8,
        3,
    )
    # absent priorities are not averaged
    assert {name for name, c in per_class.items() if c.support} == {"Major", "Blocker"}


def test_majority_baseline_always_answers_major() -> None:
    truth = ["__label__4"] * 7 + ["__label__3"] * 3

    baseline = majority_baseline([priority_from_label(label) for label in truth])

    assert baseline.accuracy == pytest.approx(0.7)
    assert baseline.macro_f1 == pytest.approx((2 * 0.7 / 1.7) / 2)


def test_blazingtext_names_map_to_fasttext_arguments() -> None:
    hp = BlazingTextHyperparameters(
        epochs=7, learning_rate=0.2, vector_dim=16, word_ngrams=3, min_count=4, buckets=5000
    )

    arguments = fasttext_arguments(hp, hp.epochs)

    assert arguments == {
        "epoch": 7,
        "lr": 0.2,
        "dim": 16,
        "wordNgrams": 3,
        "minCount": 4,
        "bucket": 5000,
        "loss": "softmax",
        "minn": 0,
        "maxn": 0,
    }


def test_trains_a_model_that_separates_the_priorities(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    assert train(tmp_path, data, "--epochs", "15") == 0

    model = fasttext.load_model(str(tmp_path / "model" / "model.bin"))
    for priority, text in PROBES.items():
        assert model.predict(text, k=1)[0][0] == priority.label
    result = report(tmp_path)
    assert result["validation"]["model.bin"]["accuracy"] > 0.9
    assert result["validation"]["majority_baseline"]["accuracy"] == pytest.approx(0.2)
    assert result["hyperparameters"]["vector_dim"] == 8
    assert result["sagemaker_hyperparameters"]["early_stopping"] == "false"
    assert (
        result["models"]["model.bin"]["bytes"] == (tmp_path / "model" / "model.bin").stat().st_size
    )
    assert result["data"]["train"]["lines"] == 200
    assert not (tmp_path / "model" / "model.ftz").exists()


def test_same_seed_single_thread_gives_the_same_model(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    assert train(tmp_path, data, "--seed", "5", out="a") == 0
    assert train(tmp_path, data, "--seed", "5", out="b") == 0

    assert (tmp_path / "a" / "model.bin").read_bytes() == (
        tmp_path / "b" / "model.bin"
    ).read_bytes()


def test_early_stopping_stops_after_patience_epochs_without_improvement(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    code = train(
        tmp_path, data,
        "--early-stopping", "--epochs", "30", "--min-epochs", "2", "--patience", "2",
        "--learning-rate", "1.0",
    )  # fmt: skip

    assert code == 0
    result = report(tmp_path)
    epochs_tried = [c["epochs"] for c in result["candidates"]]
    # The synthetic priorities are separable: accuracy peaks early, then cannot improve.
    best = max(result["candidates"], key=lambda c: c["accuracy"])
    assert epochs_tried == list(range(2, best["epochs"] + 3))
    assert result["epochs_trained"] == best["epochs"]
    assert len(epochs_tried) < 29


def test_quantize_writes_a_smaller_model_that_still_predicts(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    assert train(tmp_path, data, "--quantize", "--quantize-cutoff", "0", "--word-ngrams", "2") == 0

    ftz = tmp_path / "model" / "model.ftz"
    assert ftz.stat().st_size < (tmp_path / "model" / "model.bin").stat().st_size
    model = fasttext.load_model(str(ftz))
    assert model.predict(PROBES[Priority.BLOCKER], k=1)[0][0] == Priority.BLOCKER.label
    assert "model.ftz" in report(tmp_path)["validation"]


def test_a_bad_training_line_is_one_clear_error(
    tmp_path: Path, data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    train_file, _ = data
    train_file.write_text("__label__4 fine\nno label here\n", encoding="utf-8")

    assert train(tmp_path, data) == 1

    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"train-local: {train_file}:2: expected a line starting with __label__1..6, got 'no'"
    ]


def test_invalid_hyperparameters_exit_2(
    tmp_path: Path, data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert train(tmp_path, data, "--learning-rate", "0") == 2

    assert capsys.readouterr().err == "train-local: learning_rate must be in (0, 1]\n"


def test_missing_validation_file_is_one_line(
    tmp_path: Path, data: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    train_file, _ = data
    missing = tmp_path / "absent.txt"

    code = main(["train-local", "--train", str(train_file), "--validation", str(missing),
                 "-o", str(tmp_path / "m"), *TINY])  # fmt: skip

    assert code == 1
    assert capsys.readouterr().err.endswith(f"train-local: {missing}: no such file\n")


def test_without_validation_it_trains_and_reports_no_metrics(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    train_file, _ = data

    code = main(["train-local", "--train", str(train_file), "--validation", "",
                 "-o", str(tmp_path / "m"), *TINY])  # fmt: skip

    assert code == 0
    assert report(tmp_path, "m")["validation"] == {}


def test_postprocessing_is_fitted_on_held_out_training_lines(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    assert train(tmp_path, data, "--epochs", "15", "--calibration-fraction", "0.2",
                 "--default-share", "1") == 0  # fmt: skip

    result = report(tmp_path)
    assert result["data"]["train"]["held_out_to_calibrate"] == 40
    assert result["data"]["train"]["trained_on"] == 160
    written = PostProcessing.from_json((tmp_path / "model" / FILE_NAME).read_bytes())
    assert result["postprocessing"] == written.as_dict()
    # without train.txt.projects: a random hold-out, and the report says so
    assert result["calibration"]["how"]["method"] == "held-out"
    assert written.promises is not None
    assert written.default_label == "__label__4"  # Major, the apache scheme's default
    assert not (tmp_path / "model" / "train-without-calibration.txt").exists()


def test_no_calibration_fraction_removes_an_old_postprocessing_file(
    tmp_path: Path, data: tuple[Path, Path]
) -> None:
    assert train(tmp_path, data) == 0
    assert (tmp_path / "model" / FILE_NAME).exists()

    assert train(tmp_path, data, "--calibration-fraction", "0") == 0

    assert not (tmp_path / "model" / FILE_NAME).exists()
    assert report(tmp_path)["postprocessing"] is None


@pytest.mark.parametrize("lines", [0, 2])
def test_an_empty_or_tiny_validation_file_is_refused_before_training(
    tmp_path: Path, data: tuple[Path, Path], capsys: pytest.CaptureFixture[str], lines: int
) -> None:
    train_file, _ = data
    validation = write_lines(tmp_path / "tiny.txt", synthetic_lines(1, seed=3)[:lines])

    code = main(["train-local", "--train", str(train_file), "--validation", str(validation),
                 "-o", str(tmp_path / "model"), *TINY])  # fmt: skip

    assert code == 1
    assert capsys.readouterr().err.startswith(
        f"train-local: {validation} has {lines} validation line(s), fewer than 50:"
    )
    assert not (tmp_path / "model" / "model.bin").exists()
