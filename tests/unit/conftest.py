"""Unit tests never touch the network (every socket is refused); the tiny model's fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3  # noqa: F401 - imported before sockets close: it probes IPv6 support at import
from pytest_socket import disable_socket, enable_socket

from jira_priority.predictors import embedded
from tests.support.models import train_tiny_model


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real fastText model (tests/support/models.py), trained once per run."""
    return train_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def fresh_model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The embedded backend's process cache, made afresh under the test's own directory."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(embedded.tempfile, "tempdir", str(root))
    embedded.model_cache_dir.cache_clear()
    yield
    embedded.model_cache_dir.cache_clear()
