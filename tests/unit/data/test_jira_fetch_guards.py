"""fetch without a network: a tampered state file, plain http, and what is parsed from outside.

Each refusal happens before any request (the session is offline): one line,
and the output file as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from training_jobs.cli import main
from training_jobs.data.jira_fetch import (
    Credentials,
    FetchError,
    FetchRequest,
    JiraApi,
    Page,
    fetch_issues,
    page_limit,
    state_path,
)
from training_jobs.safe_http import UnsafeRequestError

SITE = "http://127.0.0.1:9"
JQL = "project = ACME"
CLOUD = Credentials(JiraApi.CLOUD, "token", "me@example.com")
LINES = b'{"key": "ACME-1"}\n{"key": "ACME-2"}\n'


class OfflineSession(requests.Session):
    """A session whose every request fails as an unreachable site would; counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        raise requests.exceptions.ConnectionError("offline")


def interrupted_fetch(tmp_path: Path, **changes: Any) -> FetchRequest:
    """An output of two complete lines and a state file saying so, with ``changes`` made."""
    output = tmp_path / "issues.jsonl"
    output.write_bytes(LINES)
    state = {
        "site": SITE,
        "jql": JQL,
        "api": "cloud",
        "next_page_token": "abc",
        "start_at": 0,
        "issues": 2,
        "bytes": len(LINES),
        "pages": 1,
    }
    state.update(changes)
    state_path(output).write_text(json.dumps(state), encoding="utf-8")
    return FetchRequest(SITE, JQL, output, CLOUD)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"bytes": -5}, "bytes: Input should be greater than or equal to 0"),
        ({"bytes": 7}, "a line goes on there"),
        ({"bytes": len(LINES) - 1}, "a line goes on there"),
        ({"bytes": 10**30}, "is shorter than"),
        ({"bytes": True}, "bytes: Input should be a valid integer"),
        ({"bytes": 1.5}, "bytes: Input should be a valid integer"),
        ({"bytes": "36"}, "bytes: Input should be a valid integer"),
        ({"issues": -1}, "issues: Input should be greater than or equal to 0"),
        ({"start_at": -100}, "start_at: Input should be greater than or equal to 0"),
        ({"api": "jira"}, "api: Input should be 'cloud' or 'datacenter'"),
        ({"next_page_token": 5}, "next_page_token: Input should be a valid string"),
        ({"next_page_token": "t" * 10_000}, "next_page_token: String should have at most"),
    ],
)
def test_a_tampered_state_file_is_refused_in_one_line(
    tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    fetch = interrupted_fetch(tmp_path, **changes)

    session = OfflineSession()

    with pytest.raises(FetchError, match="--restart") as error:
        fetch_issues(fetch, session)

    assert reason in str(error.value)
    assert "\n" not in str(error.value)
    assert session.calls == 0
    assert fetch.output.read_bytes() == LINES  # nothing truncated, nothing corrupted


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"bytes": ' + "[" * 100_000,
        "[]",
        '"x"',
        "NaN",
        '{"bytes": Infinity}',
        "",
        " " * 100_000 + "{}",
    ],
    ids=["deep", "deep-value", "a-list", "a-string", "nan", "infinity", "empty", "100-kB"],
)
def test_a_state_file_that_is_not_an_object_of_counts_is_refused(tmp_path: Path, text: str) -> None:
    fetch = interrupted_fetch(tmp_path)
    state_path(fetch.output).write_text(text, encoding="utf-8")

    with pytest.raises(FetchError, match="is not a fetch state this tool wrote") as error:
        fetch_issues(fetch, OfflineSession())

    assert len(str(error.value)) < 400
    assert fetch.output.read_bytes() == LINES


def test_a_state_file_at_a_line_boundary_is_accepted_up_to_the_first_request(
    tmp_path: Path,
) -> None:
    # bytes=18: the end of the first line; the fetch gets as far as the network (off here)
    fetch = interrupted_fetch(tmp_path, bytes=LINES.index(b"\n") + 1)

    with pytest.raises(FetchError, match="cannot reach"):
        fetch_issues(fetch, OfflineSession())

    assert fetch.output.read_bytes() == LINES.split(b"\n")[0] + b"\n"


def test_the_state_file_command_error_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fetch = interrupted_fetch(tmp_path, bytes=-1)
    monkeypatch.setenv("JIRA_EMAIL", "me@example.com")
    monkeypatch.setenv("JIRA_API_TOKEN", "token")

    code = main(["fetch", "--site", SITE, "--jql", JQL, "-o", str(fetch.output)])

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert err.startswith("fetch: ")
    assert "Invalid argument" not in err


# --- plain http -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "site", ["http://jira.example.com", "http://10.0.0.5:8080", "HTTP://Jira.Example.com/"]
)
def test_plain_http_to_another_machine_is_refused_before_any_request(
    tmp_path: Path, site: str
) -> None:
    fetch = FetchRequest(site, JQL, tmp_path / "o.jsonl", CLOUD)

    session = OfflineSession()

    with pytest.raises(UnsafeRequestError, match="plain http to another machine") as error:
        fetch_issues(fetch, session)

    assert "--allow-insecure-http" in str(error.value)
    assert not fetch.output.exists()
    assert session.calls == 0


def test_plain_http_allowed_explicitly_is_warned_about(tmp_path: Path) -> None:
    fetch = FetchRequest(
        "http://jira.example.com", JQL, tmp_path / "o.jsonl", CLOUD, allow_insecure_http=True
    )
    messages: list[str] = []

    with pytest.raises(FetchError, match="cannot reach"):  # sockets are off in unit tests
        fetch_issues(fetch, OfflineSession(), progress=messages.append)

    assert messages == [
        "warning: --allow-insecure-http: the credentials go to jira.example.com in clear text"
    ]


@pytest.mark.parametrize("site", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_plain_http_to_this_machine_needs_no_flag(tmp_path: Path, site: str) -> None:
    fetch = FetchRequest(site, JQL, tmp_path / "o.jsonl", CLOUD)

    with pytest.raises(FetchError, match="cannot reach"):
        fetch_issues(fetch, OfflineSession())


def test_the_command_refuses_plain_http_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JIRA_PAT", "pat")
    for name in ("JIRA_EMAIL", "JIRA_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    code = main(["fetch", "--site", "http://jira.example.com", "--jql", JQL, "-o", "x.jsonl"])

    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "fetch: --site http://jira.example.com is plain http to another machine: the "
        "credentials would cross the network readable by anyone on the way; use https://, or "
        "--allow-insecure-http if you must\n"
    )


# --- the page bound -------------------------------------------------------------------------


def page(total: int | None, issues: int, start_at: int = 0) -> Page:
    return Page([{"key": "A"}] * issues, None, start_at + issues, False, total, start_at)


@pytest.mark.parametrize(
    ("first", "limit"),
    [
        (page(250, 100), 16),  # 3 pages announced: 2 x 3 + 10
        (page(250, 50), 20),  # the server's own page size counts
        (page(1000, 100, start_at=900), 12),  # a resumed run: what is left
        (page(10**12, 100), 10_000),  # never more than max_pages
        (page(None, 100), 10_000),  # Cloud announces nothing
        (page(5, 0), 10_000),
    ],
)
def test_a_run_is_bounded_by_what_its_first_answer_announces(first: Page, limit: int) -> None:
    assert page_limit(first, 10_000) == limit
