"""An HTTP server on 127.0.0.1 that answers whatever it is told, and records what it was sent.

For the hostile-server tests of every HTTP client: ``answers`` are given out one per
request (then ``default``), as raw ``(status, headers, body)``; a ``{path}`` in a
header value is the request's path. Every request is recorded with its method,
path, headers and body, so a test can assert that no credential reached it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class ScriptedServer:
    url: str
    answers: list[Answer] = field(default_factory=list)
    default: Answer = (404, {"Content-Type": "application/json"}, b"{}")
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.answers.clear()
            self.requests.clear()


class _Handler(BaseHTTPRequestHandler):
    server_state: ScriptedServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        state = self.server_state
        with state.lock:
            state.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            status, headers, raw = state.answers.pop(0) if state.answers else state.default
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value.replace("{path}", self.path))
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_HEAD = _answer


@contextmanager
def running_scripted_server() -> Iterator[ScriptedServer]:
    """A ScriptedServer on a free port of 127.0.0.1, stopped on exit."""
    state = ScriptedServer(url="")
    handler = type("Handler", (_Handler,), {"server_state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
