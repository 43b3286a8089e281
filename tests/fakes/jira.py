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
or ``(500, {})``. Every request is logged for the tests to inspect.

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


@dataclass
class FakeJira:
    url: str
    #: JQL text -> the issues it selects, in order.
    queries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (status, headers) for the next requests, one each; then normal answers.
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
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
            "at": time.monotonic(),
            "position": params.get("nextPageToken", params.get("startAt", "")),
        }
        with self.jira.lock:
            self.jira.requests.append(record)
            scripted = self.jira.script.pop(0) if self.jira.script else None
        if api is None:
            record["status"] = 404
            self._send(404, {"errorMessages": ["Not found"]})
            return
        if scripted is not None:
            status, headers = scripted
            record["status"] = status
            self._send(status, {"errorMessages": [f"scripted {status}"]}, headers)
            return
        if not self._authorised(api):
            record["status"] = 401
            self._send(401, {"errorMessages": ["You are not authenticated."]})
            return
        record["status"] = 200
        issues = self.jira.queries.get(params.get("jql", ""), [])
        size = int(params.get("maxResults", "50"))
        wanted = set(params.get("fields", "*all").split(","))
        if api == "cloud":
            start = _offset(params["nextPageToken"]) if "nextPageToken" in params else 0
        else:
            start = int(params.get("startAt", "0"))
        page = [self._shaped(issue, api, wanted) for issue in issues[start : start + size]]
        end = start + len(page)
        if api == "cloud":
            body: dict[str, Any] = {"issues": page, "isLast": end >= len(issues)}
            if end < len(issues):
                body["nextPageToken"] = _token(end)
        else:
            body = {"startAt": start, "maxResults": size, "total": len(issues), "issues": page}
        self._send(200, body)

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
        raw = json.dumps(body).encode()
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
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    host, bound = server.server_address[:2]
    jira = FakeJira(url=f"http://{host}:{bound}")
    _Handler.jira = jira
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
