"""What API Gateway does around the function: routes, API key, its own error answers, the event.

Only the template's routes reach the function; anything else is 403
``missing_authentication_token``; with an API key configured, a missing or
wrong ``x-api-key`` is 403 ``invalid_api_key``. The answers API Gateway gives
itself have the project's error shape, as template.yaml's GatewayResponses
give them to the deployed API: the named ones their own code, the rest
(``DEFAULT_4XX`` / ``DEFAULT_5XX``) the response type as the code.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jira_priority.settings import FUNCTION_TIMEOUT_SECONDS

#: API Gateway's payload limit: larger requests never reach a function.
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
#: The routes template.yaml declares (a unit test checks they agree).
ROUTES: frozenset[tuple[str, str]] = frozenset({("POST", "/predict"), ("GET", "/health")})
STAGE = "local"


@dataclass(frozen=True)
class GatewayResponse:
    """An answer API Gateway gives itself, as template.yaml's GatewayResponses shape it."""

    status: HTTPStatus
    code: str
    message: str
    retry_after: int | None = None

    def parts(self) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body: ``{"error": {"code", "message"}}``, like the function's."""
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": self.error_type}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        body = json.dumps({"error": {"code": self.code, "message": self.message}}).encode()
        return int(self.status), headers, body

    @property
    def error_type(self) -> str:
        if self.status == HTTPStatus.FORBIDDEN:
            return "ForbiddenException"
        if self.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            return "RequestTooLargeException"
        if self.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return "InternalServerErrorException"
        return "BadRequestException"


def _default_4xx(status: HTTPStatus, message: str) -> GatewayResponse:
    return GatewayResponse(status, "DEFAULT_4XX", message)


#: template.yaml's named GatewayResponses.
INVALID_API_KEY = GatewayResponse(HTTPStatus.FORBIDDEN, "invalid_api_key", "Forbidden")
MISSING_AUTHENTICATION_TOKEN = GatewayResponse(
    HTTPStatus.FORBIDDEN, "missing_authentication_token", "Missing Authentication Token"
)
REQUEST_TOO_LARGE = GatewayResponse(
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request_too_large", "Request Too Long"
)
# The rest fall under DEFAULT_4XX / DEFAULT_5XX.
FUNCTION_FAILED = GatewayResponse(HTTPStatus.BAD_GATEWAY, "DEFAULT_5XX", "Internal server error")
LENGTH_REQUIRED = _default_4xx(HTTPStatus.LENGTH_REQUIRED, "Send a Content-Length header.")
INVALID_CONTENT_LENGTH = _default_4xx(HTTPStatus.BAD_REQUEST, "Invalid Content-Length.")
MALFORMED_REQUEST = _default_4xx(HTTPStatus.BAD_REQUEST, "Malformed HTTP request.")
HEADERS_TOO_LARGE = _default_4xx(
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request header fields too large."
)
VERSION_NOT_SUPPORTED = GatewayResponse(
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "DEFAULT_5XX", "Use HTTP/1.1."
)
REQUEST_TIMEOUT = _default_4xx(HTTPStatus.REQUEST_TIMEOUT, "The request was not received in time.")
TOO_MANY_CONNECTIONS = GatewayResponse(
    HTTPStatus.SERVICE_UNAVAILABLE, "DEFAULT_5XX", "Too many connections.", retry_after=1
)


def key_accepted(expected: str | None, given: bytes | None) -> bool:
    """Whether the header's bytes are the API key (always, when none is configured).

    The key is visible ASCII (``ServeOptions`` refuses any other at start-up), so its
    bytes are the same whatever encoding a client sends headers in.
    """
    if expected is None:
        return True
    return given is not None and hmac.compare_digest(given, expected.encode("ascii"))


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
