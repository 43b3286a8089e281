"""``serve``: the Lambda behind a local HTTP server, like ``sam local start-api``.

Each HTTP request becomes the API Gateway REST proxy event that API Gateway
(and ``sam local start-api``) would send, and is answered by the same
``jira_priority.app.lambda_handler`` with the embedded backend. What API
Gateway itself decides is decided here the same way: only the template's
routes (``POST /predict``, ``GET /health``) reach the function, anything else
is 403 ``missing_authentication_token``; with an API key configured, a missing
or wrong ``x-api-key`` is 403 ``invalid_api_key``; bodies over API Gateway's
10 MB limit are refused with 413 ``request_too_large`` before they are read.
These answers have the project's error shape, as the GatewayResponses in
template.yaml give them to the deployed API.

Connections are served on threads, so a slow client does not hold up the
others; the handler itself runs one request at a time, as in one Lambda
execution environment (the powertools resolver and metrics keep per-request
state on module-level objects, so they must not run concurrently).
"""

from __future__ import annotations

import argparse
import base64
import hmac
import importlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from training_jobs.console import doc_summary, fail

DEFAULT_MODEL = Path("artifacts/model/model.bin")
DEFAULT_PORT = 3000
#: API Gateway's payload limit: larger requests never reach a function.
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
#: The routes template.yaml declares; API Gateway answers anything else itself.
ROUTES: frozenset[tuple[str, str]] = frozenset({("POST", "/predict"), ("GET", "/health")})
#: The function's timeout in template.yaml (Globals.Function.Timeout).
FUNCTION_TIMEOUT_SECONDS = 25
STAGE = "local"
#: Seconds a connection may stay idle before the server closes it.
SOCKET_TIMEOUT_SECONDS = 30

#: What the handler process needs (settings are read when jira_priority.app is imported).
HANDLER_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "jira-priority",
    "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
    "POWERTOOLS_TRACE_DISABLED": "1",
}

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LocalLambdaContext:
    """The attributes of a Lambda context object that the handler and powertools read."""

    function_name: str = "jira-priority-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:jira-priority-local"
    log_group_name: str = "/aws/lambda/jira-priority-local"
    log_stream_name: str = "local"
    deadline: float = field(default_factory=lambda: time.monotonic() + FUNCTION_TIMEOUT_SECONDS)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class GatewayResponse:
    """An answer API Gateway gives itself, as template.yaml's GatewayResponses shape it."""

    status: HTTPStatus
    code: str
    message: str


#: template.yaml's GatewayResponses: the project's error shape instead of ``{"message"}``.
INVALID_API_KEY = GatewayResponse(HTTPStatus.FORBIDDEN, "invalid_api_key", "Forbidden")
MISSING_AUTHENTICATION_TOKEN = GatewayResponse(
    HTTPStatus.FORBIDDEN, "missing_authentication_token", "Missing Authentication Token"
)
REQUEST_TOO_LARGE = GatewayResponse(
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request_too_large", "Request Too Long"
)
# The rest fall under the template's DEFAULT_4XX / DEFAULT_5XX, whose code is the response type.
FUNCTION_FAILED = GatewayResponse(HTTPStatus.BAD_GATEWAY, "DEFAULT_5XX", "Internal server error")
LENGTH_REQUIRED = GatewayResponse(
    HTTPStatus.LENGTH_REQUIRED, "DEFAULT_4XX", "Send a Content-Length header."
)
INVALID_CONTENT_LENGTH = GatewayResponse(
    HTTPStatus.BAD_REQUEST, "DEFAULT_4XX", "Invalid Content-Length."
)


def _gateway_error(response: GatewayResponse) -> tuple[int, dict[str, str], bytes]:
    """One of the GatewayResponses: ``{"error": {"code", "message"}}``, like the function's."""
    error = {"error": {"code": response.code, "message": response.message}}
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": _error_type(response.status),
    }
    return int(response.status), headers, json.dumps(error).encode()


def _error_type(status: HTTPStatus) -> str:
    if status == HTTPStatus.FORBIDDEN:
        return "ForbiddenException"
    if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        return "RequestTooLargeException"
    return "BadRequestException"


def build_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    source_ip: str,
    api_key: str | None,
) -> dict[str, Any]:
    """The REST API (v1) proxy event for one HTTP request."""
    url = urlsplit(target)
    path = url.path or "/"
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value  # API Gateway keeps the last of repeated headers
        multi.setdefault(name, []).append(value)
    query_multi = parse_qs(url.query, keep_blank_values=True) if url.query else {}
    now = datetime.now(UTC)
    text_body: str | None = None
    is_base64 = False
    if body is not None and (body or method not in {"GET", "HEAD"}):
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    user_agent = next((v for n, v in headers if n.lower() == "user-agent"), None)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in query_multi.items()} or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": path,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": user_agent,
                "apiKey": api_key,
                "apiKeyId": "local" if api_key else None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "accessKey": None,
                "cognitoIdentityPoolId": None,
                "cognitoIdentityId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "principalOrgId": None,
            },
            "domainName": "localhost",
            "apiId": "local",
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def response_parts(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body bytes of a proxy integration result."""
    status = int(result.get("statusCode", 502))
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values or []:
            headers.append((name, str(value)))
        seen.add(name.lower())
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return status, headers, body


class LocalGateway:
    """What API Gateway does before and after the function, for one local server."""

    def __init__(self, handler: Handler, api_key: str | None, max_body_bytes: int) -> None:
        self.handler = handler
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()

    def key_accepted(self, given: str | None) -> bool:
        if self.api_key is None:
            return True
        return given is not None and hmac.compare_digest(given.encode(), self.api_key.encode())

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self.handler(event, LocalLambdaContext())


class GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jira-priority-local"
    timeout = SOCKET_TIMEOUT_SECONDS
    # Headers and body go out in two writes; with Nagle's algorithm on, a
    # keep-alive client would wait ~40 ms for the delayed ACK on every response.
    disable_nagle_algorithm = True
    gateway: LocalGateway  # set on the subclass made by make_server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        if (self.command, path) not in ROUTES:
            self._discard_body()
            self._send(*_gateway_error(MISSING_AUTHENTICATION_TOKEN))
        elif not self.gateway.key_accepted(self.headers.get("x-api-key")):
            self._discard_body()
            self._send(*_gateway_error(INVALID_API_KEY))
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
                    status, headers, payload = response_parts(self.gateway.invoke(event))
                except Exception as exc:  # noqa: BLE001 (what API Gateway does for a crashed function)
                    self.log_error("the function failed: %r", exc)
                    self._send(*_gateway_error(FUNCTION_FAILED))
                else:
                    self._send(status, dict(headers), payload)

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it (curl asks first above 1 MB)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > self.gateway.max_body_bytes:
            self.close_connection = True
            self._send(*_gateway_error(REQUEST_TOO_LARGE))
            return False
        return super().handle_expect_100()

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering the request with an error."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(*_gateway_error(LENGTH_REQUIRED))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(*_gateway_error(INVALID_CONTENT_LENGTH))
            return None
        if length > self.gateway.max_body_bytes:
            self.close_connection = True  # the unread body must not be parsed as a request
            self._send(*_gateway_error(REQUEST_TOO_LARGE))
            return None
        return self.rfile.read(length) if length else b""

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 < length <= self.gateway.max_body_bytes:
            self.rfile.read(length)
        elif length != 0 or self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    def parse_request(self) -> bool:
        self._started = time.perf_counter()
        return super().parse_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Logged by ``_send`` instead, with the time taken."""

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        started = getattr(self, "_started", time.perf_counter())
        self.log_message(
            '"%s %s" %s %.1f ms', self.command, self.path, status,
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {format % args}", file=sys.stderr, flush=True)


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    #: Listen backlog; socketserver's default of 5 resets bursts of concurrent clients.
    request_queue_size = 128


def make_server(host: str, port: int, gateway: LocalGateway) -> ThreadingHTTPServer:
    class BoundGatewayRequestHandler(GatewayRequestHandler):
        pass

    BoundGatewayRequestHandler.gateway = gateway
    return LocalHTTPServer((host, port), BoundGatewayRequestHandler)


def load_handler(model_uri: str) -> tuple[Handler, Any]:
    """Configure the environment for the embedded backend, import the app, load the model.

    Returns the handler and the app's predictor. Raises RuntimeError with a
    one-line reason if the configuration or the model is not usable.
    """
    os.environ["PREDICTOR_BACKEND"] = "embedded"
    os.environ["MODEL_URI"] = model_uri
    for name, value in HANDLER_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    from jira_priority.errors import ServiceError

    try:
        app = importlib.import_module("jira_priority.app")
    except ServiceError as exc:
        raise RuntimeError(exc.public_message) from exc
    from jira_priority.predictors.embedded import ModelLoadError

    predictor = app.classifier.predictor
    try:
        predictor.load()  # checks and verifies the model: a damaged one is one line, exit 1
    except ModelLoadError as exc:
        raise RuntimeError(str(exc)) from exc
    handler: Handler = app.lambda_handler
    return handler, predictor


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        return fail("serve", f"port {args.port} is not in 0..65535", 2)
    started = time.perf_counter()
    try:
        handler, predictor = load_handler(args.model)
    except RuntimeError as exc:
        return fail("serve", str(exc))
    load_seconds = time.perf_counter() - started
    gateway = LocalGateway(handler, args.api_key or None, args.max_body_bytes)
    try:
        server = make_server(args.host, args.port, gateway)
    except OSError as exc:
        return fail("serve", f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    host, port = args.host, server.server_port
    key_note = " (x-api-key required)" if args.api_key else ""
    key_header = f" -H 'x-api-key: {args.api_key}'" if args.api_key else ""
    print(
        f"serving POST /predict and GET /health on http://{host}:{port}{key_note}\n"
        f"  model {predictor.model_id} ready in {load_seconds:.2f} s; Ctrl-C stops\n"
        f"  try: curl -s http://{host}:{port}/predict{key_header} "
        "-H 'Content-Type: application/json' "
        '-d \'{"title": "NameNode crashes on startup", "k": 3}\'',
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """``--model``: the embedded backend's model, local or on S3 (``classify`` and ``serve``)."""
    parser.add_argument(
        "--model",
        default=os.fspath(DEFAULT_MODEL),
        help="model.bin, model.ftz, model.tar.gz or a directory holding one, as a path "
        f"or s3:// URI (default: {DEFAULT_MODEL})",
    )


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve POST /predict on 127.0.0.1 with the embedded model, like sam local start-api",
        description=doc_summary(__doc__),
    )
    add_model_argument(parser)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="require this value in the x-api-key header, as API Gateway does "
        "(default: no key, like sam local start-api)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=API_GATEWAY_MAX_BODY_BYTES,
        help="refuse larger bodies with 413 before reading them; the function's own "
        f"limit (MAX_BODY_BYTES) applies below this (default: {API_GATEWAY_MAX_BODY_BYTES})",
    )
    parser.set_defaults(handler=run)
