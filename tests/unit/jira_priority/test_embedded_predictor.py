"""The embedded backend on a small model trained here: local, tar.gz and S3 (moto)."""

from __future__ import annotations

import io
import tarfile
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from jira_priority.errors import (
    ConfigurationError,
    UpstreamUnavailableError,
)
from jira_priority.labels import LABELS, Priority
from jira_priority.model_files import ModelFileError, extract_model, file_digest, locate_model
from jira_priority.predictors import build_predictor, embedded
from jira_priority.predictors.embedded import EmbeddedPredictor
from jira_priority.settings import Settings
from tests.support.models import PROBES

BUCKET = "models-bucket"


pytestmark = pytest.mark.usefixtures("fresh_model_cache")


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_predicts_the_right_priority_for_each_ticket_in_order(model_path: Path) -> None:
    predictor = EmbeddedPredictor(str(model_path))
    priorities = list(PROBES)

    rankings = predictor.predict([PROBES[p] for p in priorities], k=1)

    assert [ranking[0][0] for ranking in rankings] == [p.label for p in priorities]


def test_top_k_is_ranked_with_probabilities(model_path: Path) -> None:
    predictor = EmbeddedPredictor(str(model_path))

    (ranking,) = predictor.predict([PROBES[Priority.CRITICAL]], k=3)

    assert len(ranking) == 3
    assert ranking[0][0] == Priority.CRITICAL.label
    probabilities = [prob for _, prob in ranking]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= prob <= 1.0 for prob in probabilities)
    assert sum(probabilities) <= 1.0 + 1e-4  # fastText adds 1e-5 to each probability
    assert all(label in LABELS for label, _ in ranking)


def test_newlines_in_a_text_do_not_shift_the_batch(model_path: Path) -> None:
    predictor = EmbeddedPredictor(str(model_path))

    rankings = predictor.predict(["crash\noutage", PROBES[Priority.TRIVIAL]], k=1)

    assert [r[0][0] for r in rankings] == [Priority.BLOCKER.label, Priority.TRIVIAL.label]


def test_model_id_names_the_file_and_its_digest_once_loaded(model_path: Path) -> None:
    predictor = EmbeddedPredictor(str(model_path))
    assert predictor.model_id == "model.bin"

    assert predictor.is_ready()

    assert predictor.model_id == f"model.bin@sha256:{file_digest(model_path)[:12]}"


def test_the_model_is_loaded_once_across_threads(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fasttext

    calls: list[str] = []
    real_load = fasttext.load_model

    def counting_load(path: str) -> Any:
        calls.append(path)
        return real_load(path)

    monkeypatch.setattr(fasttext, "load_model", counting_load)
    predictor = EmbeddedPredictor(str(model_path))
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            predictor.predict([PROBES[Priority.MAJOR]], k=1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(calls) == 1


def test_a_missing_model_is_unavailable_and_not_retried_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Path] = []
    real_fetch = EmbeddedPredictor._fetch

    def counting_fetch(self: EmbeddedPredictor, cache: Path) -> tuple[Path, str]:
        attempts.append(cache)
        return real_fetch(self, cache)

    monkeypatch.setattr(EmbeddedPredictor, "_fetch", counting_fetch)
    predictor = EmbeddedPredictor(str(tmp_path / "absent.bin"))

    with pytest.raises(UpstreamUnavailableError) as caught:
        predictor.predict(["crash"], k=1)
    assert isinstance(caught.value.__cause__, ModelFileError)
    assert not predictor.is_ready()
    assert len(attempts) == 1  # the second call failed fast

    monkeypatch.setattr(embedded, "RETRY_LOAD_AFTER_SECONDS", 0.0)
    assert not predictor.is_ready()
    assert len(attempts) == 2


def test_a_file_that_is_not_a_model_is_unavailable(tmp_path: Path) -> None:
    junk = tmp_path / "model.bin"
    junk.write_bytes(b"not a fasttext model")

    with pytest.raises(UpstreamUnavailableError) as caught:
        EmbeddedPredictor(str(junk)).predict(["crash"], k=1)

    assert "wrong magic number" in str(caught.value.__cause__)


def test_a_directory_holding_a_model_is_accepted(model_path: Path, tmp_path: Path) -> None:
    directory = tmp_path / "output"
    directory.mkdir()
    (directory / "model.ftz").write_bytes(model_path.read_bytes())
    (directory / "notes.txt").write_text("x")

    assert locate_model(directory, tmp_path / "x") == directory / "model.ftz"
    rankings = EmbeddedPredictor(str(directory)).predict([PROBES[Priority.MINOR]], k=1)
    assert rankings[0][0][0] == Priority.MINOR.label


def test_a_local_training_job_archive_is_extracted_and_served(
    model_path: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(tar_gz({"model.bin": model_path.read_bytes(), "model.vec": b"2 8\n"}))

    rankings = EmbeddedPredictor(str(archive)).predict([PROBES[Priority.TRIVIAL]], k=1)

    assert rankings[0][0][0] == Priority.TRIVIAL.label


def test_extraction_cannot_escape_the_target_directory(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(tar_gz({"../../escaped.bin": b"payload"}))
    target = tmp_path / "deep" / "target"

    extracted = extract_model(archive, target)

    assert extracted == target / "model.bin"
    assert extracted.read_bytes() == b"payload"
    assert not (tmp_path / "escaped.bin").exists()
    assert sorted(p.name for p in tmp_path.rglob("*.bin")) == ["model.bin"]


def test_links_and_non_model_members_are_never_extracted(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("model.bin")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
        script = tarfile.TarInfo("run.sh")
        script.size = 2
        tar.addfile(script, io.BytesIO(b"ls"))
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(buffer.getvalue())

    # a link named like the model is refused, not skipped for another member
    with pytest.raises(ModelFileError, match=r"model\.bin is a link"):
        extract_model(archive, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_an_archive_with_two_candidate_models_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(tar_gz({"a.bin": b"1", "b.ftz": b"2"}))

    with pytest.raises(ModelFileError, match="several model files"):
        extract_model(archive, tmp_path / "target")


def test_from_settings_uses_model_uri(model_path: Path) -> None:
    settings = Settings(predictor_backend="embedded", model_uri=str(model_path))

    predictor = build_predictor(settings)

    assert isinstance(predictor, EmbeddedPredictor)
    assert predictor.backend == "embedded"
    assert predictor.predict([PROBES[Priority.MAJOR]], 1)[0][0][0] == Priority.MAJOR.label


def test_a_malformed_s3_uri_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="MODEL_URI"):
        EmbeddedPredictor("s3://bucket-only/")


@mock_aws
def test_model_bin_from_s3(model_path: Path) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="models/model.bin", Body=model_path.read_bytes())
    predictor = EmbeddedPredictor(f"s3://{BUCKET}/models/model.bin", s3_client=client)

    rankings = predictor.predict([PROBES[Priority.CRITICAL]], k=2)

    assert rankings[0][0][0] == Priority.CRITICAL.label
    assert predictor.model_id.startswith("model.bin@sha256:")  # the bucket is not for clients


@mock_aws
def test_training_job_model_tar_gz_from_s3(model_path: Path) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    body = tar_gz({"model.bin": model_path.read_bytes(), "model.vec": b"2 8\n"})
    key = "jobs/jira-priority-1/output/model.tar.gz"
    client.put_object(Bucket=BUCKET, Key=key, Body=body)
    predictor = EmbeddedPredictor(f"s3://{BUCKET}/{key}", s3_client=client)

    rankings = predictor.predict([PROBES[Priority.BLOCKER]], k=1)

    assert rankings[0][0][0] == Priority.BLOCKER.label


@mock_aws
def test_a_missing_s3_object_is_unavailable() -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    predictor = EmbeddedPredictor(f"s3://{BUCKET}/absent/model.bin", s3_client=client)

    assert not predictor.is_ready()
    with pytest.raises(UpstreamUnavailableError):
        predictor.predict(["crash"], k=1)


def test_the_default_s3_client_is_made_once() -> None:
    embedded.s3_client.cache_clear()

    assert embedded.s3_client() is embedded.s3_client()


class PredictOnlyModel:
    """The API of fasttext-predict (the Lambda's build): predict one str at a time.

    Its list form returns labels without probabilities, so the predictor must
    never use it; this stand-in refuses lists to prove that.
    """

    def __init__(self, real: Any) -> None:
        self.real = real

    def predict(self, text: Any, k: int = 1) -> tuple[tuple[str, ...], tuple[float, ...]]:
        if not isinstance(text, str):
            raise TypeError("fasttext-predict's list form drops the probabilities")
        labels, probs = self.real.predict(text, k=k)
        return tuple(labels), tuple(float(p) for p in probs)


def test_only_the_api_of_the_predict_only_build_is_used(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fasttext

    class PredictOnlyModule:
        @staticmethod
        def load_model(path: str) -> PredictOnlyModel:
            return PredictOnlyModel(fasttext.load_model(path))

    monkeypatch.setattr(embedded, "_import_fasttext", PredictOnlyModule)
    predictor = EmbeddedPredictor(str(model_path))

    rankings = predictor.predict([PROBES[Priority.MINOR], PROBES[Priority.BLOCKER]], k=2)

    assert [r[0][0] for r in rankings] == [Priority.MINOR.label, Priority.BLOCKER.label]
    assert all(len(r) == 2 for r in rankings)
