"""SnapStart hooks: what goes into the snapshot and what is renewed after a restore."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from jira_priority.predictors import embedded
from jira_priority.predictors.embedded import EmbeddedPredictor
from jira_priority.predictors.sagemaker import SageMakerPredictor
from jira_priority.snapstart import register_hooks
from tests.support.models import train_tiny_model


class Registry:
    """Stands in for snapshot_restore_py's two registration functions."""

    def __init__(self) -> None:
        self.before: list[Callable[[], None]] = []
        self.after: list[Callable[[], None]] = []

    def register(self, target: object) -> bool:
        return register_hooks(target, self.before.append, self.after.append)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("model"))


def test_both_predictors_register_their_hooks(model_path: Path) -> None:
    registry = Registry()
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")

    assert registry.register(SageMakerPredictor("jira", client))
    assert registry.register(EmbeddedPredictor(str(model_path)))
    assert len(registry.before) == len(registry.after) == 2


def test_an_object_without_hooks_registers_nothing() -> None:
    registry = Registry()

    assert not registry.register(object())
    assert registry.before == registry.after == []


def test_the_runtime_module_is_used_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    import snapshot_restore_py

    registered: list[Any] = []
    monkeypatch.setattr(snapshot_restore_py, "register_before_snapshot", registered.append)
    monkeypatch.setattr(snapshot_restore_py, "register_after_restore", registered.append)
    predictor = SageMakerPredictor(
        "jira", boto3.client("sagemaker-runtime", region_name="us-east-1")
    )

    assert register_hooks(predictor)
    assert registered == [predictor.before_snapshot, predictor.after_restore]


def test_the_model_is_loaded_before_the_snapshot(model_path: Path) -> None:
    registry = Registry()
    predictor = EmbeddedPredictor(str(model_path))
    registry.register(predictor)
    assert predictor.model_id == "model.bin"  # nothing loaded yet

    for hook in registry.before:
        hook()

    assert predictor.model_id.startswith("model.bin@sha256:")


def test_after_a_restore_a_failed_load_is_retried_at_once(
    tmp_path: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the model could not be loaded before the snapshot (the retry timer runs)
    target = tmp_path / "model.bin"
    predictor = EmbeddedPredictor(str(target))
    predictor.before_snapshot()
    assert not predictor.is_ready()
    # WHEN the model is there after the restore
    target.write_bytes(model_path.read_bytes())
    predictor.after_restore()
    # THEN the first request loads it, without waiting out the timer of the snapshot
    assert predictor.is_ready()


def test_after_a_restore_pooled_connections_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    closed: list[object] = []
    monkeypatch.setattr(client._endpoint.http_session, "close", lambda: closed.append(client))

    EmbeddedPredictor("s3://bucket/model.bin", s3_client=client).after_restore()
    SageMakerPredictor("jira", client).after_restore()  # any boto3 client: the same call

    assert closed == [client, client]


def test_the_default_s3_client_is_left_alone_when_never_made() -> None:
    embedded.s3_client.cache_clear()

    EmbeddedPredictor("s3://bucket/model.bin").after_restore()

    assert embedded.s3_client.cache_info().currsize == 0
