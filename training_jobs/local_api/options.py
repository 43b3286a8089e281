"""What the local server is told: one frozen, picklable object (worker processes get a copy)."""

from __future__ import annotations

from dataclasses import dataclass

from jira_priority.settings import FUNCTION_TIMEOUT_SECONDS
from training_jobs.local_api.gateway import API_GATEWAY_MAX_BODY_BYTES

DEFAULT_PORT = 3000
#: Connections one worker process holds at once; more are answered 503 and closed.
DEFAULT_MAX_CONNECTIONS = 256
#: Seconds from a connection's start (or the end of the previous answer) until the
#: whole request, head and body, has arrived; it does not restart with each byte.
DEFAULT_REQUEST_TIMEOUT_SECONDS = 10.0
#: Seconds an idle keep-alive connection is kept between requests.
KEEP_ALIVE_SECONDS = 5
#: The request line and headers together, and how many header fields.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_FIELDS = 100


def sendable_key(key: str) -> bool:
    """Whether every client sends ``key`` as the same bytes: visible ASCII, ``!`` to ``~``.

    A header value is bytes; for other characters clients differ (curl sends UTF-8,
    Python's http.client Latin-1 or an error, browsers refuse), and API Gateway's own
    keys are ASCII, so such a key is refused at start-up rather than answered 403.
    """
    return all("!" <= char <= "~" for char in key)


@dataclass(frozen=True)
class ServeOptions:
    model: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_key: str | None = None
    max_body_bytes: int = API_GATEWAY_MAX_BODY_BYTES
    workers: int = 1
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    function_timeout: float = FUNCTION_TIMEOUT_SECONDS
    max_header_bytes: int = MAX_HEADER_BYTES
    max_header_fields: int = MAX_HEADER_FIELDS

    def problems(self) -> list[str]:
        """What is wrong with these values, as one-line reasons (none when usable)."""
        found = []
        if not 0 <= self.port <= 65535:
            found.append(f"port {self.port} is not in 0..65535")
        if not 1 <= self.workers <= 64:
            found.append(f"--workers {self.workers} is not in 1..64")
        if self.max_connections < 1:
            found.append("--max-connections must be at least 1")
        if self.max_body_bytes < 0:
            found.append("--max-body-bytes must not be negative")
        if self.request_timeout <= 0:
            found.append("--request-timeout must be more than 0 seconds")
        if self.api_key is not None and not sendable_key(self.api_key):
            found.append(
                "the API key must be visible ASCII characters (! to ~, no spaces): "
                "HTTP clients send other characters in a header in different ways"
            )
        return found
