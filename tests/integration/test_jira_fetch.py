"""``fetch`` against a fake Jira on 127.0.0.1: both APIs, paging, throttling, failures, resuming."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from training_jobs.data import jira_fetch
from training_jobs.data.jira_fetch import (
    FIELDS,
    MAX_STALLED_PAGES,
    Credentials,
    FetchError,
    FetchRequest,
    JiraApi,
    fetch_issues,
    retrying_session,
    state_path,
)

from tests.fakes.jira import (
    API_TOKEN,
    EMAIL,
    PAT,
    FakeJira,
    Misbehaviour,
    rest_issue,
    running_fake_jira,
)
from tests.support.events import REPO_ROOT

pytestmark = pytest.mark.integration

JQL = "project = ACME AND issuetype = Bug ORDER BY key"
CLOUD = Credentials(JiraApi.CLOUD, API_TOKEN, EMAIL)
DATA_CENTER = Credentials(JiraApi.DATA_CENTER, PAT)
PRIORITIES = ("Lowest", "Low", "Medium", "High", "Highest")


def issues(count: int) -> list[dict[str, Any]]:
    return [
        rest_issue(
            f"ACME-{n}",
            f"Crash number {n} in the exporter",
            f'Steps:\nopen report {n}\nThe "export" button fails',
            PRIORITIES[n % 5],
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with running_fake_jira() as fake:
        fake.queries[JQL] = issues(250)
        yield fake


def request(jira: FakeJira, tmp_path: Path, credentials: Credentials, **kw: Any) -> FetchRequest:
    return FetchRequest(
        site=jira.url, jql=JQL, output=tmp_path / "issues.jsonl", credentials=credentials, **kw
    )


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def fast_session() -> Any:
    return retrying_session(max_attempts=3, backoff=0.01)


def test_cloud_pages_with_next_page_token_and_asks_only_for_the_needed_fields(
    jira: FakeJira, tmp_path: Path
) -> None:
    result = fetch_issues(request(jira, tmp_path, CLOUD), fast_session())

    assert (result.issues, result.pages, result.resumed) == (250, 3, False)
    calls = [r for r in jira.requests if r["status"] == 200]
    assert [c["path"] for c in calls] == ["/rest/api/3/search/jql"] * 3
    assert "nextPageToken" not in calls[0]["params"]
    assert all(c["params"]["fields"] == ",".join(FIELDS) for c in calls)
    assert all(c["params"]["jql"] == JQL for c in calls)
    basic = base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
    assert all(c["authorization"] == f"Basic {basic}" for c in calls)
    written = records(tmp_path / "issues.jsonl")
    assert [r["key"] for r in written] == [f"ACME-{n}" for n in range(1, 251)]
    assert not state_path(tmp_path / "issues.jsonl").exists()


def test_cloud_adf_descriptions_become_text_in_the_record_prepare_reads(
    jira: FakeJira, tmp_path: Path
) -> None:
    fetch_issues(request(jira, tmp_path, CLOUD), fast_session())

    assert records(tmp_path / "issues.jsonl")[0] == {
        "key": "ACME-1",
        "summary": "Crash number 1 in the exporter",
        "description": 'Steps: open report 1 The "export" button fails',
        "priority": "Low",
        "project": "ACME",
        "issuetype": "Bug",
        "status": "Done",
        "created": "2026-01-02T03:04:05.000+0000",
    }


def test_data_center_pages_with_start_at_and_a_bearer_token(jira: FakeJira, tmp_path: Path) -> None:
    result = fetch_issues(request(jira, tmp_path, DATA_CENTER), fast_session())

    assert (result.issues, result.pages) == (250, 3)
    assert jira.pages_served("datacenter") == ["0", "100", "200"]
    assert all(r["authorization"] == f"Bearer {PAT}" for r in jira.requests)
    first = records(tmp_path / "issues.jsonl")[0]
    assert first["description"] == 'Steps:\nopen report 1\nThe "export" button fails'


def test_a_429_waits_as_long_as_retry_after_says(jira: FakeJira, tmp_path: Path) -> None:
    jira.script = [(429, {"Retry-After": "1"})]

    result = fetch_issues(request(jira, tmp_path, CLOUD), fast_session())

    assert result.issues == 250
    throttled, retried = jira.requests[0], jira.requests[1]
    assert throttled["status"] == 429
    assert retried["status"] == 200
    assert retried["at"] - throttled["at"] >= 0.95


def test_a_5xx_then_success_is_retried(jira: FakeJira, tmp_path: Path) -> None:
    jira.script = [(500, {}), (503, {})]

    result = fetch_issues(request(jira, tmp_path, DATA_CENTER), fast_session())

    assert result.issues == 250
    assert [r["status"] for r in jira.requests[:3]] == [500, 503, 200]


def test_5xx_past_the_retries_fails_and_a_second_run_resumes(
    jira: FakeJira, tmp_path: Path
) -> None:
    # Page 1 succeeds, then page 2 fails three times (all attempts of the fast session).
    first = request(jira, tmp_path, CLOUD)
    pages = 0

    def fail_after_first_page(_: str) -> None:
        nonlocal pages
        pages += 1
        if pages == 1:
            jira.script.extend([(502, {})] * 3)

    with pytest.raises(
        FetchError,
        match="HTTP 502: scripted 502 on every attempt; run the same command later to resume",
    ):
        fetch_issues(first, fast_session(), progress=fail_after_first_page)
    assert len(records(tmp_path / "issues.jsonl")) == 100

    result = fetch_issues(first, fast_session())

    assert (result.issues, result.resumed) == (250, True)
    assert len(jira.pages_served("cloud")) == 3  # page 1 was not fetched again


def test_an_interrupted_run_resumes_without_fetching_a_page_twice(
    jira: FakeJira, tmp_path: Path
) -> None:
    fetch = request(jira, tmp_path, DATA_CENTER)

    def interrupt_after_two_pages(message: str) -> None:
        if message.startswith("page 2:"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_issues(fetch, fast_session(), progress=interrupt_after_two_pages)
    state_file = state_path(fetch.output)
    state = json.loads(state_file.read_text())
    assert (state["issues"], state["start_at"]) == (200, 200)
    assert PAT not in state_file.read_text()
    with fetch.output.open("ab") as out:  # a crash in the middle of writing page 3
        out.write(b'{"key": "ACME-201", "summ')

    result = fetch_issues(fetch, fast_session())

    assert (result.issues, result.pages, result.resumed) == (250, 3, True)
    assert jira.pages_served("datacenter") == ["0", "100", "200"]
    keys = [r["key"] for r in records(fetch.output)]
    assert keys == [f"ACME-{n}" for n in range(1, 251)]
    assert not state_file.exists()


def test_resuming_with_another_jql_is_refused(jira: FakeJira, tmp_path: Path) -> None:
    fetch = request(jira, tmp_path, CLOUD)
    with pytest.raises(KeyboardInterrupt):
        fetch_issues(
            fetch, fast_session(), progress=lambda _: (_ for _ in ()).throw(KeyboardInterrupt)
        )
    other = FetchRequest(jira.url, "project = OTHER", fetch.output, CLOUD)

    with pytest.raises(FetchError, match="belongs to another fetch"):
        fetch_issues(other, fast_session())


def test_an_existing_output_is_not_replaced_without_restart(jira: FakeJira, tmp_path: Path) -> None:
    fetch = request(jira, tmp_path, CLOUD)
    fetch_issues(fetch, fast_session())

    with pytest.raises(FetchError, match="--restart replaces it"):
        fetch_issues(fetch, fast_session())
    again = fetch_issues(request(jira, tmp_path, CLOUD, restart=True), fast_session())
    assert again.issues == 250
    assert len(records(fetch.output)) == 250


def test_a_401_names_the_variables_and_never_the_token(jira: FakeJira, tmp_path: Path) -> None:
    wrong = Credentials(JiraApi.CLOUD, "wrong-token-value", EMAIL)

    with pytest.raises(FetchError) as error:
        fetch_issues(request(jira, tmp_path, wrong), fast_session())

    message = str(error.value)
    assert "HTTP 401" in message
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in message
    assert "wrong-token-value" not in message
    assert "wrong-token-value" not in repr(wrong)
    assert len(jira.requests) == 1  # a 401 is not retried


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    return subprocess.run(
        [sys.executable, "-m", "training_jobs", "fetch", *args],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_the_command_fetches_with_credentials_from_the_environment(
    jira: FakeJira, tmp_path: Path
) -> None:
    output = tmp_path / "cli.jsonl"

    done = run_cli(
        ["--site", jira.url, "--jql", JQL, "--output", str(output)],
        {"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": API_TOKEN},
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"fetched 250 issues in 3 pages into {output}"
    assert "page 3: 250 issues" in done.stderr
    assert API_TOKEN not in done.stdout + done.stderr + output.read_text()


def test_a_jql_that_matches_nothing_says_so_and_fails(jira: FakeJira, tmp_path: Path) -> None:
    output = tmp_path / "none.jsonl"

    done = run_cli(
        ["--site", jira.url, "--jql", "project = NOPE", "--output", str(output)],
        {"JIRA_PAT": PAT},
    )

    assert done.returncode == 1
    assert "the JQL matched no issue the account can see" in done.stderr
    assert output.read_text() == ""


def test_the_command_without_credentials_fails_before_any_request(
    jira: FakeJira, tmp_path: Path
) -> None:
    started = time.monotonic()

    done = run_cli(["--site", jira.url, "--jql", JQL, "--output", str(tmp_path / "x")], {})

    assert done.returncode == 1
    assert "set JIRA_EMAIL and JIRA_API_TOKEN" in done.stderr
    assert jira.requests == []
    assert time.monotonic() - started < 30  # no prompt waited: stdin is not a terminal


def test_a_refused_jql_shows_jiras_own_message_and_is_not_retried(
    jira: FakeJira, tmp_path: Path
) -> None:
    jira.script = [(400, {})]

    with pytest.raises(FetchError, match=r"answered HTTP 400: scripted 400$"):
        fetch_issues(request(jira, tmp_path, CLOUD), fast_session())
    assert len(jira.requests) == 1


def test_a_site_that_is_not_a_url_is_refused_before_any_request(
    jira: FakeJira, tmp_path: Path
) -> None:
    fetch = FetchRequest("acme.atlassian.net", JQL, tmp_path / "x.jsonl", CLOUD)

    with pytest.raises(FetchError, match="--site must be the site's http"):
        fetch_issues(fetch, fast_session())
    assert jira.requests == []


# --- a server that does not page: stopped, never endless --------------------------------


def test_a_repeated_next_page_token_stops_the_fetch(jira: FakeJira, tmp_path: Path) -> None:
    jira.misbehaviour = {Misbehaviour.REPEAT_TOKEN}

    with pytest.raises(FetchError, match="answered a nextPageToken it had given before"):
        fetch_issues(request(jira, tmp_path, CLOUD), fast_session())

    assert len(jira.requests) == 2


@pytest.mark.parametrize("credentials", [CLOUD, DATA_CENTER], ids=["cloud", "datacenter"])
def test_issues_without_keys_stop_the_fetch_at_the_first_page(
    jira: FakeJira, tmp_path: Path, credentials: Credentials
) -> None:
    jira.misbehaviour = {Misbehaviour.NO_KEYS}

    with pytest.raises(FetchError, match="answered an issue without a usable key"):
        fetch_issues(request(jira, tmp_path, credentials), fast_session())

    assert len(jira.requests) == 1


def test_data_center_without_total_pages_until_a_short_page(jira: FakeJira, tmp_path: Path) -> None:
    jira.misbehaviour = {Misbehaviour.NO_TOTAL}

    result = fetch_issues(request(jira, tmp_path, DATA_CENTER), fast_session())

    assert (result.issues, result.pages) == (250, 3)
    assert jira.pages_served("datacenter") == ["0", "100", "200"]


def test_data_center_without_total_ignoring_start_at_stops_for_no_progress(
    jira: FakeJira, tmp_path: Path
) -> None:
    # GIVEN a server that answers the first full page whatever startAt says, without a total
    jira.misbehaviour = {Misbehaviour.NO_TOTAL, Misbehaviour.IGNORE_POSITION}

    # WHEN fetch pages through it
    with pytest.raises(FetchError, match="3 pages in a row without a new issue"):
        fetch_issues(request(jira, tmp_path, DATA_CENTER), fast_session())

    # THEN it stopped after the first page and three that brought nothing new
    assert len(jira.requests) == 1 + MAX_STALLED_PAGES
    assert len(records(tmp_path / "issues.jsonl")) == 100


def test_cloud_ignoring_the_token_stops(jira: FakeJira, tmp_path: Path) -> None:
    jira.misbehaviour = {Misbehaviour.IGNORE_POSITION}

    with pytest.raises(FetchError, match="the server is not paging"):
        fetch_issues(request(jira, tmp_path, CLOUD), fast_session())

    assert len(jira.requests) <= 1 + MAX_STALLED_PAGES


def test_endless_pages_stop_at_twice_what_the_first_answer_announced(
    jira: FakeJira, tmp_path: Path
) -> None:
    # GIVEN a Data Center server announcing 250 issues but inventing new ones forever
    jira.misbehaviour = {Misbehaviour.ENDLESS}
    jira.endless_total = 250

    with pytest.raises(FetchError, match=r"still had pages after 16 in this run \(its first"):
        fetch_issues(request(jira, tmp_path, DATA_CENTER), fast_session())

    # THEN 3 pages were announced: at most 2 x 3 + 10 were fetched
    assert len(jira.requests) == 16


def test_endless_pages_without_a_total_stop_at_max_pages_and_resume(
    jira: FakeJira, tmp_path: Path
) -> None:
    # GIVEN a Cloud site (no total) with fresh issues on every page, for ever
    jira.misbehaviour = {Misbehaviour.ENDLESS}
    fetch = request(jira, tmp_path, CLOUD, max_pages=7)

    with pytest.raises(FetchError, match=r"still had pages after 7 in this run \(it announced no"):
        fetch_issues(fetch, fast_session())

    # THEN what was fetched is kept, and a second run goes on from there (bounded again)
    assert len(records(fetch.output)) == 700
    with pytest.raises(FetchError, match="still had pages after 7"):
        fetch_issues(fetch, fast_session())
    keys = [r["key"] for r in records(fetch.output)]
    assert keys == [f"ENDLESS-{n}" for n in range(1, 1401)]


# --- Retry-After: obeyed up to a cap, announced; beyond it, a clear failure -----------------


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.sleep recorded instead of slept (urllib3's Retry sleeps through it)."""
    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", recorded.append)
    return recorded


@pytest.mark.parametrize(
    "retry_after",
    ["86400", "1" + "0" * 30, "Fri, 31 Dec 9999 23:59:59 GMT", "301"],
    ids=["a-day", "10^30", "year-9999", "just-past-the-cap"],
)
def test_a_retry_after_beyond_the_cap_fails_at_once(
    jira: FakeJira, tmp_path: Path, sleeps: list[float], retry_after: str
) -> None:
    jira.script = [(429, {"Retry-After": retry_after})]

    with pytest.raises(FetchError, match=r"asking to wait .* longer than the 300 s fetch waits"):
        fetch_issues(request(jira, tmp_path, CLOUD), retrying_session())

    assert sleeps == []
    assert len(jira.requests) == 1


def test_a_retry_after_within_the_cap_is_waited_and_announced(
    jira: FakeJira, tmp_path: Path, sleeps: list[float]
) -> None:
    jira.script = [(429, {"Retry-After": "300"}), (503, {"Retry-After": "7"})]
    messages: list[str] = []

    result = fetch_issues(request(jira, tmp_path, CLOUD), progress=messages.append)

    assert result.issues == 250
    assert sleeps == [300, 7]
    assert messages[:2] == [
        "HTTP 429: waiting 300 s, as the site's Retry-After asks",
        "HTTP 503: waiting 7 s, as the site's Retry-After asks",
    ]


def test_the_cap_is_an_option(jira: FakeJira, tmp_path: Path, sleeps: list[float]) -> None:
    jira.script = [(429, {"Retry-After": "5"})]

    with pytest.raises(FetchError, match="longer than the 2 s fetch waits"):
        fetch_issues(request(jira, tmp_path, CLOUD, max_wait=2))
    assert sleeps == []


@pytest.mark.parametrize("retry_after", ["soon", "9" * 5000, "-5", "Fri, 31 Dec 99999 00:00:00"])
def test_an_unreadable_retry_after_falls_back_to_the_back_off(
    jira: FakeJira, tmp_path: Path, sleeps: list[float], retry_after: str
) -> None:
    jira.script = [(429, {"Retry-After": retry_after}), (429, {"Retry-After": retry_after})]

    result = fetch_issues(request(jira, tmp_path, CLOUD), retrying_session(backoff=0.5))

    assert result.issues == 250
    assert sleeps == [1.0]  # urllib3's back-off: none after the first failure, then 2 x 0.5


# --- answers from a hostile site: one clear line each -------------------------------------

HOSTILE_TEXT = "\x1b]0;pwned\x07\x1b[2J\r\nfetch: forged line\u202e" + "E" * 10_000


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"issues": [' + b"[" * 100_000, b'{"a":' * 200_000],
    ids=["100k-deep", "deep-inside", "1MB-of-objects"],
)
def test_an_answer_nested_100_000_deep_is_one_clear_error(
    jira: FakeJira, tmp_path: Path, body: bytes
) -> None:
    jira.script = [(200, {"Content-Type": "application/json"}, body)]

    with pytest.raises(FetchError, match="answered JSON nested more than 512 levels deep"):
        fetch_issues(request(jira, tmp_path, CLOUD), fast_session())


def test_jiras_error_messages_are_shown_escaped_and_short(jira: FakeJira, tmp_path: Path) -> None:
    body = json.dumps({"errorMessages": [HOSTILE_TEXT, "second"]}).encode()
    jira.script = [(400, {}, body)]

    with pytest.raises(FetchError) as error:
        fetch_issues(request(jira, tmp_path, CLOUD), fast_session())

    message = str(error.value)
    assert ": \\x1b]0;pwned\\x07\\x1b[2J\\r\\nfetch: forged line\\u202eEEE" in message
    for raw in ("\x1b", "\x07", "\r", "\n", "\u202e"):
        assert raw not in message
    assert len(message) < 600


def test_error_messages_nested_too_deep_are_left_out(jira: FakeJira, tmp_path: Path) -> None:
    jira.script = [(400, {}, b'{"errorMessages": ' + b"[" * 100_000)]

    with pytest.raises(FetchError, match=r"answered HTTP 400$"):
        fetch_issues(request(jira, tmp_path, CLOUD), fast_session())


def test_an_answer_larger_than_the_cap_is_refused(
    jira: FakeJira, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jira_fetch, "MAX_ANSWER_BYTES", 100_000)
    jira.script = [(200, {}, b" " * 200_000 + b"{}")]

    with pytest.raises(FetchError, match="answered more than 0 MiB for one page"):
        fetch_issues(request(jira, tmp_path, CLOUD), fast_session())


def test_the_command_prints_hostile_errors_as_one_line(jira: FakeJira, tmp_path: Path) -> None:
    jira.script = [(400, {}, json.dumps({"errorMessages": [HOSTILE_TEXT]}).encode())]

    done = run_cli(
        ["--site", jira.url, "--jql", JQL, "--output", str(tmp_path / "o.jsonl")],
        {"JIRA_PAT": PAT},
    )

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "\x1b" not in done.stderr
    assert "Traceback" not in done.stderr
