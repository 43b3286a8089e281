"""Unit tests never touch the network: every socket is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import urllib3  # noqa: F401 - imported before sockets close: it probes IPv6 support at import
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
