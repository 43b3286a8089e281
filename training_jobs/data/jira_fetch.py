"""Pulling the issues a JQL query selects from a Jira site into the JSON lines ``prepare`` reads.

Two APIs, one loop:

* **Jira Cloud**: ``GET /rest/api/3/search/jql`` pages with ``nextPageToken``
  (absent, or ``isLast``, on the last page); basic auth with an e-mail and an
  API token; descriptions are Atlassian Document Format (ADF) trees, turned
  into text here with the same walker the Lambda uses.
* **Jira Data Center / Server**: ``GET /rest/api/2/search`` pages with
  ``startAt`` up to ``total``; a personal access token as a bearer token;
  descriptions are wiki text.

Only the fields ``prepare`` uses are asked for (``FIELDS``). HTTP goes through
``requests`` with urllib3's ``Retry``: 429 and 503 wait as long as
``Retry-After`` says, up to ``max_wait`` seconds (announced; a longer wait
fails at once), other 5xx and connection failures back off exponentially;
401/403 stop at once with a message that names the variables to check (never
their values). Credentials never follow a redirect to another origin, nor go
over plain http to another machine unless allowed (``training_jobs.safe_http``).

A hostile or broken server cannot keep it running: every page must bring a new
issue (each with a key), a Cloud ``nextPageToken`` may not come back, a run
fetches at most twice the pages Data Center's first ``total`` announces (plus
10), or ``max_pages`` when nothing is announced (Cloud's search has no total),
and an answer is bounded in size, time and JSON nesting.

Resuming: after every page the issues are appended to the output and flushed,
then ``FILE.fetch-state.json`` records where the next page starts and how many
bytes of the output are complete. A run interrupted at any point (Ctrl-C, a
network failure past the retries) continues from there when run again with
the same site and JQL: no page already written is fetched again, a half-written
page is cut off, and issue keys already in the file are skipped. The state file
holds the site, the JQL and the position, never a credential; it is removed
when the last page is written.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from jira_priority import safe_json
from jira_priority.adf import adf_text
from training_jobs.console import printable
from training_jobs.safe_http import refuse_cross_origin_redirects, require_secure_transport

#: The issue fields prepare reads; nothing else is fetched.
FIELDS = ("summary", "description", "priority", "project", "issuetype", "status", "created")
#: Jira Cloud returns at most 100 issues a page for these fields (5,000 for ids only).
DEFAULT_PAGE_SIZE = 100
STATE_SUFFIX = ".fetch-state.json"
#: Answers worth another attempt: throttled (after Retry-After) and server-side failures.
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
RESUME_HINT = "run the same command later to resume"
CLOUD_SEARCH = "/rest/api/3/search/jql"
DATA_CENTER_SEARCH = "/rest/api/2/search"
#: Credentials come from these variables (or a prompt), never from an option.
EMAIL_VARIABLE = "JIRA_EMAIL"
API_TOKEN_VARIABLE = "JIRA_API_TOKEN"  # noqa: S105 (a variable name, not a secret)
PAT_VARIABLE = "JIRA_PAT"
#: The longest Retry-After obeyed by default (seconds); a longer one fails at once.
DEFAULT_MAX_WAIT = 300.0
#: Pages one run may fetch when the first answer announces no total (Jira Cloud).
UNANNOUNCED_MAX_PAGES = 10_000
#: Pages in a row that bring no new issue before the fetch gives up.
MAX_STALLED_PAGES = 3
#: An answer larger than this is refused (100 issues with long rich-text descriptions
#: are a few MB).
MAX_ANSWER_BYTES = 64 * 1024 * 1024
#: Seconds an answer may take to arrive, in request timeouts.
ANSWER_TIMEOUTS = 10
#: Longest nextPageToken accepted (Jira's are a few hundred characters; servers refuse
#: URLs past 8 kB).
MAX_TOKEN_CHARS = 4096
#: Longest issue key accepted.
MAX_KEY_CHARS = 255
#: A state file is a few hundred bytes; a larger one was not written by fetch.
MAX_STATE_BYTES = 64 * 1024


class JiraApi(StrEnum):
    CLOUD = "cloud"
    DATA_CENTER = "datacenter"


class FetchError(Exception):
    """The fetch cannot go on; the message says why and what to do (never a secret)."""


@dataclass(frozen=True)
class Credentials:
    """E-mail and API token (Cloud) or a personal access token (Data Center)."""

    api: JiraApi
    secret: str
    email: str = ""

    def __repr__(self) -> str:  # a traceback or a debugger never shows the token
        return f"Credentials(api={self.api.value!r}, email={self.email!r}, secret='***')"

    def apply(self, session: requests.Session) -> None:
        if self.api is JiraApi.CLOUD:
            session.auth = (self.email, self.secret)
        else:
            session.headers["Authorization"] = f"Bearer {self.secret}"


def credentials_from_environment(
    environ: Mapping[str, str],
    api: JiraApi | None,
    prompt: Callable[[str], str] | None = None,
) -> Credentials:
    """The credentials for ``api`` (or for whichever the variables set, if None).

    ``prompt`` (getpass, when stdin is a terminal) asks for a missing token
    instead of failing; it is never echoed and never stored.
    """
    email = environ.get(EMAIL_VARIABLE, "").strip()
    token = environ.get(API_TOKEN_VARIABLE, "").strip()
    pat = environ.get(PAT_VARIABLE, "").strip()
    if api is None:
        if pat and not (email or token):
            api = JiraApi.DATA_CENTER
        elif email or token:
            api = JiraApi.CLOUD
        else:
            raise FetchError(
                f"no credentials: set {EMAIL_VARIABLE} and {API_TOKEN_VARIABLE} (Jira Cloud) "
                f"or {PAT_VARIABLE} (Jira Data Center), or choose --api to be asked"
            )
    if api is JiraApi.CLOUD:
        if not email:
            raise FetchError(f"Jira Cloud needs your Atlassian account e-mail in {EMAIL_VARIABLE}")
        if not token and prompt is not None:
            token = prompt(f"API token for {email}: ").strip()
        if not token:
            raise FetchError(f"Jira Cloud needs an API token in {API_TOKEN_VARIABLE}")
        return Credentials(JiraApi.CLOUD, token, email)
    if not pat and prompt is not None:
        pat = prompt("Personal access token: ").strip()
    if not pat:
        raise FetchError(f"Jira Data Center needs a personal access token in {PAT_VARIABLE}")
    return Credentials(JiraApi.DATA_CENTER, pat)


class RetryAfterTooLongError(Exception):
    """The server asked for a longer wait than the fetch will sleep."""

    def __init__(self, status: int, retry_after: str, max_wait: float) -> None:
        super().__init__(f"HTTP {status} with Retry-After {retry_after!r}")
        self.status = status
        self.retry_after = retry_after
        self.max_wait = max_wait


#: Called before each Retry-After wait with the seconds and the HTTP status.
WaitAnnouncer = Callable[[float, int], None]


class CappedRetry(Retry):
    """urllib3's Retry, obeying Retry-After up to ``max_wait`` seconds and announcing each wait.

    urllib3 itself sleeps silently for as long as Retry-After says, up to its
    ``retry_after_max`` (6 hours); here a longer wait raises RetryAfterTooLongError
    at once, and an unreadable one (garbage, 5,000 digits) falls back to the
    exponential back-off instead of escaping as an exception.
    """

    def __init__(
        self,
        *args: Any,
        max_wait: float = DEFAULT_MAX_WAIT,
        on_wait: WaitAnnouncer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait
        self.on_wait = on_wait

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.max_wait, retry.on_wait = self.max_wait, self.on_wait
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        try:
            return super().parse_retry_after(retry_after)
        except (InvalidHeader, ValueError, OverflowError):
            return 0.0  # no usable wait: sleep_for_retry declines, the back-off applies

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        seconds = self.get_retry_after(response)
        if not seconds:
            return False
        if seconds > self.max_wait:
            header = str(response.headers.get("Retry-After", ""))
            raise RetryAfterTooLongError(response.status, header, self.max_wait)
        if self.on_wait is not None:
            self.on_wait(seconds, response.status)
        time.sleep(seconds)
        return True


def retrying_session(
    max_attempts: int = 6,
    backoff: float = 1.0,
    max_wait: float = DEFAULT_MAX_WAIT,
    on_wait: WaitAnnouncer | None = None,
) -> requests.Session:
    """A session that retries GETs on 429, 5xx and connection failures, honouring Retry-After
    up to ``max_wait`` seconds, and refusing redirects to another origin."""
    retry = CappedRetry(
        total=max_attempts - 1,
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff,
        backoff_max=60,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is handed back and reported below
        max_wait=max_wait,
        on_wait=on_wait,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept"] = "application/json"
    refuse_cross_origin_redirects(session)
    return session


# --- issues -----------------------------------------------------------------------


def _name(value: Any, key: str = "name") -> str:
    if isinstance(value, dict) and isinstance(value.get(key), str):
        return str(value[key])
    return ""


def issue_record(issue: Mapping[str, Any]) -> dict[str, str]:
    """One issue of either API as the flat JSON-lines record ``prepare`` reads."""
    fields = issue.get("fields")
    fields = fields if isinstance(fields, dict) else {}
    description = fields.get("description")
    if isinstance(description, dict):  # Cloud: an ADF document
        description = adf_text(description)
    summary = fields.get("summary")
    created = fields.get("created")
    return {
        "key": str(issue.get("key") or ""),
        "summary": summary if isinstance(summary, str) else "",
        "description": description if isinstance(description, str) else "",
        "priority": _name(fields.get("priority")),
        "project": _name(fields.get("project"), "key"),
        "issuetype": _name(fields.get("issuetype")),
        "status": _name(fields.get("status")),
        "created": created if isinstance(created, str) else "",
    }


# --- resumable state ----------------------------------------------------------------


@dataclass
class FetchState:
    """Where the next page starts, and how much of the output is complete."""

    site: str
    jql: str
    api: JiraApi
    next_page_token: str | None = None
    start_at: int = 0
    issues: int = 0
    bytes: int = 0
    pages: int = 0

    def matches(self, site: str, jql: str, api: JiraApi) -> bool:
        return (self.site, self.jql, self.api) == (site, jql, api)

    def save(self, path: Path) -> None:
        data = {
            "site": self.site,
            "jql": self.jql,
            "api": self.api.value,
            "next_page_token": self.next_page_token,
            "start_at": self.start_at,
            "issues": self.issues,
            "bytes": self.bytes,
            "pages": self.pages,
        }
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> FetchState:
        try:
            if path.stat().st_size > MAX_STATE_BYTES:
                raise ValueError(f"larger than {MAX_STATE_BYTES // 1024} kB")
            saved = _SavedState.model_validate(safe_json.loads(path.read_bytes()))
        except (OSError, ValueError) as exc:  # ValidationError and JSONDepthError among them
            raise FetchError(
                f"{path} is not a fetch state this tool wrote ({_reason(exc)}); remove it, or "
                "use --restart to fetch everything again"
            ) from exc
        return cls(
            site=saved.site,
            jql=saved.jql,
            api=JiraApi(saved.api),
            next_page_token=saved.next_page_token,
            start_at=saved.start_at,
            issues=saved.issues,
            bytes=saved.bytes,
            pages=saved.pages,
        )


class _SavedState(BaseModel):
    """What a state file must hold: strict types, counts never negative."""

    model_config = ConfigDict(strict=True)

    site: str
    jql: str
    api: Literal["cloud", "datacenter"]
    next_page_token: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)
    start_at: int = Field(default=0, ge=0)
    issues: int = Field(ge=0)
    bytes: int = Field(ge=0)
    pages: int = Field(default=0, ge=0)


def _reason(exc: Exception) -> str:
    """One short line: a validation error's first fault, else the exception's text."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return printable(f"{where}: {error['msg']}" if where else error["msg"], 120)
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return printable(exc, 120)


def state_path(output: Path) -> Path:
    return output.with_name(output.name + STATE_SUFFIX)


# --- fetching -------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchRequest:
    site: str
    jql: str
    output: Path
    credentials: Credentials
    page_size: int = DEFAULT_PAGE_SIZE
    timeout: float = 30.0
    restart: bool = False
    #: The longest Retry-After obeyed (seconds); a longer one fails at once.
    max_wait: float = DEFAULT_MAX_WAIT
    #: Send the credentials over plain http to a host other than this machine (warned).
    allow_insecure_http: bool = False
    #: Pages one run may fetch when the first answer announces no total.
    max_pages: int = UNANNOUNCED_MAX_PAGES


@dataclass(frozen=True)
class Page:
    issues: list[dict[str, Any]]
    next_page_token: str | None
    next_start_at: int
    last: bool
    total: int | None
    start_at: int = 0


def normalised_site(site: str) -> str:
    parts = urlsplit(site.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(
            "--site must be the site's http(s) URL, e.g. https://acme.atlassian.net, got "
            f"{printable(repr(site), 120)}"
        )
    return site.strip().rstrip("/")


def _count(value: Any) -> int | None:
    """A JSON count (an int, not a bool, not negative), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


class JiraSearch:
    """One search API of one site, a page at a time."""

    def __init__(self, request: FetchRequest, session: requests.Session) -> None:
        self.request = request
        self.session = session
        self.site = normalised_site(request.site)
        request.credentials.apply(session)

    @property
    def api(self) -> JiraApi:
        return self.request.credentials.api

    def page(self, token: str | None, start_at: int) -> Page:
        params: dict[str, str | int] = {
            "jql": self.request.jql,
            "fields": ",".join(FIELDS),
            "maxResults": self.request.page_size,
        }
        if self.api is JiraApi.CLOUD:
            url = self.site + CLOUD_SEARCH
            if token:
                params["nextPageToken"] = token
        else:
            url = self.site + DATA_CENTER_SEARCH
            params["startAt"] = start_at
        body = self._get(url, params)
        issues = body.get("issues")
        if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
            raise FetchError(f"{url} answered no list of issues; is --site a Jira site?")
        for issue in issues:
            key = issue.get("key")
            if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
                raise FetchError(
                    f"{url} answered an issue without a usable key ({printable(repr(key), 60)}); "
                    "is --site a Jira site?"
                )
        if self.api is JiraApi.CLOUD:
            next_token = body.get("nextPageToken")
            next_token = next_token if isinstance(next_token, str) and next_token else None
            if next_token is not None and len(next_token) > MAX_TOKEN_CHARS:
                raise FetchError(
                    f"{url} answered a nextPageToken of {len(next_token):,} characters; "
                    "is --site a Jira site?"
                )
            last = body.get("isLast") is True or next_token is None or not issues
            return Page(issues, next_token, 0, last, None)
        total = _count(body.get("total"))
        next_start = start_at + len(issues)
        if total is not None:
            last = not issues or next_start >= total
        else:  # no total (not Jira's way): a page short of what the server says it serves
            capacity = _count(body.get("maxResults")) or self.request.page_size
            last = len(issues) < capacity
        return Page(issues, None, next_start, last, total, start_at)

    def _get(self, url: str, params: Mapping[str, str | int]) -> dict[str, Any]:
        try:
            with self.session.get(
                url, params=params, timeout=self.request.timeout, stream=True
            ) as response:
                raw = self._read(url, response)
        except RetryAfterTooLongError as exc:
            raise FetchError(
                f"{url} answered HTTP {exc.status} asking to wait "
                f"{printable(exc.retry_after, 60)} (Retry-After), longer than the "
                f"{exc.max_wait:g} s fetch waits (--max-wait); {RESUME_HINT}"
            ) from exc
        except requests.exceptions.RetryError as exc:
            raise FetchError(f"{url}: still failing after retries; {RESUME_HINT}") from exc
        except requests.exceptions.Timeout as exc:
            raise FetchError(
                f"{url}: no answer within {self.request.timeout:g} s; {RESUME_HINT}"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise FetchError(f"cannot reach {self.site} after retries; {RESUME_HINT}") from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{url}: {exc.__class__.__name__}") from exc
        status = response.status_code
        if status in (401, 403):
            variables = (
                f"{EMAIL_VARIABLE} and {API_TOKEN_VARIABLE}"
                if self.api is JiraApi.CLOUD
                else PAT_VARIABLE
            )
            raise FetchError(
                f"{self.site} refused the credentials (HTTP {status}): check {variables}, and "
                f"that the account may browse the projects the JQL selects"
            )
        if status in RETRIED_STATUSES:
            raise FetchError(
                f"{url} answered HTTP {status}{_jira_errors(raw)} on every attempt; {RESUME_HINT}"
            )
        if status >= 400:
            raise FetchError(f"{url} answered HTTP {status}{_jira_errors(raw)}")
        if 300 <= status < 400:
            raise FetchError(f"{url} answered HTTP {status} without a usable redirect")
        try:
            body = safe_json.loads(raw)
        except safe_json.JSONDepthError as exc:
            raise FetchError(f"{url} answered {exc}; is --site a Jira site?") from exc
        except ValueError as exc:
            raise FetchError(f"{url} answered something that is not JSON") from exc
        if not isinstance(body, dict):
            raise FetchError(f"{url} answered JSON that is not an object")
        return body

    def _read(self, url: str, response: requests.Response) -> bytes:
        """The answer's body, refused past MAX_ANSWER_BYTES or ANSWER_TIMEOUTS timeouts."""
        deadline = time.monotonic() + ANSWER_TIMEOUTS * self.request.timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise FetchError(
                    f"{url} answered more than {MAX_ANSWER_BYTES // (1 << 20)} MiB for one page; "
                    "is --site a Jira site? (--page-size makes pages smaller)"
                )
            if time.monotonic() > deadline:
                raise FetchError(
                    f"{url}: the answer was still arriving after "
                    f"{ANSWER_TIMEOUTS * self.request.timeout:g} s; {RESUME_HINT}"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _jira_errors(raw: bytes) -> str:
    """Jira's own error messages (e.g. a JQL syntax error), made printable and shortened."""
    try:
        body = safe_json.loads(raw)
    except ValueError:
        return ""
    messages = body.get("errorMessages") if isinstance(body, dict) else None
    if isinstance(messages, list) and messages:
        return ": " + printable("; ".join(str(m) for m in messages[:10]), 300)
    return ""


def _existing_keys(output: Path) -> set[str]:
    """Issue keys in the output (cut to its complete pages), read a line at a time."""
    keys: set[str] = set()
    with output.open("rb") as handle:
        for line in handle:
            try:
                keys.add(str(safe_json.loads(line)["key"]))
            except (ValueError, KeyError, TypeError):
                continue
    return keys


def _check_resumable(state: FetchState, state_file: Path, output: Path) -> None:
    """FetchError unless ``state.bytes`` of the output are complete lines that exist."""
    size = output.stat().st_size if output.exists() else -1
    if size < state.bytes:
        raise FetchError(f"{output} is shorter than {state_file} says; use --restart")
    if state.bytes:
        with output.open("rb") as handle:
            handle.seek(state.bytes - 1)
            if handle.read(1) != b"\n":
                raise FetchError(
                    f"{state_file} says the first {state.bytes} bytes of {output} are complete, "
                    "but a line goes on there: one of the two was changed; use --restart"
                )


def _resume_state(request: FetchRequest, site: str) -> tuple[FetchState, set[str]]:
    """The state to start from: a matching earlier run's, or a fresh one (output emptied)."""
    output, state_file = request.output, state_path(request.output)
    api = request.credentials.api
    if state_file.exists() and not request.restart:
        state = FetchState.load(state_file)
        if not state.matches(site, request.jql, api):
            raise FetchError(
                f"{state_file} belongs to another fetch ({state.api.value} "
                f"{printable(state.site, 120)}, JQL {printable(repr(state.jql), 120)}); use the "
                "same --site and --jql to resume, or --restart"
            )
        _check_resumable(state, state_file, output)
        with output.open("r+b") as handle:
            handle.truncate(state.bytes)  # drop a page cut short by the interruption
        return state, _existing_keys(output)
    if output.exists() and not request.restart:
        raise FetchError(
            f"{output} exists and no fetch of it was interrupted; --restart replaces it"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(b"")
    state = FetchState(site=site, jql=request.jql, api=api)
    state.save(state_file)  # from now on an interruption resumes
    return state, set()


def page_limit(first: Page, max_pages: int) -> int:
    """Pages a run may fetch: twice what its first answer announces plus 10, at most
    ``max_pages`` (all of them when the answer announces no total, as Jira Cloud's)."""
    if first.total is None or not first.issues:
        return max_pages
    announced = math.ceil(max(first.total - first.start_at, 0) / len(first.issues))
    return min(2 * announced + 10, max_pages)


@dataclass(frozen=True)
class FetchResult:
    issues: int
    pages: int
    resumed: bool
    skipped_duplicates: int


def fetch_issues(
    request: FetchRequest,
    session: requests.Session | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> FetchResult:
    """Fetch every issue the JQL selects into ``request.output``, resuming an interrupted run.

    Raises FetchError, or UnsafeRequestError (a redirect to another origin, plain http to
    another machine), with a one-line message.
    """

    def announce_wait(seconds: float, status: int) -> None:
        progress(f"HTTP {status}: waiting {seconds:g} s, as the site's Retry-After asks")

    if session is None:
        session = retrying_session(max_wait=request.max_wait, on_wait=announce_wait)
    search = JiraSearch(request, session)
    require_secure_transport(
        search.site, "--site", allow_insecure=request.allow_insecure_http, warn=progress
    )
    state, seen = _resume_state(request, search.site)
    resumed = state.pages > 0
    if resumed:
        progress(f"resuming after {state.issues} issues ({state.pages} pages) in {request.output}")
    state_file = state_path(request.output)
    watch = _PagingWatch(f"{search.site} ({search.api.value})", request.max_pages)
    watch.given(state.next_page_token)
    skipped = 0
    with request.output.open("ab") as out:
        while True:
            page = search.page(state.next_page_token, state.start_at)
            new = 0
            for issue in page.issues:
                record = issue_record(issue)
                if record["key"] in seen:
                    skipped += 1  # a page shifted by issues created meanwhile
                    continue
                seen.add(record["key"])
                # ASCII-escaped: a raw U+2028 in a summary would split the line for many readers
                out.write(json.dumps(record).encode("ascii") + b"\n")
                state.issues += 1
                new += 1
            out.flush()
            os.fsync(out.fileno())
            state.bytes = out.tell()
            state.pages += 1
            state.next_page_token = page.next_page_token
            state.start_at = page.next_start_at
            if not page.last:
                state.save(state_file)  # before anything else can interrupt us
            of_total = f" of {page.total}" if page.total is not None else ""
            progress(f"page {state.pages}: {state.issues}{of_total} issues")
            if page.last:
                break
            watch.check(page, new)  # what was written stays, resumable
    state_file.unlink(missing_ok=True)
    return FetchResult(state.issues, state.pages, resumed, skipped)


@dataclass
class _PagingWatch:
    """One run's guards against a server that does not page (hostile, or broken).

    Without them a repeated nextPageToken, pages that ignore startAt, or a Data
    Center answer without ``total`` would keep the fetch going forever.
    """

    where: str
    max_pages: int
    limit: int | None = None
    announced: int | None = None
    pages: int = 0
    stalled: int = 0
    tokens: set[str] = field(default_factory=set)

    def given(self, token: str | None) -> None:
        """A nextPageToken this run has used (or resumes with)."""
        if token is not None:
            self.tokens.add(token)

    def check(self, page: Page, new_issues: int) -> None:
        """After a page that is not the last: FetchError unless the next one may be fetched."""
        self.pages += 1
        if self.limit is None:  # the run's first answer sets its bound
            self.limit = page_limit(page, self.max_pages)
            self.announced = page.total
        self.stalled = 0 if new_issues else self.stalled + 1
        if self.stalled >= MAX_STALLED_PAGES:
            raise FetchError(
                f"{self.where} answered {self.stalled} pages in a row without a new issue: the "
                "server is not paging; stopped"
            )
        if page.next_page_token is not None:
            if page.next_page_token in self.tokens:
                raise FetchError(
                    f"{self.where} answered a nextPageToken it had given before: the server is "
                    "not paging; stopped"
                )
            self.given(page.next_page_token)
        if self.pages >= self.limit:
            announced = (
                f"its first answer announced {self.announced} issues"
                if self.announced is not None
                else "it announced no total"
            )
            raise FetchError(
                f"{self.where} still had pages after {self.pages} in this run ({announced}): "
                "either the server is not paging or the JQL selects too much for one run; "
                "narrow the JQL (e.g. created >= a date), or run the same command again to go on"
            )
