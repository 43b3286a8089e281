"""Where downloaded and extracted models go: private, bounded, cleaned up (issue 9 items 5, 6)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from jira_priority import model_files
from jira_priority.errors import UpstreamUnavailableError
from jira_priority.labels import Priority
from jira_priority.model_files import ModelFileError, extract_model
from jira_priority.predictors import embedded
from jira_priority.predictors.embedded import EmbeddedPredictor, ModelLoadError
from tests.support.models import PROBES, train_tiny_model

BUCKET = "models-bucket"


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return train_tiny_model(tmp_path_factory.mktemp("tiny")).read_bytes()


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's cache is made afresh under this test's own temporary directory."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(embedded.tempfile, "tempdir", str(root))
    embedded.model_cache_dir.cache_clear()
    yield root
    embedded.model_cache_dir.cache_clear()


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sparse_tar_gz(path: Path, member_size: int) -> Path:
    """A small model.tar.gz whose model.bin member is ``member_size`` zero bytes."""
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("model.bin")
        info.size = member_size
        tar.addfile(info, io.BytesIO(bytes(member_size)))
    return path


# --- item 5: a private cache ---------------------------------------------------------


def test_the_cache_is_private_to_this_process_and_unpredictable(private_tmp: Path) -> None:
    cache = embedded.model_cache_dir()

    info = cache.lstat()
    assert cache.parent == private_tmp
    assert stat.S_ISDIR(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.getuid()
    assert cache.name != "jira-priority-models"  # not a name another user can take first
    embedded.model_cache_dir.cache_clear()
    assert embedded.model_cache_dir() != cache


@mock_aws
def test_a_directory_planted_at_the_old_shared_path_is_never_used(
    model_bytes: bytes, private_tmp: Path
) -> None:
    planted = private_tmp / "jira-priority-models"
    planted.mkdir(mode=0o777)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="m/model.bin", Body=model_bytes)

    EmbeddedPredictor(f"s3://{BUCKET}/m/model.bin", s3_client=client).load()

    assert list(planted.iterdir()) == []


def test_extraction_refuses_a_symlink_at_its_output(model_bytes: bytes, tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(tar_gz({"model.bin": model_bytes}))
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (target_dir / "model.bin.part").symlink_to(victim)

    with pytest.raises(ModelFileError):
        extract_model(archive, target_dir, max_bytes=1 << 20)

    assert victim.read_bytes() == b"precious"


# --- item 6: bounded extraction ------------------------------------------------------


def test_a_member_larger_than_the_bound_is_not_extracted(tmp_path: Path) -> None:
    archive = sparse_tar_gz(tmp_path / "model.tar.gz", 3 << 20)
    target_dir = tmp_path / "out"

    with pytest.raises(ModelFileError, match="larger than"):
        extract_model(archive, target_dir, max_bytes=1 << 20)

    assert not target_dir.exists() or list(target_dir.iterdir()) == []


def test_the_bound_is_the_free_space_when_that_is_smaller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = sparse_tar_gz(tmp_path / "model.tar.gz", 3 << 20)
    free = model_files.EXTRACTION_RESERVE_BYTES + (1 << 20)
    monkeypatch.setattr(
        model_files.shutil, "disk_usage", lambda _: SimpleNamespace(total=free, used=0, free=free)
    )

    with pytest.raises(ModelFileError, match="free"):
        extract_model(archive, tmp_path / "out", max_bytes=1 << 30)


def test_a_failed_load_leaves_no_extracted_model_behind(tmp_path: Path) -> None:
    archive = sparse_tar_gz(tmp_path / "model.tar.gz", 4096)  # a model.bin of zeros
    predictor = EmbeddedPredictor(str(archive))

    with pytest.raises(ModelLoadError):
        predictor.load()

    leftovers = [p for p in embedded.model_cache_dir().rglob("*") if p.is_file()]
    assert leftovers == []


def test_a_known_bad_archive_is_not_extracted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = sparse_tar_gz(tmp_path / "model.tar.gz", 4096)
    extractions: list[Path] = []
    real_extract = model_files.extract_model

    def counting_extract(*args: Any, **kwargs: Any) -> Path:
        extractions.append(args[0])
        return real_extract(*args, **kwargs)

    monkeypatch.setattr(model_files, "extract_model", counting_extract)
    monkeypatch.setattr(embedded, "RETRY_LOAD_AFTER_SECONDS", 0.0)
    predictor = EmbeddedPredictor(str(archive))

    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            predictor.predict(["crash"], k=1)

    assert len(extractions) == 1


def test_a_replaced_archive_is_tried_again(
    model_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = sparse_tar_gz(tmp_path / "model.tar.gz", 4096)
    monkeypatch.setattr(embedded, "RETRY_LOAD_AFTER_SECONDS", 0.0)
    predictor = EmbeddedPredictor(str(archive))
    assert not predictor.is_ready()

    archive.write_bytes(tar_gz({"model.bin": model_bytes}))

    assert predictor.predict([PROBES[Priority.BLOCKER]], k=1)[0][0][0] == Priority.BLOCKER.label


@mock_aws
def test_a_known_bad_s3_object_is_not_downloaded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    archive = sparse_tar_gz(tmp_path / "model.tar.gz", 4096)
    client.put_object(Bucket=BUCKET, Key="m/model.tar.gz", Body=archive.read_bytes())
    downloads: list[str] = []
    real_download = client.download_file

    def counting_download(*args: Any, **kwargs: Any) -> None:
        downloads.append(args[1])
        real_download(*args, **kwargs)

    monkeypatch.setattr(client, "download_file", counting_download)
    monkeypatch.setattr(embedded, "RETRY_LOAD_AFTER_SECONDS", 0.0)
    predictor = EmbeddedPredictor(f"s3://{BUCKET}/m/model.tar.gz", s3_client=client)

    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            predictor.predict(["crash"], k=1)

    assert downloads == ["m/model.tar.gz"]
    assert [p for p in embedded.model_cache_dir().rglob("*") if p.is_file()] == []
