"""The ASGI application: API Gateway's checks, then the function, for each request.

Everything that can be decided from the request head is decided before the
body is read: HTTP version, header limits, route, API key, framing and size.
A refused request's body is never read; its connection is closed instead. The
body is read within the request's deadline (set by the protocol when the
connection started, see ``protocol``), then the function answers within its
own timeout. The access log has the client, method, path without the query
string, status and time: never a body or a query.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from jira_priority.errors import PayloadTooLargeError
from jira_priority.http_edge import check_body_size, error_proxy_response
from training_jobs.local_api import gateway
from training_jobs.local_api.function import (
    ExecutionEnvironment,
    FunctionLoadError,
    FunctionTimeoutError,
    load_function,
)
from training_jobs.local_api.gateway import GatewayResponse
from training_jobs.local_api.options import ServeOptions

Scope = dict[str, Any]
Message = dict[str, Any]

#: The scope extension where the protocol puts the monotonic (loop) time by which
#: the whole request must have arrived.
DEADLINE_EXTENSION = "jira_priority.request_deadline"
#: Status written to the access log for a client that went away before its answer.
CLIENT_CLOSED = 499
#: Characters of a request's path written to the access log.
MAX_LOGGED_PATH = 200

access_log = logging.getLogger("training_jobs.local_api.access")
server_log = logging.getLogger("training_jobs.local_api")


def log_access(client: str, request: str, status: int, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    access_log.info('%s "%s" %s %.1f ms', client, request, status, elapsed_ms)


class LocalApi:
    """One worker's application; ``function`` is loaded at start-up when not given."""

    def __init__(self, options: ServeOptions, function: ExecutionEnvironment | None = None):
        self.options = options
        self.function = function

    def __getstate__(self) -> dict[str, Any]:
        return {"options": self.options}  # a worker process loads its own function

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.options = state["options"]
        self.function = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            started = time.perf_counter()
            status = await self._answer(scope, receive, send)
            client = (scope.get("client") or ("-",))[0]
            log_access(client, f"{scope['method']} {logged_path(scope)}", status, started)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.function is None:
                        self.function = load_function(
                            self.options.model, self.options.function_timeout
                        )
                except FunctionLoadError as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.function is not None:
                    self.function.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _answer(self, scope: Scope, receive: Any, send: Any) -> int:
        """Answer one request; returns the status for the access log."""
        options = self.options
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        has_body = any(
            name in {b"content-length", b"transfer-encoding"} and value.strip() not in {b"", b"0"}
            for name, value in headers
        )
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            return await reply(send, refusal, close=has_body or refusal.status >= 500)
        if any(name == b"transfer-encoding" for name, _ in headers):
            return await reply(send, gateway.LENGTH_REQUIRED, close=True)
        length = int(header(headers, b"content-length") or b"0")  # digits only: h11 checked
        if length > options.max_body_bytes:
            return await reply(send, gateway.REQUEST_TOO_LARGE, close=True)
        too_large = self._function_refusal(length)
        if too_large is not None:
            return await respond(send, *too_large, close=True)
        deadline = scope.get("extensions", {}).get(DEADLINE_EXTENSION)
        try:
            async with asyncio.timeout_at(deadline):
                body = await read_body(receive, self._body_limit())
        except TimeoutError:
            return await reply(send, gateway.REQUEST_TIMEOUT, close=True)
        except BodyTooLargeError:
            return await reply(send, gateway.REQUEST_TOO_LARGE, close=True)
        if body is None:
            return CLIENT_CLOSED
        return await self._invoke(scope, headers, body, send)

    def _body_limit(self) -> int:
        """The most body bytes read: API Gateway's limit, or the function's if lower."""
        own = self.function.max_body_bytes if self.function is not None else None
        return min(
            self.options.max_body_bytes, own if own is not None else self.options.max_body_bytes
        )

    def _function_refusal(self, length: int) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The function's own 413 for a body over its MAX_BODY_BYTES, known from the head.

        The function would refuse it after the whole body was buffered and copied (24
        clients sending 10 MB each grew the server by 255 MB); the answer is the same.
        """
        limit = self.function.max_body_bytes if self.function is not None else None
        if limit is None:
            return None
        try:
            check_body_size(length, limit)
        except PayloadTooLargeError as error:
            return gateway.response_parts(error_proxy_response(error))
        return None

    def _refusal(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> GatewayResponse | None:
        """What API Gateway answers from the request head alone, if it answers itself."""
        options = self.options
        if scope["http_version"] not in {"1.0", "1.1"}:
            return gateway.VERSION_NOT_SUPPORTED
        head_bytes = sum(len(name) + len(value) + 4 for name, value in headers)
        if len(headers) > options.max_header_fields or head_bytes > options.max_header_bytes:
            return gateway.HEADERS_TOO_LARGE
        if (scope["method"], scope["raw_path"].decode("latin-1")) not in gateway.ROUTES:
            return gateway.MISSING_AUTHENTICATION_TOKEN
        if not gateway.key_accepted(options.api_key, header(headers, b"x-api-key")):
            return gateway.INVALID_API_KEY
        return None

    async def _invoke(
        self, scope: Scope, headers: list[tuple[bytes, bytes]], body: bytes, send: Any
    ) -> int:
        assert self.function is not None  # loaded at start-up
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        given = header(headers, b"x-api-key")
        event = gateway.build_event(
            scope["method"],
            target,
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
            body,
            (scope.get("client") or ("127.0.0.1",))[0],
            given.decode("latin-1") if given else None,
        )
        try:
            status, answer_headers, payload = gateway.response_parts(
                await self.function.invoke(event)
            )
        except FunctionTimeoutError:
            server_log.error("the function did not answer within %.0f s", self.function.timeout)
            return await reply(send, gateway.FUNCTION_FAILED)
        except Exception as exc:  # noqa: BLE001 (what API Gateway does for a crashed function)
            server_log.error("the function failed: %s", type(exc).__name__)
            return await reply(send, gateway.FUNCTION_FAILED)
        return await respond(send, status, answer_headers, payload)


def logged_path(scope: Scope) -> str:
    """The path as the client sent it, percent-encoded and cut short.

    Never the decoded ``path``: its ``%0D%0A`` would start a forged line in the log.
    """
    raw: str = scope["raw_path"].decode("ascii", errors="backslashreplace")
    return raw if len(raw) <= MAX_LOGGED_PATH else raw[:MAX_LOGGED_PATH] + "..."


def header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The last value of a (lower-case) header, as API Gateway keeps it."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return found


class BodyTooLargeError(Exception):
    """More body arrived than the limit (a chunked body, which has no Content-Length)."""


async def read_body(receive: Any, limit: int) -> bytes | None:
    """The whole body, or None if the client went away first.

    BodyTooLargeError as soon as more than ``limit`` bytes have arrived: the rest is
    never read.
    """
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def reply(send: Any, response: GatewayResponse, close: bool = False) -> int:
    status, headers, body = response.parts()
    return await respond(send, status, list(headers.items()), body, close)


async def respond(
    send: Any, status: int, headers: list[tuple[str, str]], body: bytes, close: bool = False
) -> int:
    """Send one complete answer; ``close`` ends the connection (an unread body follows)."""
    raw = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
        if name.lower() not in {"content-length", "connection", "transfer-encoding"}
    ]
    raw.append((b"Content-Length", str(len(body)).encode()))
    if close:
        raw.append((b"Connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
    return status
