"""Where a request that carries a credential may go: to the origin it was meant for, and over
TLS unless that origin is this machine.

The one policy of every HTTP client in the project: ``fetch`` (requests, e-mail and API
token as basic auth, or a bearer token) and ``evaluate --api-url`` (urllib, ``x-api-key``).
boto3 is not one of them: it signs each request for the AWS endpoint it sends it to.

* **No redirect to another origin** (scheme, host or port) is followed. requests drops
  ``Authorization`` when the host changes but keeps custom headers such as ``x-api-key``
  (and basic auth on a port or scheme change in some versions); urllib keeps every header.
  Stripping would send an unauthenticated request that fails later and less clearly, so
  the redirect is refused before anything is sent, with one line naming where it pointed.
  A redirect within the origin is followed as the client would.
* **No credential over plain http to another machine** unless the user says so
  (``--allow-insecure-http``), and then with a warning on stderr. Loopback http
  (``make serve``, ``sam local start-api``, the tests' stand-ins) needs no flag.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Callable
from http.client import HTTPMessage
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from training_jobs.console import printable
from training_jobs.errors import CommandError

if TYPE_CHECKING:
    import requests

DEFAULT_PORTS = {"http": 80, "https": 443}
INSECURE_FLAG = "--allow-insecure-http"

Origin = tuple[str, str, int]


class UnsafeRequestError(CommandError):
    """A request refused because it would hand a credential to the wrong party."""


def origin(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, the port made explicit; None if it has none."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname, port if port is not None else DEFAULT_PORTS[scheme]


def check_redirect(from_url: str, location: str) -> None:
    """UnsafeRequestError unless ``location`` (relative to ``from_url``) keeps its origin."""
    target = urljoin(from_url, location)
    here = origin(from_url)
    if here is not None and origin(target) == here:
        return
    raise UnsafeRequestError(
        f"{_shown(from_url)} redirected to {_shown(target)}, another origin: not followed, so "
        "no credential went there; if that is the service, give its URL instead"
    )


def _shown(url: str) -> str:
    """A URL for a message: without its query and fragment, escaped, at most 120 characters."""
    parts = urlsplit(url)
    return printable(parts._replace(query="", fragment="").geturl(), 120)


# --- requests (fetch) ---------------------------------------------------------------------


def _refuse_cross_origin(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A response hook: it runs on every answer, before requests follows a redirect."""
    if response.is_redirect:
        try:
            check_redirect(response.url, response.headers["location"])
        except UnsafeRequestError:
            response.close()
            raise


def refuse_cross_origin_redirects(session: requests.Session) -> None:
    """Make ``session`` refuse (UnsafeRequestError) any redirect to another origin."""
    session.hooks.setdefault("response", []).append(_refuse_cross_origin)


# --- urllib (evaluate --api-url) -----------------------------------------------------------


class SameOriginRedirectHandler(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handling, refusing (UnsafeRequestError) a redirect to another origin."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        try:
            check_redirect(req.full_url, newurl)
        except UnsafeRequestError:
            fp.close()
            raise
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def opener() -> urllib.request.OpenerDirector:
    """urllib's default opener (proxies from the environment and all) with the redirect policy."""
    return urllib.request.build_opener(SameOriginRedirectHandler)


# --- plain http -----------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): traffic that stays here."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_transport(
    url: str, option: str, *, allow_insecure: bool, warn: Callable[[str], None]
) -> None:
    """UnsafeRequestError for a plain-http ``url`` to another machine, unless allowed (warned)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme.lower() != "http" or is_loopback(host):
        return
    if not allow_insecure:
        raise UnsafeRequestError(
            f"{option} {printable(url, 120)} is plain http to another machine: the credentials "
            f"would cross the network readable by anyone on the way; use https://, or "
            f"{INSECURE_FLAG} if you must",
            exit_code=2,
        )
    warn(f"warning: {INSECURE_FLAG}: the credentials go to {printable(host, 120)} in clear text")
