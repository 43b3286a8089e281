"""A stand-in for a Jira site's search APIs, on 127.0.0.1.

It answers both searches ``fetch`` uses, as Jira documents them:

* Jira Cloud ``GET /rest/api/3/search/jql`` (``jql``, ``fields``,
  ``maxResults``, ``nextPageToken``): ``{"issues": [...], "isLast": bool}``
  plus ``nextPageToken`` except on the last page; basic auth with e-mail and
  API token; descriptions as ADF documents.
* Jira Data Center ``GET /rest/api/2/search`` (``startAt``): ``{"startAt",
  "maxResults", "total", "issues"}``; a bearer personal access token;
  descriptions as wiki text.

Issues are selected by the exact JQL text (``queries``); any other JQL
matches nothing. Only the requested fields are returned. ``script`` makes the
next requests fail (``(status, headers)``), e.g. ``(429, {"Retry-After": "1"})``
or ``(500, {})``, or answer anything (``(status, headers, body bytes)``); a
``{path}`` in a header value is the request's path and query (a redirect:
``(302, {"Location": other_url + "{path}"})``). ``misbehaviour`` makes every
answer wrong in one of the ways a broken or hostile server pages (``Misbehaviour``).
Every request is logged for the tests to inspect; past ``max_requests`` the fake
answers 400, so a client that never stops fails instead of hanging the tests.

Run it by hand: ``python -m tests.fakes.jira --port 3401 --issues issues.json``
(a JSON list of REST issues, served for ``--jql``).
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

EMAIL = "admin@example.com"
API_TOKEN = "cloud-token-not-secret"
PAT = "datacenter-pat-not-secret"


def adf(text: str) -> dict[str, Any]:
    """Text as a Jira Cloud ADF document: one paragraph per line."""
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]}
            for line in text.split("\n")
            if line
        ],
    }


def rest_issue(
    key: str,
    summary: str,
    description: str,
    priority: str | None,
    *,
    issue_type: str = "Bug",
    status: str = "Done",
    created: str = "2026-01-02T03:04:05.000+0000",
) -> dict[str, Any]:
    """An issue as the REST API returns it, with every field the fetch asks for and more."""
    project = key.split("-")[0]
    return {
        "id": str(abs(hash(key)) % 100000),
        "key": key,
        "self": f"https://example.atlassian.net/rest/api/3/issue/{key}",
        "fields": {
            "summary": summary,
            "description": description,
            "priority": {"name": priority, "id": "3"} if priority else None,
            "project": {"key": project, "name": f"Project {project}"},
            "issuetype": {"name": issue_type},
            "status": {"name": status},
            "created": created,
            "assignee": {"displayName": "Someone"},  # not asked for: must not be returned
        },
    }


class Misbehaviour(StrEnum):
    """Ways a server can page wrongly; each alone would keep a naive client going forever."""

    #: Cloud: answer, as the next token, the token just received (page 1: a token to itself).
    REPEAT_TOKEN = "repeat-token"
    #: Serve the first page whatever the token or startAt, and never say it is the last.
    IGNORE_POSITION = "ignore-position"
    #: Issues without a "key".
    NO_KEYS = "no-keys"
    #: Data Center: no "total" in the answer.
    NO_TOTAL = "no-total"
    #: Fresh issues on every page, never a last one (no total, or a huge one with ``total``).
    ENDLESS = "endless"


Scripted = tuple[int, dict[str, str]] | tuple[int, dict[str, str], bytes]


@dataclass
class FakeJira:
    url: str
    #: JQL text -> the issues it selects, in order.
    queries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (status, headers[, body]) for the next requests, one each; then normal answers.
    script: list[Scripted] = field(default_factory=list)
    misbehaviour: set[Misbehaviour] = field(default_factory=set)
    #: With ENDLESS: the total the first answer claims, growing after it (None: no total).
    endless_total: int | None = None
    #: (status, headers, body) answered to every request, when set (a hostile site).
    always: tuple[int, dict[str, str], bytes] | None = None
    #: Past this many requests every answer is a 400 (a client that never stops fails).
    max_requests: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pages_served(self, api: str) -> list[str]:
        """The page positions (token or startAt) of the successful requests, in order."""
        return [r["position"] for r in self.requests if r["api"] == api and r["status"] == 200]


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str) -> int:
    return int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])


class _Handler(BaseHTTPRequestHandler):
    jira: FakeJira

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {name: values[0] for name, values in parse_qs(parts.query).items()}
        api = {"/rest/api/3/search/jql": "cloud", "/rest/api/2/search": "datacenter"}.get(
            parts.path
        )
        record: dict[str, Any] = {
            "api": api,
            "path": parts.path,
            "params": params,
            "authorization": self.headers.get("Authorization", ""),
            "x-api-key": self.headers.get("x-api-key"),
            "at": time.monotonic(),
            "position": params.get("nextPageToken", params.get("startAt", "")),
        }
        with self.jira.lock:
            self.jira.requests.append(record)
            scripted = self.jira.script.pop(0) if self.jira.script else self.jira.always
            flooded = len(self.jira.requests) > self.jira.max_requests
        if flooded:
            record["status"] = 400
            self._send(400, {"errorMessages": ["the fake's request limit: the client never stops"]})
            return
        if api is None:
            record["status"] = 404
            self._send(404, {"errorMessages": ["Not found"]})
            return
        if scripted is not None:
            status, headers = scripted[0], scripted[1]
            record["status"] = status
            headers = {name: value.replace("{path}", self.path) for name, value in headers.items()}
            if len(scripted) == 3:
                self._send_raw(status, scripted[2], headers)
            else:
                self._send(status, {"errorMessages": [f"scripted {status}"]}, headers)
            return
        if not self._authorised(api):
            record["status"] = 401
            self._send(401, {"errorMessages": ["You are not authenticated."]})
            return
        record["status"] = 200
        self._send(200, self._search(api, params))

    def _search(self, api: str, params: dict[str, str]) -> dict[str, Any]:
        """The answer to one search, as Jira gives it, or as ``misbehaviour`` spoils it."""
        wrong = self.jira.misbehaviour
        size = int(params.get("maxResults", "50"))
        wanted = set(params.get("fields", "*all").split(","))
        if api == "cloud":
            start = _offset(params["nextPageToken"]) if "nextPageToken" in params else 0
        else:
            start = int(params.get("startAt", "0"))
        if Misbehaviour.IGNORE_POSITION in wrong:
            start = 0
        if Misbehaviour.ENDLESS in wrong:
            chosen = [
                rest_issue(f"ENDLESS-{n}", f"issue {n}", "", "Major")
                for n in range(start + 1, start + size + 1)
            ]
            count = start + size + 1  # always one more to come
        else:
            issues = self.jira.queries.get(params.get("jql", ""), [])
            chosen, count = issues[start : start + size], len(issues)
        page = [self._shaped(issue, api, wanted) for issue in chosen]
        if Misbehaviour.NO_KEYS in wrong:
            for issue in page:
                del issue["key"]
        end = start + len(page)
        more = end < count or Misbehaviour.IGNORE_POSITION in wrong
        if api == "cloud":
            body: dict[str, Any] = {"issues": page, "isLast": not more}
            if more:
                body["nextPageToken"] = _token(end)
            if Misbehaviour.REPEAT_TOKEN in wrong:
                body["nextPageToken"] = params.get("nextPageToken", _token(0))
                body["isLast"] = False
            return body
        total: int | None = count
        if Misbehaviour.ENDLESS in wrong and self.jira.endless_total is not None:
            # endless_total on the first page, then always more than fetched so far
            total = max(self.jira.endless_total, start + 2 * size)
        elif Misbehaviour.ENDLESS in wrong:
            total = None
        elif Misbehaviour.IGNORE_POSITION in wrong:
            total = int(params.get("startAt", "0")) + 2 * size  # always more to come
        if Misbehaviour.NO_TOTAL in wrong:
            total = None
        body = {"startAt": start, "maxResults": size, "issues": page}
        if total is not None:
            body["total"] = total
        return body

    def _authorised(self, api: str) -> bool:
        given = self.headers.get("Authorization", "")
        if api == "cloud":
            expected = base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
            return given == f"Basic {expected}"
        return given == f"Bearer {PAT}"

    @staticmethod
    def _shaped(issue: dict[str, Any], api: str, wanted: set[str]) -> dict[str, Any]:
        fields = {
            name: value
            for name, value in issue["fields"].items()
            if "*all" in wanted or name in wanted
        }
        if api == "cloud" and isinstance(fields.get("description"), str):
            fields["description"] = adf(fields["description"])
        return {"id": issue["id"], "key": issue["key"], "self": issue["self"], "fields": fields}

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(body).encode(), headers)

    def _send_raw(self, status: int, raw: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def running_fake_jira(port: int = 0) -> Iterator[FakeJira]:
    """Start the fake on 127.0.0.1 (a free port unless given) and stop it on exit."""
    jira = FakeJira(url="")
    # A handler class of its own: two fakes may run at once (a redirect to another origin).
    handler = type("Handler", (_Handler,), {"jira": jira})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    host, bound = server.server_address[:2]
    jira.url = f"http://{host}:{bound}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield jira
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Jira site on 127.0.0.1 (tests only).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--issues", required=True, help="a JSON list of REST issues")
    parser.add_argument("--jql", required=True, help="the JQL that selects them")
    args = parser.parse_args()
    issues = json.loads(Path(args.issues).read_text(encoding="utf-8"))
    with running_fake_jira(args.port) as jira:
        jira.queries[args.jql] = issues
        print(f"fake Jira on {jira.url}", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
