"""The local server's application (training_jobs.local_api.asgi) driven in-process, no sockets.

A scripted client stands in for uvicorn: it hands over one request and
records the answer, and says whether the body was ever asked for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import pytest
import yaml
from training_jobs.local_api.asgi import DEADLINE_EXTENSION, LocalApi
from training_jobs.local_api.function import ExecutionEnvironment
from training_jobs.local_api.gateway import ROUTES
from training_jobs.local_api.options import ServeOptions

from tests.support.events import REPO_ROOT

API_KEY = "unit-key"
TICKET_TEXT = "SECRET-TICKET-TEXT the namenode is down"


@dataclass
class Exchange:
    """One request's messages in, the answer's messages out."""

    body_parts: list[bytes]
    delay_between_parts: float = 0.0
    body_read: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        self.body_read = True
        if self.delay_between_parts:
            await asyncio.sleep(self.delay_between_parts)
        part = self.body_parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(self.body_parts)}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode().lower(): v.decode() for k, v in self.sent[0]["headers"]}

    def json(self) -> Any:
        return json.loads(self.sent[1]["body"])


def answer_ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def environment(handler: Any = answer_ok, timeout: float = 5.0) -> ExecutionEnvironment:
    return ExecutionEnvironment(handler, predictor=None, timeout=timeout)  # type: ignore[arg-type]


def scope(
    method: str = "POST",
    path: str = "/predict",
    headers: list[tuple[str, str]] | None = None,
    api_key: str | None = API_KEY,
    deadline: float | None = None,
) -> dict[str, Any]:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers or []]
    if api_key is not None:
        raw.append((b"x-api-key", api_key.encode()))
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "extensions": {DEADLINE_EXTENSION: deadline} if deadline is not None else {},
    }


def run(api: LocalApi, request: dict[str, Any], exchange: Exchange) -> Exchange:
    async def go() -> None:
        try:
            await api(request, exchange.receive, exchange.send)
        finally:
            if api.function is not None:
                api.function.close()

    asyncio.run(go())
    return exchange


def local_api(handler: Any = answer_ok, timeout: float = 5.0, **options: Any) -> LocalApi:
    return LocalApi(
        ServeOptions(model="unused", api_key=API_KEY, **options), environment(handler, timeout)
    )


def test_a_function_over_its_timeout_is_answered_502_in_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The function runs until the test releases it, after the answer: the answer cannot
    # have waited for it (no clock is read; the 60 s only stops a broken server hanging).
    release, finished = threading.Event(), threading.Event()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        release.wait(timeout=60)
        finished.set()
        return answer_ok(event, context)

    try:
        exchange = run(local_api(slow, timeout=0.2), scope(), Exchange([b"{}"]))
        answered_while_running = not finished.is_set()
    finally:
        release.set()

    assert answered_while_running
    assert exchange.status == HTTPStatus.BAD_GATEWAY
    assert exchange.json() == {"error": {"code": "DEFAULT_5XX", "message": "Internal server error"}}
    assert "did not answer within" in caplog.text


def test_a_crashing_function_is_502_and_its_message_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise ValueError(f"cannot parse {event['body']}")

    with caplog.at_level(logging.INFO):
        exchange = run(local_api(crash), scope(), Exchange([TICKET_TEXT.encode()]))

    assert exchange.status == HTTPStatus.BAD_GATEWAY
    assert "ValueError" in caplog.text
    assert "SECRET" not in caplog.text


@pytest.mark.parametrize("api_key", [None, "wrong"])
def test_without_the_key_the_body_is_never_read(api_key: str | None) -> None:
    request = scope(headers=[("Content-Length", str(10 * 1024 * 1024))], api_key=api_key)

    exchange = run(local_api(), request, Exchange([b"x"]))

    assert exchange.status == HTTPStatus.FORBIDDEN
    assert not exchange.body_read
    assert exchange.headers["connection"] == "close"


def test_a_body_over_the_limit_is_413_without_being_read() -> None:
    request = scope(headers=[("Content-Length", "1025")])

    exchange = run(local_api(max_body_bytes=1024), request, Exchange([b"x" * 1025]))

    assert exchange.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert exchange.json()["error"]["code"] == "request_too_large"
    assert not exchange.body_read


def test_a_body_still_arriving_at_the_deadline_is_408() -> None:
    async def go() -> Exchange:
        deadline = asyncio.get_running_loop().time() + 0.2
        exchange = Exchange([b"{", b'"text"', b"}"], delay_between_parts=0.15)
        api = local_api()
        await api(
            scope(headers=[("Content-Length", "9")], deadline=deadline),
            exchange.receive,
            exchange.send,
        )
        assert api.function is not None
        api.function.close()
        return exchange

    exchange = asyncio.run(go())

    assert exchange.status == HTTPStatus.REQUEST_TIMEOUT
    assert exchange.headers["connection"] == "close"


def test_more_than_100_header_fields_is_431() -> None:
    request = scope(method="GET", path="/health", headers=[(f"x-{n}", "1") for n in range(100)])

    exchange = run(local_api(), request, Exchange([b""]))

    assert exchange.status == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    assert exchange.json()["error"]["code"] == "DEFAULT_4XX"


def test_the_access_log_has_method_path_and_status_only(caplog: pytest.LogCaptureFixture) -> None:
    request = scope(headers=[("Content-Length", str(len(TICKET_TEXT)))])
    request["query_string"] = b"ticket=SECRET"

    with caplog.at_level(logging.INFO, logger="training_jobs.local_api.access"):
        run(local_api(), request, Exchange([TICKET_TEXT.encode()]))

    (line,) = [r.getMessage() for r in caplog.records if r.name.endswith(".access")]
    assert line.startswith('127.0.0.1 "POST /predict" 200 ')
    assert "SECRET" not in caplog.text


def test_a_path_cannot_forge_a_line_in_the_access_log(caplog: pytest.LogCaptureFixture) -> None:
    request = scope(method="GET", path='/health\r\n10.0.0.9 "POST /predict" 200 1.0 ms')
    request["raw_path"] = b"/health%0D%0A10.0.0.9%20%22POST%20/predict%22%20200%201.0%20ms"

    with caplog.at_level(logging.INFO, logger="training_jobs.local_api.access"):
        run(local_api(), request, Exchange([b""]))

    (line,) = [r.getMessage() for r in caplog.records if r.name.endswith(".access")]
    assert line.startswith('127.0.0.1 "GET /health%0D%0A10.0.0.9%20%22POST')
    assert "\n" not in line
    assert "\r" not in line


def test_a_pickled_app_keeps_its_options_and_loads_its_own_function() -> None:
    api = local_api()
    copy = pickle.loads(pickle.dumps(api))  # noqa: S301 - what a worker process receives
    assert api.function is not None
    api.function.close()

    assert copy.options == api.options
    assert copy.function is None


class TagBlindLoader(yaml.SafeLoader):
    """Reads template.yaml with its CloudFormation tags (!Ref, !Sub ...) as nulls."""


TagBlindLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_the_routes_are_the_templates() -> None:
    with (REPO_ROOT / "template.yaml").open() as handle:
        template = yaml.load(handle, Loader=TagBlindLoader)  # noqa: S506 - SafeLoader subclass
    events = template["Resources"]["PredictFunction"]["Properties"]["Events"].values()

    declared = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in events
        if event["Type"] == "Api"
    }

    assert declared == ROUTES
