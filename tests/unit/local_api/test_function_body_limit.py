"""The local server refuses a body over the function's own MAX_BODY_BYTES before reading it."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import pytest
from training_jobs.local_api.asgi import BodyTooLargeError, LocalApi, read_body
from training_jobs.local_api.function import ExecutionEnvironment
from training_jobs.local_api.options import ServeOptions

from tests.unit.local_api.test_local_api import API_KEY, Exchange, answer_ok, run, scope

FUNCTION_LIMIT = 4096


def api_with_function_limit(limit: int | None = FUNCTION_LIMIT) -> LocalApi:
    function = ExecutionEnvironment(answer_ok, predictor=None, timeout=5, max_body_bytes=limit)  # type: ignore[arg-type]
    return LocalApi(ServeOptions(model="unused", api_key=API_KEY), function)


def test_a_content_length_over_the_functions_limit_is_its_413_and_never_read() -> None:
    request = scope(headers=[("Content-Length", str(FUNCTION_LIMIT + 1))])

    exchange = run(api_with_function_limit(), request, Exchange([b"x" * (FUNCTION_LIMIT + 1)]))

    assert exchange.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert exchange.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"The request body is {FUNCTION_LIMIT + 1} bytes; "
            f"the limit is {FUNCTION_LIMIT} bytes.",
        }
    }
    assert exchange.headers["content-type"] == "application/json"
    assert exchange.headers["connection"] == "close"
    assert not exchange.body_read


def test_a_body_at_the_functions_limit_reaches_the_function() -> None:
    request = scope(headers=[("Content-Length", str(FUNCTION_LIMIT))])

    exchange = run(api_with_function_limit(), request, Exchange([b"x" * FUNCTION_LIMIT]))

    assert exchange.status == HTTPStatus.OK


def test_reading_stops_as_soon_as_the_body_passes_the_limit() -> None:
    parts = [b"x" * 1000] * 100  # 100 kB promised, the limit is 4 kB
    exchange = Exchange(list(parts))

    async def read() -> Any:
        return await read_body(exchange.receive, FUNCTION_LIMIT)

    with pytest.raises(BodyTooLargeError):
        asyncio.run(read())
    assert len(exchange.body_parts) == 100 - 5  # 5 parts read: 5,000 bytes > 4,096
