"""A stand-in for a SageMaker BlazingText endpoint, on 127.0.0.1.

It speaks InvokeEndpoint's wire protocol (``POST /endpoints/NAME/invocations``,
rest-json errors with ``x-amzn-ErrorType``), answers like BlazingText from a
function (typically a real fastText model), and can be told to fail: throttle,
model error, unavailable, no such endpoint, slow, or garbage. boto3 reaches it
through ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``.

As a program it serves until interrupted, answering from a model file::

    python -m tests.fakes.blazingtext_endpoint --host 127.0.0.1 --port 3001 \
        --model artifacts/model/model.bin
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: texts, k -> one BlazingText answer {"label": [...], "prob": [...]} per text.
AnswerFunction = Callable[[Sequence[str], int], list[dict[str, Any]]]

# How each failure looks on the wire: (HTTP status, x-amzn-ErrorType, message).
FAILURES: dict[str, tuple[int, str, str]] = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "model_error": (424, "ModelError", "Received server error (500) from primary"),
    "unavailable": (503, "ServiceUnavailable", "Service unavailable"),
    "internal": (500, "InternalFailure", "Internal failure"),
    "no_endpoint": (400, "ValidationError", "Endpoint x of account 123456789012 not found."),
}


def always_major(texts: Sequence[str], k: int) -> list[dict[str, Any]]:
    labels = ["__label__4", "__label__3", "__label__5", "__label__6", "__label__2", "__label__1"]
    probs = [0.6, 0.2, 0.1, 0.05, 0.03, 0.02]
    return [{"label": labels[:k], "prob": probs[:k]} for _ in texts]


@dataclass
class FakeEndpoint:
    url: str
    #: What to do for the next requests, one entry each ("ok", a FAILURES key,
    #: "slow", "garbage"); once used up, every request gets ``default``.
    script: list[str] = field(default_factory=list)
    default: str = "ok"
    slow_seconds: float = 5.0
    answer: AnswerFunction = always_major
    requests: list[dict[str, Any]] = field(default_factory=list)

    def next_behaviour(self) -> str:
        return self.script.pop(0) if self.script else self.default


class _Handler(BaseHTTPRequestHandler):
    endpoint: FakeEndpoint

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        fake = self.endpoint
        fake.requests.append(
            {
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "accept": self.headers.get("Accept"),
                "body": raw,
                "at": time.monotonic(),
            }
        )
        behaviour = fake.next_behaviour()
        if behaviour == "slow":
            time.sleep(fake.slow_seconds)
            behaviour = "ok"
        if behaviour in FAILURES:
            status, kind, message = FAILURES[behaviour]
            self._send(
                status, json.dumps({"message": message}).encode(), {"x-amzn-ErrorType": kind}
            )
        elif behaviour == "garbage":
            self._send(200, b"<html><body>upstream proxy error</body></html>")
        else:
            request = json.loads(raw)
            texts = request["instances"]
            k = int(request.get("configuration", {}).get("k", 1))
            self._send(200, json.dumps(fake.answer(texts, k)).encode())

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its read timeout): that is the point of "slow"


def answers_from_model(model: Any) -> AnswerFunction:
    """BlazingText's answers computed by a loaded fastText model (``fasttext.load_model``)."""

    def answer(texts: Sequence[str], k: int) -> list[dict[str, Any]]:
        results = []
        for text in texts:
            labels, probs = model.predict(text, k=k)
            results.append({"label": list(labels), "prob": [float(p) for p in probs]})
        return results

    return answer


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"  # like SageMaker: the client reuses its connection
    # Headers and body go out as two writes; without TCP_NODELAY the second waits
    # for the client's delayed ACK (~40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True


@contextmanager
def running_fake_endpoint(
    answer: AnswerFunction = always_major,
    host: str = "127.0.0.1",
    port: int = 0,
    keep_alive: bool = False,
) -> Iterator[FakeEndpoint]:
    """Start the fake on ``host`` (a free port by default) and stop it on exit.

    ``keep_alive`` answers HTTP/1.1 and keeps connections open, as the real
    endpoint does; without it every request opens a new connection.
    """
    handler = _KeepAliveHandler if keep_alive else _Handler
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    fake = FakeEndpoint(url=f"http://{host}:{port}", answer=answer)
    _Handler.endpoint = fake
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.blazingtext_endpoint",
        description="A stand-in for a SageMaker BlazingText endpoint (InvokeEndpoint), "
        "for AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=3001, help="port to listen on (0: any)")
    parser.add_argument(
        "--model", help="fastText/BlazingText model.bin to answer from (default: always Major)"
    )
    args = parser.parse_args(argv)
    answer = always_major
    if args.model:
        import fasttext  # the training extra: only needed to answer from a model

        answer = answers_from_model(fasttext.load_model(args.model))
    with running_fake_endpoint(answer, args.host, args.port) as endpoint:
        print(f"fake BlazingText endpoint on {endpoint.url} (any endpoint name)", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
