"""The local server against bodies over the function's own limit (issue 18, item 9).

The function refuses a body over MAX_BODY_BYTES (1 MiB by default) with 413; the
server used to buffer such a body whole first (up to API Gateway's 10 MB), so 24
clients sending 10 MB each grew it by 255 MB. It now answers the function's 413
from the Content-Length, before a byte of the body is read.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import pytest

from jira_priority.settings import Settings
from tests.integration.local_server import (
    Server,
    exchange,
    read_response,
    request_head,
    start_server,
    stop,
)
from tests.integration.test_local_server_hardening import assert_gateway_error, resident_mb
from tests.support.models import train_tiny_model

pytestmark = pytest.mark.integration

#: The function's default MAX_BODY_BYTES: the one definition, in the settings.
FUNCTION_LIMIT = Settings.model_fields["max_body_bytes"].default
#: One byte under API Gateway's 10 MB, which the server used to read whole.
NEARLY_TEN_MB = 10 * 1024 * 1024 - 1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    model = train_tiny_model(tmp_path_factory.mktemp("served"))
    running = start_server(model, tmp_path_factory.mktemp("log") / "serve.log")
    yield running
    stop(running)


def head_for(length: int, chunked: bool = False) -> bytes:
    framing = ("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(length))
    return request_head(headers=[("Content-Type", "text/plain"), framing], api_key=None)


def test_a_body_over_the_functions_limit_is_its_413_before_it_is_sent(server: Server) -> None:
    response = exchange(server.port, head_for(FUNCTION_LIMIT + 1), timeout=5)  # no body sent

    assert_gateway_error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert response.json()["error"]["code"] == "payload_too_large"
    assert f"the limit is {FUNCTION_LIMIT} bytes" in response.json()["error"]["message"]
    assert response.headers["connection"] == "close"


def test_the_limit_is_the_functions_setting(tmp_path: Path) -> None:
    model = train_tiny_model(tmp_path / "model")
    small = start_server(model, tmp_path / "serve.log", env={"MAX_BODY_BYTES": "2048"})
    try:
        refused = exchange(small.port, head_for(2049), timeout=5)
        accepted, _, _ = small.request(
            "POST", "/predict", b"x" * 2048, {"Content-Type": "text/plain"}, api_key=None
        )
    finally:
        stop(small)

    assert_gateway_error(refused, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert "the limit is 2048 bytes" in refused.json()["error"]["message"]
    assert accepted == HTTPStatus.OK


def send_nearly_ten_mb(port: int) -> int:
    """Send a head and as much of a 10 MB body as the server takes; the answer's status."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(head_for(NEARLY_TEN_MB))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            client.sendall(b"x" * NEARLY_TEN_MB)  # refused and closed: what the test wants
        try:
            return read_response(client).status
        except (AssertionError, ConnectionResetError):
            return 0  # the answer was lost to the reset of the unread body


def test_24_clients_sending_10_mb_each_do_not_grow_the_server(server: Server) -> None:
    before = resident_mb(server.process.pid)

    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(send_nearly_ten_mb, [server.port] * 24))
    grown = resident_mb(server.process.pid) - before

    assert grown < 50, f"the server grew {grown:.0f} MB (it grew 255 MB when it buffered them)"
    assert set(statuses) <= {HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 0}
    assert HTTPStatus.REQUEST_ENTITY_TOO_LARGE in statuses
    status, _, _ = server.request("GET", "/health", api_key=None)
    assert status == HTTPStatus.OK


def test_a_chunked_body_is_refused_before_it_is_read(server: Server) -> None:
    response = exchange(server.port, head_for(0, chunked=True), timeout=5)  # no chunk sent

    assert_gateway_error(response, HTTPStatus.LENGTH_REQUIRED)
    assert response.headers["connection"] == "close"
