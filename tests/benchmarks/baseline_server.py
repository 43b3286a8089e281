"""The load benchmark's baseline: the local server as it was before training_jobs.local_api.

A frozen copy of the request handling of ``training_jobs/serve.py`` at commit
36e609f (standard library ``http.server``, one thread per connection, one
handler call at a time), kept runnable only for
``tests/benchmarks/local_server_load.py`` to measure the new server against in
the same run. The proxy event and the gateway answers come from
``training_jobs.local_api.gateway``, where that code moved unchanged. Not
used anywhere else; do not mend it, it is the "before".

    python -m tests.benchmarks.baseline_server MODEL PORT
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from training_jobs.local_api.function import load_function
from training_jobs.local_api.gateway import (
    API_GATEWAY_MAX_BODY_BYTES,
    FUNCTION_FAILED,
    INVALID_API_KEY,
    INVALID_CONTENT_LENGTH,
    LENGTH_REQUIRED,
    MISSING_AUTHENTICATION_TOKEN,
    REQUEST_TOO_LARGE,
    ROUTES,
    GatewayResponse,
    LocalLambdaContext,
    build_event,
    key_accepted,
    response_parts,
)


class BaselineHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jira-priority-local"
    timeout = 30
    disable_nagle_algorithm = True
    function: Any
    api_key: str | None = None
    max_body_bytes = API_GATEWAY_MAX_BODY_BYTES
    lock = threading.Lock()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        if (self.command, path) not in ROUTES:
            self._discard_body()
            self._error(MISSING_AUTHENTICATION_TOKEN)
        elif not key_accepted(self.api_key, self.headers.get("x-api-key")):
            self._discard_body()
            self._error(INVALID_API_KEY)
        else:
            body = self._read_body()
            if body is not None:
                event = build_event(
                    self.command,
                    self.path,
                    list(self.headers.items()),
                    body,
                    self.client_address[0],
                    self.headers.get("x-api-key"),
                )
                try:
                    with self.lock:
                        result = self.function.handler(event, LocalLambdaContext())
                    status, headers, payload = response_parts(result)
                except Exception as exc:
                    self.log_error("the function failed: %r", exc)
                    self._error(FUNCTION_FAILED)
                else:
                    self._send(status, dict(headers), payload)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._error(LENGTH_REQUIRED)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._error(INVALID_CONTENT_LENGTH)
            return None
        if length > self.max_body_bytes:
            self.close_connection = True
            self._error(REQUEST_TOO_LARGE)
            return None
        return self.rfile.read(length) if length else b""

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 < length <= self.max_body_bytes:
            self.rfile.read(length)
        elif length != 0 or self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    def parse_request(self) -> bool:
        self._started = time.perf_counter()
        return super().parse_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Logged by ``_send`` instead."""

    def _error(self, response: GatewayResponse) -> None:
        self._send(*response.parts())

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        started = getattr(self, "_started", time.perf_counter())
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.log_message('"%s %s" %s %.1f ms', self.command, self.path, status, elapsed_ms)
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {format % args}", file=sys.stderr, flush=True)


class BaselineServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main(model: str, port: int) -> None:
    BaselineHandler.function = load_function(model, 25.0)
    server = BaselineServer(("127.0.0.1", port), BaselineHandler)
    print(f"serving on http://127.0.0.1:{server.server_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
