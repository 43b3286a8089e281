"""Starting ``python -m training_jobs serve`` for the tests, and raw HTTP exchanges with it.

The server's stdout and stderr go to a file, so that a test can read what it
logged (and a chatty server never blocks on a full pipe).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.processes import stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]
API_KEY = "local-test-key"
STARTUP_SECONDS = 60


@dataclass
class Server:
    port: int
    model: Path
    process: subprocess.Popen[bytes]
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        api_key: str | None = API_KEY,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        all_headers = dict(headers or {})
        if api_key is not None:
            all_headers["x-api-key"] = api_key
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post_json(self, payload: Any, **options: Any) -> tuple[int, dict[str, str], Any]:
        status, headers, body = self.request(
            "POST",
            "/predict",
            json.dumps(payload),
            {"Content-Type": "application/json"},
            **options,
        )
        return status, headers, json.loads(body)

    def logged(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(
    model: Path, log: Path, *options: str, env: dict[str, str] | None = None
) -> Server:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "training_jobs", "serve", "--model", str(model),
             "--port", "0", *options],
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )  # fmt: skip
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"on http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
        if found:
            return Server(int(found.group(1)), model, process, log)
        time.sleep(0.05)
    stop_process(process)
    raise AssertionError(f"the server did not start: {log.read_text(errors='replace')}")


def stop(server: Server) -> None:
    stop_process(server.process)


@dataclass
class RawResponse:
    status_line: str
    headers: dict[str, str]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split(" ", 2)[1])

    def json(self) -> Any:
        return json.loads(self.body)


def read_response(client: socket.socket) -> RawResponse:
    """One response from the socket: head, then Content-Length bytes (or up to the close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            raise AssertionError(f"the connection closed without a complete response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        body = body[:length]
    else:
        while chunk := client.recv(65536):
            body += chunk
    return RawResponse(lines[0], headers, body)


def exchange(port: int, raw: bytes, timeout: float = 10) -> RawResponse:
    """Send raw bytes on a new connection and read the first response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
        client.sendall(raw)
        return read_response(client)


def request_head(
    method: str = "POST",
    target: str = "/predict",
    headers: list[tuple[str, str]] | None = None,
    version: str = "HTTP/1.1",
    api_key: str | None = API_KEY,
) -> bytes:
    lines = [f"{method} {target} {version}", "Host: 127.0.0.1"]
    if api_key is not None:
        lines.append(f"x-api-key: {api_key}")
    lines += [f"{name}: {value}" for name, value in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
