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
``Retry-After`` says, other 5xx and connection failures back off
exponentially; 401/403 stop at once with a message that names the variables
to check (never their values).

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
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from jira_priority.adf import adf_text

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


def retrying_session(max_attempts: int = 6, backoff: float = 1.0) -> requests.Session:
    """A session that retries GETs on 429, 5xx and connection failures, honouring Retry-After."""
    retry = Retry(
        total=max_attempts - 1,
        status_forcelist=RETRIED_STATUSES,
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff,
        backoff_max=60,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is handed back and reported below
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["Accept"] = "application/json"
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
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                site=str(data["site"]),
                jql=str(data["jql"]),
                api=JiraApi(data["api"]),
                next_page_token=data.get("next_page_token"),
                start_at=int(data.get("start_at", 0)),
                issues=int(data["issues"]),
                bytes=int(data["bytes"]),
                pages=int(data.get("pages", 0)),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FetchError(
                f"{path} is not a fetch state this tool wrote ({exc}); remove it, or use "
                "--restart to fetch everything again"
            ) from exc


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


@dataclass(frozen=True)
class Page:
    issues: list[dict[str, Any]]
    next_page_token: str | None
    next_start_at: int
    last: bool
    total: int | None


def normalised_site(site: str) -> str:
    parts = urlsplit(site.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(
            f"--site must be the site's http(s) URL, e.g. https://acme.atlassian.net, got {site!r}"
        )
    return site.strip().rstrip("/")


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
        if self.api is JiraApi.CLOUD:
            next_token = body.get("nextPageToken")
            next_token = next_token if isinstance(next_token, str) and next_token else None
            last = bool(body.get("isLast", False)) or next_token is None or not issues
            return Page(issues, next_token, 0, last, None)
        total = body.get("total")
        total = total if isinstance(total, int) else None
        next_start = start_at + len(issues)
        last = not issues or (total is not None and next_start >= total)
        return Page(issues, None, next_start, last, total)

    def _get(self, url: str, params: Mapping[str, str | int]) -> dict[str, Any]:
        try:
            response = self.session.get(url, params=params, timeout=self.request.timeout)
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
                f"{url} answered HTTP {status}{_jira_errors(response)} on every attempt; "
                f"{RESUME_HINT}"
            )
        if status >= 400:
            raise FetchError(f"{url} answered HTTP {status}{_jira_errors(response)}")
        try:
            body = response.json()
        except ValueError as exc:
            raise FetchError(f"{url} answered something that is not JSON") from exc
        if not isinstance(body, dict):
            raise FetchError(f"{url} answered JSON that is not an object")
        return body


def _jira_errors(response: requests.Response) -> str:
    """Jira's own error messages (e.g. a JQL syntax error), shortened."""
    try:
        body = response.json()
    except ValueError:
        return ""
    messages = body.get("errorMessages") if isinstance(body, dict) else None
    if isinstance(messages, list) and messages:
        return ": " + "; ".join(str(m) for m in messages)[:300]
    return ""


def _existing_keys(output: Path, size: int) -> set[str]:
    """Issue keys in the first ``size`` bytes of the output (the complete pages)."""
    keys: set[str] = set()
    with output.open("rb") as handle:
        for line in handle.read(size).splitlines():
            try:
                keys.add(str(json.loads(line)["key"]))
            except (ValueError, KeyError, TypeError):
                continue
    return keys


def _resume_state(request: FetchRequest, site: str) -> tuple[FetchState, set[str]]:
    """The state to start from: a matching earlier run's, or a fresh one (output emptied)."""
    output, state_file = request.output, state_path(request.output)
    api = request.credentials.api
    if state_file.exists() and not request.restart:
        state = FetchState.load(state_file)
        if not state.matches(site, request.jql, api):
            raise FetchError(
                f"{state_file} belongs to another fetch ({state.api.value} {state.site}, JQL "
                f"{state.jql!r}); use the same --site and --jql to resume, or --restart"
            )
        if not output.exists() or output.stat().st_size < state.bytes:
            raise FetchError(f"{output} is shorter than {state_file} says; use --restart")
        with output.open("r+b") as handle:
            handle.truncate(state.bytes)  # drop a page cut short by the interruption
        return state, _existing_keys(output, state.bytes)
    if output.exists() and not request.restart:
        raise FetchError(
            f"{output} exists and no fetch of it was interrupted; --restart replaces it"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(b"")
    state = FetchState(site=site, jql=request.jql, api=api)
    state.save(state_file)  # from now on an interruption resumes
    return state, set()


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
    """Fetch every issue the JQL selects into ``request.output``, resuming an interrupted run."""
    search = JiraSearch(request, session if session is not None else retrying_session())
    state, seen = _resume_state(request, search.site)
    resumed = state.pages > 0
    if resumed:
        progress(f"resuming after {state.issues} issues ({state.pages} pages) in {request.output}")
    state_file = state_path(request.output)
    skipped = 0
    with request.output.open("ab") as out:
        while True:
            page = search.page(state.next_page_token, state.start_at)
            for issue in page.issues:
                record = issue_record(issue)
                if record["key"] and record["key"] in seen:
                    skipped += 1  # a page shifted by issues created meanwhile
                    continue
                seen.add(record["key"])
                # ASCII-escaped: a raw U+2028 in a summary would split the line for many readers
                out.write(json.dumps(record).encode("ascii") + b"\n")
                state.issues += 1
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
    state_file.unlink(missing_ok=True)
    return FetchResult(state.issues, state.pages, resumed, skipped)
