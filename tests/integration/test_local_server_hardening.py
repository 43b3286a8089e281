"""The local server against hostile and careless clients (issue 9, items 7 to 11).

Each test starts from what a client can send on a raw socket and checks what
the server answers and what it writes to its log.
"""

from __future__ import annotations

import random
import socket
import struct
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import pytest

from jira_priority.labels import Priority
from tests.integration.local_server import (
    API_KEY,
    RawResponse,
    Server,
    exchange,
    read_response,
    request_head,
    start_server,
    stop,
)
from tests.support.models import PROBES, train_tiny_model

pytestmark = pytest.mark.integration

#: A marker no log line and no answer may ever contain: it stands for ticket text.
TICKET_TEXT = "SECRET-TICKET-TEXT the datanode lost every block"
REQUEST_TIMEOUT = 2


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def server(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("hardening-log") / "serve.log"
    running = start_server(model, log, "--api-key", API_KEY)
    yield running
    stop(running)


def assert_gateway_error(response: RawResponse, status: HTTPStatus) -> None:
    """The status, and the project's JSON error body: never HTML, never the request's text."""
    assert response.status_line.startswith(f"HTTP/1.1 {int(status)} ")
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert b"<" not in response.body


def health_seconds(server: Server) -> float:
    started = time.monotonic()
    status, _, _ = server.request("GET", "/health")
    assert status == HTTPStatus.OK
    return time.monotonic() - started


def thread_count(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


# --- 7. malformed requests get the JSON error shape, never HTML ----------------------


def test_an_unknown_method_is_answered_like_an_unrouted_request(server: Server) -> None:
    response = exchange(server.port, request_head("BREW", "/predict"))

    assert_gateway_error(response, HTTPStatus.FORBIDDEN)
    assert response.json()["error"]["code"] == "missing_authentication_token"


def test_a_header_over_64_kb_is_431_json(server: Server) -> None:
    head = request_head("GET", "/health", [("X-Padding", "a" * (65 * 1024))])

    response = exchange(server.port, head)

    assert_gateway_error(response, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)


def test_more_than_100_headers_is_431_json(server: Server) -> None:
    head = request_head("GET", "/health", [(f"X-Field-{n}", "1") for n in range(101)])

    response = exchange(server.port, head)

    assert_gateway_error(response, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/1.7"])
def test_an_unsupported_http_version_is_505_json(server: Server, version: str) -> None:
    response = exchange(server.port, request_head("GET", "/health", version=version))

    assert_gateway_error(response, HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)


@pytest.mark.parametrize("version", ["HTTP/x.y", "HTTPS/1.1"])
def test_a_malformed_request_line_is_400_json(server: Server, version: str) -> None:
    response = exchange(server.port, request_head("GET", "/health", version=version))

    assert_gateway_error(response, HTTPStatus.BAD_REQUEST)


def test_a_malformed_body_behind_a_valid_head_is_400_json_without_a_traceback(
    server: Server,
) -> None:
    head = request_head(headers=[("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")])

    response = exchange(server.port, head + b"4\r\ncrash\r\n0\r\n\r\n")  # 5 bytes, not 4

    assert_gateway_error(response, HTTPStatus.BAD_REQUEST)
    time.sleep(0.5)
    assert "Traceback" not in server.logged()


def mutated_requests(count: int, seed: int = 9) -> list[bytes]:
    """A valid request, damaged at random: bytes flipped, inserted, dropped, cut short."""
    rng = random.Random(seed)
    body = b'{"text": "' + PROBES[Priority.MAJOR].encode() + b'"}'
    valid = (
        request_head(
            headers=[("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        + body
    )
    alphabet = b'\r\n :\t\x00\x7f\xff0123456789-_+;,=/HTTPGETPOSTabc"'
    requests = []
    for _ in range(count):
        raw = bytearray(valid)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(raw))
            action = rng.choice(("flip", "insert", "delete", "cut"))
            if action == "flip":
                raw[at] = rng.choice(alphabet)
            elif action == "insert":
                raw[at:at] = bytes(rng.choices(alphabet, k=rng.randint(1, 8)))
            elif action == "delete":
                del raw[at : at + rng.randint(1, 8)]
            else:
                del raw[at:]
        requests.append(bytes(raw))
    return requests


def send_and_read_all(port: int, raw: bytes) -> bytes:
    """Send the bytes, then read everything the server sends until it closes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        try:
            client.sendall(raw)
            while chunk := client.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return received


def test_damaged_requests_each_get_a_json_answer_never_html_or_a_traceback(
    model: Path, tmp_path: Path
) -> None:
    fuzzed = start_server(model, tmp_path / "serve.log", "--request-timeout", "1")
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(
                pool.map(lambda raw: send_and_read_all(fuzzed.port, raw), mutated_requests(150))
            )
        time.sleep(0.5)
        log = fuzzed.logged()
    finally:
        stop(fuzzed)

    for received in answers:
        # Cut short, a request is answered 408 at its deadline; it is never left hanging.
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 "), received
        assert b"content-type: application/json" in head.lower(), received
        assert b"<" not in body
    assert "Traceback" not in log


# --- 8. no ticket text in the logs or in error answers --------------------------------


def test_a_body_longer_than_its_content_length_is_never_logged_or_echoed(
    server: Server,
) -> None:
    body = f'{{"text": "{TICKET_TEXT}"}}\r\n'
    # A client that counts characters instead of UTF-8 bytes announces too few; the
    # rest of the body then reaches the server as if it were the next request.
    head = request_head(headers=[("Content-Type", "application/json"), ("Content-Length", "10")])
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(head + body.encode())
        first = read_response(client)
        rest = b""
        client.settimeout(3)
        try:
            while chunk := client.recv(65536):
                rest += chunk
        except TimeoutError:
            pass

    assert first.status == HTTPStatus.BAD_REQUEST  # the function saw 10 bytes: not JSON
    assert b"SECRET" not in first.body + rest
    assert b"<" not in rest
    time.sleep(0.2)
    assert "SECRET" not in server.logged()


def test_the_access_log_has_no_query_string(server: Server) -> None:
    status, _, _ = server.request("GET", "/health?ticket=SECRET-QUERY")

    assert status == HTTPStatus.OK
    time.sleep(0.2)
    log = server.logged()
    assert "/health" in log
    assert "SECRET-QUERY" not in log


# --- 9. clients that drop half-sent requests ------------------------------------------


def drop_half_sent_request(port: int) -> None:
    """Connect, send half a request, and reset the connection (SO_LINGER 0: an RST)."""
    try:
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return  # refused by a connection cap: fine
    try:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.sendall(
            request_head(headers=[("Content-Type", "text/plain"), ("Content-Length", "4000")])
            + TICKET_TEXT.encode()
        )
    except OSError:
        pass
    finally:
        client.close()


def test_a_thousand_dropped_half_requests_leave_no_traceback_and_health_fast(
    server: Server,
) -> None:
    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(lambda _: drop_half_sent_request(server.port), range(1000)))
    time.sleep(1)  # connections accepted in the burst may still be closing (or refused)

    assert health_seconds(server) < 1.0
    time.sleep(0.5)
    log = server.logged()
    assert "Traceback" not in log
    assert "SECRET" not in log


# --- 10. limits: threads, connections, timeouts, unread bodies -------------------------


def test_slow_connections_do_not_each_get_a_thread(server: Server) -> None:
    clients = []
    try:
        for _ in range(200):  # under the default cap of 256 connections
            client = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            client.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")  # and then nothing
            clients.append(client)
        time.sleep(0.5)

        assert thread_count(server.process.pid) < 32
        assert health_seconds(server) < 1.0
    finally:
        for client in clients:
            client.close()


def test_connections_over_the_cap_get_a_json_answer_and_others_recover(
    model: Path, tmp_path: Path
) -> None:
    capped = start_server(model, tmp_path / "serve.log", "--max-connections", "4")
    clients = []
    try:
        for _ in range(4):
            clients.append(socket.create_connection(("127.0.0.1", capped.port), timeout=5))
        time.sleep(0.2)

        over = exchange(capped.port, request_head("GET", "/health", api_key=None))

        assert_gateway_error(over, HTTPStatus.SERVICE_UNAVAILABLE)
        for client in clients:
            client.close()
        time.sleep(0.2)
        status, _, _ = capped.request("GET", "/health", api_key=None)
        assert status == HTTPStatus.OK
    finally:
        stop(capped)


def test_the_request_timeout_does_not_restart_with_every_byte(model: Path, tmp_path: Path) -> None:
    timed = start_server(model, tmp_path / "serve.log", "--request-timeout", str(REQUEST_TIMEOUT))
    try:
        with socket.create_connection(("127.0.0.1", timed.port), timeout=10) as client:
            started = time.monotonic()
            client.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
            answer = b""
            try:
                for _ in range(40):  # one header byte every 0.25 s: 10 s in all
                    client.sendall(b"X")
                    time.sleep(0.25)
            except OSError:
                pass  # the server closed the connection
            client.settimeout(2)
            try:
                while chunk := client.recv(65536):
                    answer += chunk
            except (TimeoutError, ConnectionResetError):
                pass
            elapsed = time.monotonic() - started
    finally:
        stop(timed)

    assert elapsed < REQUEST_TIMEOUT + 3
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"error"' in answer


def test_a_slow_body_is_cut_at_the_request_timeout(model: Path, tmp_path: Path) -> None:
    timed = start_server(model, tmp_path / "serve.log", "--request-timeout", str(REQUEST_TIMEOUT))
    try:
        with socket.create_connection(("127.0.0.1", timed.port), timeout=10) as client:
            started = time.monotonic()
            client.sendall(
                request_head(headers=[("Content-Type", "text/plain"), ("Content-Length", "100")])
            )
            try:
                for _ in range(40):
                    client.sendall(b"x")
                    time.sleep(0.25)
            except OSError:
                pass
            response = read_response(client)
            elapsed = time.monotonic() - started
    finally:
        stop(timed)

    assert elapsed < REQUEST_TIMEOUT + 3
    assert_gateway_error(response, HTTPStatus.REQUEST_TIMEOUT)


def test_pipelined_requests_on_a_timed_connection_are_all_answered(
    model: Path, tmp_path: Path
) -> None:
    timed = start_server(model, tmp_path / "serve.log", "--request-timeout", str(REQUEST_TIMEOUT))
    body = b'{"text": "' + PROBES[Priority.TRIVIAL].encode() + b'"}'
    one = request_head(
        headers=[("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        api_key=None,
    )
    try:
        with socket.create_connection(("127.0.0.1", timed.port), timeout=10) as client:
            client.sendall((one + body) * 3)
            answers = [read_response(client) for _ in range(3)]
            time.sleep(REQUEST_TIMEOUT + 0.5)  # each answer restarted the deadline: now idle
            try:
                client.sendall(one + body)
                closed = client.recv(1) == b""
            except ConnectionResetError:
                closed = True
    finally:
        stop(timed)

    assert [a.status for a in answers] == [HTTPStatus.OK] * 3
    assert all(a.json()["priority"] == "Trivial" for a in answers)
    assert closed  # an idle keep-alive connection is closed, not answered 408


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmRSS:"))
    return int(kb) / 1024


def test_requests_pipelined_without_reading_the_answers_are_not_buffered(server: Server) -> None:
    # GIVEN a client that sends GET /health over and over on one connection for 3 s
    # and never reads an answer (each answer used to read 256 KiB more: +100 MB)
    one = request_head("GET", "/health")
    before = resident_mb(server.process.pid)
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.setblocking(False)
        started = time.monotonic()
        while time.monotonic() - started < 3:
            try:
                sent += client.send(one * 10_000)
            except BlockingIOError:
                time.sleep(0.05)
        grown = resident_mb(server.process.pid) - before

    assert grown < 20, f"the server grew {grown:.0f} MB while {sent >> 20} MB were sent"
    assert health_seconds(server) < 1


@pytest.mark.parametrize("api_key", [None, "wrong-key"])
def test_a_huge_body_without_a_valid_key_is_refused_before_it_is_sent(
    server: Server, api_key: str | None
) -> None:
    head = request_head(
        headers=[("Content-Type", "text/plain"), ("Content-Length", str(10 * 1024 * 1024))],
        api_key=api_key,
    )

    started = time.monotonic()
    response = exchange(server.port, head, timeout=5)  # no body is ever sent

    assert time.monotonic() - started < 2
    assert_gateway_error(response, HTTPStatus.FORBIDDEN)
    assert response.headers["connection"] == "close"


def test_a_body_over_the_gateway_limit_is_refused_before_it_is_sent(server: Server) -> None:
    head = request_head(
        headers=[("Content-Type", "text/plain"), ("Content-Length", str(11 * 1024 * 1024))]
    )

    response = exchange(server.port, head, timeout=5)

    assert_gateway_error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def test_the_api_key_can_come_from_the_environment(model: Path, tmp_path: Path) -> None:
    keyed = start_server(model, tmp_path / "serve.log", env={"JIRA_PRIORITY_API_KEY": "env-key"})
    try:
        refused, _, _ = keyed.post_json({"text": PROBES[Priority.MINOR]}, api_key=None)
        accepted, _, body = keyed.post_json({"text": PROBES[Priority.MINOR]}, api_key="env-key")
    finally:
        stop(keyed)

    assert refused == HTTPStatus.FORBIDDEN
    assert accepted == HTTPStatus.OK
    assert body["priority"] == "Minor"
    assert "env-key" not in keyed.logged()


def test_two_worker_processes_each_answer(model: Path, tmp_path: Path) -> None:
    pooled = start_server(model, tmp_path / "serve.log", "--workers", "2")
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(
                    lambda text: pooled.post_json({"text": text}, api_key=None)[2]["priority"],
                    [PROBES[p] for p in PROBES] * 4,
                )
            )
        children = [
            stat
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _parent_pid(stat) == pooled.process.pid
        ]
    finally:
        stop(pooled)

    assert len(children) >= 2
    assert answers == [p.value for p in PROBES] * 4


def _parent_pid(stat: Path) -> int | None:
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1])


# --- 11. strict framing ---------------------------------------------------------------


@pytest.mark.parametrize(
    "lengths",
    [["13", "14"], ["1_3"], ["+13"], ["13 13"], ["0x0d"]],
    ids=["two-different", "underscore", "plus-sign", "two-in-one", "hex"],
)
def test_a_loose_content_length_is_400_json(server: Server, lengths: list[str]) -> None:
    head = request_head(
        headers=[("Content-Type", "text/plain")] + [("Content-Length", n) for n in lengths]
    )

    response = exchange(server.port, head + b"crash the server")

    assert_gateway_error(response, HTTPStatus.BAD_REQUEST)
    assert response.headers["connection"] == "close"
