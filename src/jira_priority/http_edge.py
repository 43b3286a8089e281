"""What happens to a proxy event before routing, and the one JSON error shape.

Size and media-type checks must run before the body is parsed, and powertools
validates the body before any middleware runs, so they happen here, on the raw
API Gateway event. A ``text/plain`` body (the tutorial's clients sent one) is
rewritten into the JSON ``{"text": ...}`` shape so that one validated model
serves both.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from typing import Any

from jira_priority import safe_json
from jira_priority.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    ServiceError,
    UnsupportedMediaTypeError,
)
from jira_priority.schemas import ErrorBody, ErrorDetail

JSON_MEDIA_TYPE = "application/json"
TEXT_MEDIA_TYPE = "text/plain"
#: Deepest JSON nesting accepted. A ticket needs a handful of levels (a Jira
#: Cloud description is a few more); a body nested hundreds deep would only
#: exhaust the parsers' recursion.
MAX_JSON_DEPTH = 64


def error_body(code: str, message: str) -> str:
    return ErrorBody(error=ErrorDetail(code=code, message=message)).model_dump_json()


def error_headers(error: ServiceError) -> dict[str, str]:
    headers = {"Content-Type": JSON_MEDIA_TYPE}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return headers


def error_proxy_response(error: ServiceError) -> dict[str, Any]:
    """An API Gateway proxy result for an error found before routing."""
    return {
        "statusCode": int(error.status),
        "multiValueHeaders": {name: [value] for name, value in error_headers(error).items()},
        "body": error_body(error.code, error.public_message),
        "isBase64Encoded": False,
    }


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == name and values:
            return str(values[0])
    return None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


#: Fields of a REST API proxy event the resolver reads, and the types it expects.
_STRING = (str,)
_MAP = (dict,)
_PROXY_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {  # name: (types, required)
    "httpMethod": (_STRING, True),
    "path": (_STRING, True),
    "requestContext": (_MAP, True),
    "resource": (_STRING, False),
    "headers": (_MAP, False),
    "multiValueHeaders": (_MAP, False),
    "queryStringParameters": (_MAP, False),
    "multiValueQueryStringParameters": (_MAP, False),
    "pathParameters": (_MAP, False),
    "stageVariables": (_MAP, False),
    "isBase64Encoded": ((bool,), False),
}
_NOT_A_PROXY_EVENT = "The function was invoked without an API Gateway proxy event."


def _check_proxy_event(event: Any) -> dict[str, Any]:
    """``event`` if it has the shape of a REST API proxy event, else InvalidRequestError.

    A direct invocation can pass any JSON value; the resolver and powertools'
    event classes assume API Gateway's types and would fail with a stack trace.
    """
    if not isinstance(event, dict):
        raise InvalidRequestError(_NOT_A_PROXY_EVENT)
    for name, (types, required) in _PROXY_FIELDS.items():
        value = event.get(name)
        if (value is None and required) or (value is not None and not isinstance(value, types)):
            raise InvalidRequestError(_NOT_A_PROXY_EVENT)
    single = ("headers", "queryStringParameters")
    multi = ("multiValueHeaders", "multiValueQueryStringParameters")
    for name in single:
        if not all(isinstance(v, str) for v in (event.get(name) or {}).values()):
            raise InvalidRequestError(f"The proxy event's {name} are not all strings.")
    for name in multi:
        for values in (event.get(name) or {}).values():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise InvalidRequestError(f"The proxy event's {name} are not lists of strings.")
    return event


def check_body_size(size: int, max_body_bytes: int) -> None:
    """PayloadTooLargeError if a body of ``size`` bytes is over ``max_body_bytes`` (MAX_BODY_BYTES).

    The local server asks the same from a request's Content-Length, before reading the body.
    """
    if size > max_body_bytes:
        raise PayloadTooLargeError(
            f"The request body is {size} bytes; the limit is {max_body_bytes} bytes."
        )


def prepare_event(invocation: Any, max_body_bytes: int) -> dict[str, Any]:
    """The event to route: its shape, body size and media type checked, text/plain made JSON.

    Raises PayloadTooLargeError, UnsupportedMediaTypeError or InvalidRequestError.
    Requests without a body (GET /health) pass through unchanged.
    """
    event = _check_proxy_event(invocation)
    body = event.get("body")
    if body is None or event["httpMethod"] in {"GET", "HEAD", "OPTIONS"}:
        return event
    if not isinstance(body, str):
        raise InvalidRequestError("The proxy event's body is not a string.")
    raw = _body_bytes(body, bool(event.get("isBase64Encoded")))
    check_body_size(len(raw), max_body_bytes)
    media_type = _media_type(_header(event, "content-type"))
    if media_type in ("", JSON_MEDIA_TYPE):
        text = _decode(raw)
        _check_nesting(text)
    elif media_type == TEXT_MEDIA_TYPE:
        text = json.dumps({"text": _decode(raw)})
    else:
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type!r} is not accepted; send {JSON_MEDIA_TYPE} or "
            f"{TEXT_MEDIA_TYPE}."
        )
    prepared = dict(event, body=text, isBase64Encoded=False)
    prepared["headers"] = _with_json_content_type(event.get("headers"), JSON_MEDIA_TYPE)
    prepared["multiValueHeaders"] = _with_json_content_type(
        event.get("multiValueHeaders"), [JSON_MEDIA_TYPE]
    )
    return prepared


def _with_json_content_type(headers: dict[str, Any] | None, value: Any) -> dict[str, Any]:
    """The headers with any Content-Type, whatever its case, replaced by ``value``."""
    kept = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
    return {**kept, "Content-Type": value}


def _check_nesting(text: str) -> None:
    """Refuse JSON nested too deep or with overlong integers; leave other faults to validation.

    Python refuses to convert an integer of more than sys.get_int_max_str_digits()
    digits (4,300 by default) with a plain ValueError, which validation would not
    turn into a 400; it is caught here, before validation parses the body again.
    """
    try:
        safe_json.loads(text, max_depth=MAX_JSON_DEPTH)
    except safe_json.JSONDepthError as exc:
        raise InvalidRequestError(
            f"the body is nested more than {MAX_JSON_DEPTH} levels deep"
        ) from exc
    except json.JSONDecodeError:
        return  # not JSON: validation reports it, with the same 400 as always
    except ValueError as exc:
        raise InvalidRequestError(
            f"a number in the body has more than {sys.get_int_max_str_digits()} digits"
        ) from exc


def _body_bytes(body: str, is_base64: bool) -> bytes:
    if not is_base64:
        return body.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError("The body is marked base64 but is not valid base64.") from exc


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("The body is not valid UTF-8.") from exc
