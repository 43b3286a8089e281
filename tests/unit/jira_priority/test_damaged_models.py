"""Damaged model files answer 503 (or a one-line command error), never a crash or a 500.

fastText's loader trusts its input: these files once crashed the process
(SIGFPE), allocated gigabytes, or loaded and failed every prediction.
"""

from __future__ import annotations

import json
import struct
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli import main

from jira_priority import app as handler
from jira_priority.errors import UpstreamUnavailableError
from jira_priority.fasttext_format import ModelFormatError, check_model_file
from jira_priority.labels import LABELS, Priority
from jira_priority.predictors import embedded
from jira_priority.predictors.embedded import EmbeddedPredictor, ModelLoadError
from tests.support.damaged import damaged_models
from tests.support.events import load_event
from tests.support.models import PROBES, synthetic_lines, train_tiny_model


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return train_tiny_model(tmp_path_factory.mktemp("tiny")).read_bytes()


@pytest.fixture(autouse=True)
def fasttext_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path fastText is asked to load: a damaged file must never get there."""
    import fasttext

    loads: list[str] = []
    real_load = fasttext.load_model

    def recording_load(path: str) -> Any:
        loads.append(path)
        return real_load(path)

    monkeypatch.setattr(fasttext, "load_model", recording_load)
    return loads


DAMAGE = list(damaged_models(b"x" * 64))


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_model_is_refused_beforefasttext_loads_it(
    damage: str, model_bytes: bytes, tmp_path: Path, fasttext_loads: list[str]
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(damaged_models(model_bytes)[damage])
    predictor = EmbeddedPredictor(str(path))

    assert not predictor.is_ready()
    with pytest.raises(UpstreamUnavailableError) as caught:
        predictor.predict([PROBES[Priority.MAJOR]], k=1)
    assert caught.value.retry_after is not None
    assert fasttext_loads == []


def crafted_model(words: list[bytes], minn: int, maxn: int) -> bytes:
    """A supervised model in fastText's file format (version 12): dim 1, 1 bucket, 6 labels."""
    labels = [p.label.encode() for p in Priority]
    data = struct.pack("<ii", 793_712_314, 12)
    data += struct.pack("<12id", 1, 5, 5, 1, 5, 1, 3, 3, 1, minn, maxn, 100, 1e-4)
    data += struct.pack("<iiiqq", len(words) + len(labels), len(words), len(labels), 100, -1)
    data += b"".join(w + b"\0" + struct.pack("<qb", 1, 0) for w in words)
    data += b"".join(label + b"\0" + struct.pack("<qb", 1, 1) for label in labels)
    for rows in (len(words) + 1, len(labels)):
        data += b"\0" + struct.pack("<qq", rows, 1) + bytes(4 * rows)
    return data


def test_a_model_whose_words_make_too_many_character_ngrams_is_refused(
    tmp_path: Path, fasttext_loads: list[str]
) -> None:
    # GIVEN a 590 kB model whose nine 64 KiB words fastText would split, at load, into
    # 19 million character n-grams (with maxn 1,000, one such word took 48 s and 256 MB)
    path = tmp_path / "model.bin"
    path.write_bytes(crafted_model([bytes([97 + i]) * 65_536 for i in range(9)], 1, 32))

    with pytest.raises(ModelLoadError, match="character n-grams"):
        EmbeddedPredictor(str(path)).load()
    assert fasttext_loads == []


def test_a_model_with_huge_character_ngrams_is_refused(
    tmp_path: Path, fasttext_loads: list[str]
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(crafted_model([b"crash", b"server"], 1, 1000))

    with pytest.raises(ModelLoadError, match="n-gram arguments"):
        EmbeddedPredictor(str(path)).load()
    assert fasttext_loads == []


def test_a_crafted_model_with_character_ngrams_in_bounds_loads(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(crafted_model([b"crash", b"server"], 3, 6))

    EmbeddedPredictor(str(path)).load()


def test_the_layout_check_accepts_real_models(model_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(model_bytes)

    layout = check_model_file(path, LABELS)

    assert sorted(layout.labels) == sorted(p.label for p in PROBES)
    assert layout.dim == 8
    assert not layout.quantised


def _ngram_model(train: Path) -> Any:
    import fasttext

    return fasttext.train_supervised(
        input=str(train), dim=8, bucket=1000, wordNgrams=2, minCount=1, thread=1, seed=1,
        verbose=0, epoch=5,
    )  # fmt: skip


def test_the_layout_check_accepts_quantised_models(tmp_path: Path) -> None:
    train = tmp_path / "train.txt"
    train.write_text("\n".join(synthetic_lines()) + "\n", encoding="utf-8")
    model = _ngram_model(train)
    model.quantize(input=str(train), qnorm=True, retrain=False, cutoff=0, dsub=2)
    path = tmp_path / "model.ftz"
    model.save_model(str(path))
    model = _ngram_model(train)
    model.quantize(input=str(train), retrain=False, cutoff=300, dsub=2)  # a pruned dictionary
    pruned = tmp_path / "pruned.ftz"
    model.save_model(str(pruned))

    layout = check_model_file(path, LABELS)

    assert layout.quantised
    assert layout.bucket == 1000
    assert check_model_file(pruned, LABELS).words < layout.words
    truncated = tmp_path / "truncated.ftz"
    truncated.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFormatError, match="too short"):
        check_model_file(truncated, LABELS)


def test_labels_outside_the_six_are_refused_at_load(tmp_path: Path) -> None:
    lines = [line.replace("__label__6", "__label__urgent") for line in synthetic_lines(30)]
    model = train_tiny_model(tmp_path, lines)
    predictor = EmbeddedPredictor(str(model))

    with pytest.raises(ModelLoadError) as caught:
        predictor.load()
    assert str(caught.value).endswith("labels outside __label__1..__label__6: __label__urgent")
    assert not predictor.is_ready()


def test_a_model_whose_test_prediction_fails_is_refused(
    model_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NaNModel:
        def predict(self, text: str, k: int = 1) -> tuple[list[str], list[float]]:
            return ["__label__4"], [float("nan")]

    class Module:
        @staticmethod
        def load_model(path: str) -> NaNModel:
            return NaNModel()

    monkeypatch.setattr(embedded, "_import_fasttext", Module)
    path = tmp_path / "model.bin"
    path.write_bytes(model_bytes)

    with pytest.raises(ModelLoadError, match="test prediction"):
        EmbeddedPredictor(str(path)).load()


def test_memory_error_while_loading_is_unavailable_and_backs_off(
    model_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    class Module:
        @staticmethod
        def load_model(path: str) -> Any:
            attempts.append(path)
            raise MemoryError

    monkeypatch.setattr(embedded, "_import_fasttext", Module)
    path = tmp_path / "model.bin"
    path.write_bytes(model_bytes)
    predictor = EmbeddedPredictor(str(path))

    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            predictor.predict(["crash"], k=1)

    assert len(attempts) == 1


def test_the_handler_answers_503_for_a_damaged_model(
    model_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(model_bytes[:20])
    monkeypatch.setattr(handler.classifier, "predictor", EmbeddedPredictor(str(path)))

    health = handler.lambda_handler(load_event("health"), lambda_context)
    predict = handler.lambda_handler(load_event("predict-text"), lambda_context)

    assert health["statusCode"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(health["body"])["ready"] is False
    assert predict["statusCode"] == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(predict["body"])["error"]["code"] == "upstream_unavailable"
    headers = predict.get("multiValueHeaders") or {}
    assert "Retry-After" in headers or "Retry-After" in (predict.get("headers") or {})


@pytest.mark.parametrize("damage", ["truncated to 20 bytes", "dimension changed"])
def test_classify_prints_one_line_for_a_damaged_model(
    damage: str, model_bytes: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(damaged_models(model_bytes)[damage])

    assert main(["classify", "--model", str(path), "crash"]) == 1

    err = capsys.readouterr().err
    assert err.startswith(f"classify: cannot load the model {path}: model.bin is not a usable")
    assert err.count("\n") == 1
