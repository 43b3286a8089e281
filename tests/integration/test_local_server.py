"""The local server (``python -m training_jobs serve``) against real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import pytest
from training_jobs.local_api.gateway import build_event, response_parts

from jira_priority.labels import Priority
from jira_priority.model_files import file_digest
from tests.integration.local_server import (
    API_KEY,
    REPO_ROOT,
    STARTUP_SECONDS,
    Server,
    start_server,
    stop,
)
from tests.support.models import PROBES, train_tiny_model

pytestmark = pytest.mark.integration

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def server(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("server-log") / "serve.log"
    running = start_server(model, log, "--api-key", API_KEY, "--max-body-bytes", str(MAX_BODY))
    yield running
    stop(running)


def test_a_ticket_gets_the_priority_probability_and_ranking_of_the_model(
    server: Server,
) -> None:
    status, headers, body = server.post_json(
        {"title": "Cluster outage", "description": PROBES[Priority.BLOCKER], "k": 3}
    )

    assert status == HTTPStatus.OK
    assert headers["Content-Type"] == "application/json"
    assert body["priority"] == "Blocker"
    assert body["label"] == "__label__6"
    assert body["probability"] == body["ranking"][0]["probability"] > 0.5
    assert len(body["ranking"]) == 3
    assert body["model"] == f"model.bin@sha256:{file_digest(server.model)[:12]}"


def test_a_batch_is_answered_in_order(server: Server) -> None:
    order = [Priority.TRIVIAL, Priority.CRITICAL, Priority.MINOR]

    status, _, body = server.post_json({"tickets": [{"text": PROBES[p]} for p in order]})

    assert status == HTTPStatus.OK
    assert [p["priority"] for p in body["predictions"]] == [p.value for p in order]


def test_text_plain_is_accepted(server: Server) -> None:
    status, _, body = server.request(
        "POST", "/predict", PROBES[Priority.TRIVIAL], {"Content-Type": "text/plain"}
    )

    assert status == HTTPStatus.OK
    assert json.loads(body)["priority"] == "Trivial"


def test_health_reports_the_loaded_model(server: Server) -> None:
    status, _, body = server.request("GET", "/health")

    assert status == HTTPStatus.OK
    health = json.loads(body)
    assert health["backend"] == "embedded"
    assert health["ready"] is True


@pytest.mark.parametrize("api_key", [None, "wrong-key"])
def test_without_the_api_key_api_gateway_forbids(server: Server, api_key: str | None) -> None:
    status, headers, body = server.post_json({"text": "crash"}, api_key=api_key)

    assert status == HTTPStatus.FORBIDDEN
    assert body == {"error": {"code": "invalid_api_key", "message": "Forbidden"}}
    assert headers["Content-Type"] == "application/json"
    assert headers["x-amzn-ErrorType"] == "ForbiddenException"


@pytest.mark.parametrize(("method", "path"), [("GET", "/predict"), ("POST", "/nowhere")])
def test_routes_outside_the_template_never_reach_the_function(
    server: Server, method: str, path: str
) -> None:
    status, headers, body = server.request(method, path)

    assert status == HTTPStatus.FORBIDDEN
    assert json.loads(body) == {
        "error": {
            "code": "missing_authentication_token",
            "message": "Missing Authentication Token",
        }
    }
    assert headers["Content-Type"] == "application/json"


def test_invalid_json_is_400_with_the_error_shape(server: Server) -> None:
    status, _, body = server.request(
        "POST", "/predict", "{not json", {"Content-Type": "application/json"}
    )

    assert status == HTTPStatus.BAD_REQUEST
    assert json.loads(body)["error"]["code"] == "invalid_request"


def test_no_words_to_classify_is_400(server: Server) -> None:
    status, _, body = server.post_json({"text": "!!! ..."})

    assert status == HTTPStatus.BAD_REQUEST
    assert body == {"error": {"code": "invalid_request", "message": "ticket: no words to classify"}}


def test_other_content_types_are_415(server: Server) -> None:
    status, _, body = server.request(
        "POST", "/predict", "<ticket/>", {"Content-Type": "application/xml"}
    )

    assert status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert json.loads(body)["error"]["code"] == "unsupported_media_type"


def test_a_body_over_the_bound_is_413_without_being_read(server: Server) -> None:
    status, headers, body = server.request(
        "POST", "/predict", "x" * (MAX_BODY + 1), {"Content-Type": "text/plain"}
    )

    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert json.loads(body) == {
        "error": {"code": "request_too_large", "message": "Request Too Long"}
    }
    assert headers["Content-Type"] == "application/json"
    assert headers["Connection"] == "close"


def test_an_oversized_body_announced_with_expect_100_is_refused_before_it_is_sent(
    server: Server,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            + f"x-api-key: {API_KEY}\r\nContent-Length: {MAX_BODY + 1}\r\n".encode()
            + b"Expect: 100-continue\r\n\r\n"
        )
        chunks = []
        while chunk := client.recv(4096):  # the server closes the connection after answering
            chunks.append(chunk)
        answer = b"".join(chunks).decode()

    head, _, body = answer.partition("\r\n\r\n")
    assert answer.startswith("HTTP/1.1 413 ")
    assert "\r\nContent-Type: application/json\r\n" in head + "\r\n"
    assert json.loads(body) == {
        "error": {"code": "request_too_large", "message": "Request Too Long"}
    }


def test_a_chunked_body_is_411_in_the_default_4xx_shape(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            + f"x-api-key: {API_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            + b"5\r\ncrash\r\n0\r\n\r\n"
        )
        chunks = []
        while chunk := client.recv(4096):  # the server closes the connection after answering
            chunks.append(chunk)
        answer = b"".join(chunks).decode()

    _, _, body = answer.partition("\r\n\r\n")
    assert answer.startswith("HTTP/1.1 411 ")
    assert json.loads(body) == {
        "error": {"code": "DEFAULT_4XX", "message": "Send a Content-Length header."}
    }


def test_concurrent_clients_are_all_answered(server: Server) -> None:
    tickets = [PROBES[p] for p in PROBES] * 8

    def classify(text: str) -> str:
        status, _, body = server.post_json({"text": text})
        assert status == HTTPStatus.OK
        return str(body["priority"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(classify, tickets))

    assert answers == [p.value for p in PROBES] * 8


def test_a_stalled_client_does_not_block_others(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as stalled:
        stalled.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        status, _, body = server.post_json({"text": PROBES[Priority.MAJOR]})

    assert status == HTTPStatus.OK
    assert body["priority"] == "Major"
    assert time.monotonic() - started < 5


def test_without_a_configured_key_no_key_is_needed(model: Path, tmp_path: Path) -> None:
    keyless = start_server(model, tmp_path / "serve.log")
    try:
        status, _, body = keyless.post_json({"text": PROBES[Priority.MINOR]}, api_key=None)
    finally:
        stop(keyless)

    assert status == HTTPStatus.OK
    assert body["priority"] == "Minor"


def test_a_missing_model_stops_the_server_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "training_jobs", "serve", "--model", str(tmp_path / "no.bin"),
         "--port", "0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"serve: cannot load the model {tmp_path / 'no.bin'}: {tmp_path / 'no.bin'} does not exist"
    )
    assert "Traceback" not in result.stderr


def test_the_event_is_the_rest_proxy_shape() -> None:
    event = build_event(
        "POST",
        "/predict?debug=1&debug=2",
        [("Content-Type", "text/plain"), ("X-Multi", "a"), ("X-Multi", "b")],
        b"\xff\xfe",
        "127.0.0.1",
        "k",
    )

    assert event["httpMethod"] == "POST"
    assert event["resource"] == event["path"] == "/predict"
    assert event["headers"]["X-Multi"] == "b"
    assert event["multiValueHeaders"]["X-Multi"] == ["a", "b"]
    assert event["queryStringParameters"] == {"debug": "2"}
    assert event["multiValueQueryStringParameters"] == {"debug": ["1", "2"]}
    assert event["isBase64Encoded"] is True  # bytes that are not UTF-8 travel as base64
    assert event["requestContext"]["identity"]["apiKey"] == "k"
    assert event["requestContext"]["stage"] == "local"


def test_proxy_results_become_status_headers_and_body() -> None:
    status, headers, body = response_parts(
        {
            "statusCode": 503,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Retry-After": ["5"]},
            "body": '{"error": {}}',
            "isBase64Encoded": False,
        }
    )

    assert status == 503
    assert ("Retry-After", "5") in headers
    assert ("Content-Type", "application/json") in headers
    assert body == b'{"error": {}}'
