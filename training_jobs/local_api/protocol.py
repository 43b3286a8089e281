"""The connection side: uvicorn's h11 protocol with the limits it lacks, answering in JSON.

uvicorn takes its HTTP protocol as a class (``Config(http=...)``); this one
adds to its h11 protocol:

- a cap on the connections a worker holds: one more is answered 503 in the
  project's error shape and closed;
- a deadline for each request: from the connection's start (or the end of the
  previous answer) the whole request must arrive within ``request_timeout``.
  It is not restarted by each byte, so a client trickling its head one byte at
  a time is answered 408 and closed. The protocol covers the head; it hands the
  same deadline to the application (a scope extension), which covers the body;
- the answers h11 refuses a request with (a malformed request line or header,
  an oversized head, a bad or conflicting Content-Length) in the JSON error
  shape, never with text taken from the request, and the connection closed
  gracefully: the answer is sent, then the unread rest is discarded for a
  moment, so that closing does not reset the answer away.

Nothing here logs a byte of the request.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any, cast

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from training_jobs.local_api import gateway
from training_jobs.local_api.asgi import DEADLINE_EXTENSION, LocalApi
from training_jobs.local_api.gateway import GatewayResponse

#: How long a refused connection is kept open, its input discarded, after the answer.
LINGER_SECONDS = 1.0

access_log = logging.getLogger("training_jobs.local_api.access")


class _RecordingConnection(h11.Connection):
    """An h11 connection that keeps the last protocol error, for the answer's status."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


def encode_answer(response: GatewayResponse) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection."""
    status, headers, body = response.parts()
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _refusal_for(error: h11.RemoteProtocolError | None) -> GatewayResponse:
    if error is not None and error.error_status_hint == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE:
        return gateway.HEADERS_TOO_LARGE
    return gateway.MALFORMED_REQUEST


class _PipelineFlowControl(FlowControl):
    """Reading stays paused while a request that has fully arrived is answered.

    uvicorn's ``receive()`` resumes reading even when the whole request is in, so
    each pipelined request read one more 256 KiB chunk into h11's buffer: a
    client sending requests without reading the answers grew the worker by
    100 MB in seconds. Reading resumes once the answer is complete.
    """

    def __init__(self, transport: asyncio.Transport, conn: h11.Connection) -> None:
        super().__init__(transport)
        self._conn = conn

    def resume_reading(self) -> None:
        if self._conn.their_state is h11.DONE and self._conn.our_state is not h11.DONE:
            return
        super().resume_reading()


class GatewayH11Protocol(H11Protocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        app = config.app
        if not isinstance(app, LocalApi):
            raise TypeError("GatewayH11Protocol serves a LocalApi")
        self.options = app.options
        self.conn = _RecordingConnection(
            h11.SERVER, max_incomplete_event_size=self.options.max_header_bytes
        )
        self._deadline = 0.0
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._seen_cycle: object = None
        self._received_since_answer = False
        self._over_cap = False  # never accepted: not among self.connections
        self._answered_refusal = False

    # --- connection life ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if len(self.connections) >= self.options.max_connections:
            self._over_cap = True
            self.transport = cast(asyncio.Transport, transport)
            self._refuse(gateway.TOO_MANY_CONNECTIONS)
            return
        super().connection_made(transport)  # type: ignore[arg-type]
        self.flow = _PipelineFlowControl(self.transport, self.conn)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_deadline()
        if not self._over_cap:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._answered_refusal:
            return  # the answer is sent; the rest is discarded until the close
        self._received_since_answer = True
        super().data_received(data)
        self._note_new_request()

    def on_response_complete(self) -> None:
        self._arm_deadline()
        super().on_response_complete()  # may start a pipelined request
        if self.transport.is_closing():
            self._disarm_deadline()
            return
        # Part of the next request may already be here (pipelined behind this one).
        self._received_since_answer = bool(self.conn.trailing_data[0])
        self._note_new_request()

    def _note_new_request(self) -> None:
        """On a new request head, hand the application the deadline for its body."""
        cycle = self.cycle
        if cycle is None or cycle is self._seen_cycle:
            return
        # The application's task is only scheduled: it has not read the scope yet.
        self._seen_cycle = cycle
        self._disarm_deadline()
        scope = cast(dict[str, Any], cycle.scope)
        scope.setdefault("extensions", {})[DEADLINE_EXTENSION] = self._deadline

    # --- the deadline ---------------------------------------------------------------

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._deadline = self.loop.time() + self.options.request_timeout
        self._deadline_timer = self.loop.call_at(self._deadline, self._deadline_passed)

    def _disarm_deadline(self) -> None:
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None

    def _deadline_passed(self) -> None:
        self._deadline_timer = None
        if self.transport.is_closing() or self._answered_refusal:
            return
        if self._received_since_answer:
            self._refuse(gateway.REQUEST_TIMEOUT)
        else:
            self.transport.close()  # an idle connection: nothing to answer

    # --- answers without the application ---------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """h11 refused the request: answer in the error shape, never with its text."""
        conn = cast(_RecordingConnection, self.conn)
        self._refuse(_refusal_for(conn.last_error))

    def _refuse(self, response: GatewayResponse) -> None:
        """Answer, then discard what the client still sends for a moment, then close."""
        if self._answered_refusal:
            return
        self._answered_refusal = True
        self._disarm_deadline()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # A request the application is answering (h11 failed on its body): to the
            # application the client is gone, so its own answer is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        transport = self.transport
        peer = transport.get_extra_info("peername")
        client = peer[0] if isinstance(peer, tuple) else "-"
        access_log.info('%s "-" %s %s', client, int(response.status), response.code)
        try:
            transport.write(encode_answer(response))
            if transport.can_write_eof():
                transport.write_eof()
        except (OSError, RuntimeError):
            transport.close()
            return
        self.loop.call_later(LINGER_SECONDS, transport.close)
