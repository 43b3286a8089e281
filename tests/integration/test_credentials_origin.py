"""No credential crosses to another origin, for every HTTP client: two loopback servers.

The first server answers a redirect to the second (another port, or another host name
or scheme for the same port); the second must receive nothing at all, and the command
says where the redirect pointed in one line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr
from pathlib import Path

import pytest
from training_jobs.cli import main
from training_jobs.data.jira_fetch import Credentials, FetchRequest, JiraApi, fetch_issues
from training_jobs.safe_http import UnsafeRequestError

from tests.fakes.jira import API_TOKEN, EMAIL, PAT, FakeJira, rest_issue, running_fake_jira
from tests.fakes.scripted_http import ScriptedServer, running_scripted_server

pytestmark = pytest.mark.integration

JQL = "project = ACME ORDER BY key"
CLOUD = Credentials(JiraApi.CLOUD, API_TOKEN, EMAIL)
DATA_CENTER = Credentials(JiraApi.DATA_CENTER, PAT)
API_KEY = "api-key-that-must-stay-home"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with running_fake_jira() as fake:
        fake.queries[JQL] = [rest_issue(f"ACME-{n}", f"crash {n}", "", "High") for n in range(5)]
        yield fake


@pytest.fixture
def other() -> Iterator[ScriptedServer]:
    """The second origin: it records whatever reaches it."""
    with running_scripted_server() as server:
        yield server


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


def fetch(jira: FakeJira, tmp_path: Path, credentials: Credentials) -> None:
    fetch_issues(FetchRequest(jira.url, JQL, tmp_path / "out.jsonl", credentials))


# --- fetch (requests: basic auth for Cloud, a bearer token for Data Center) ---------------


@pytest.mark.parametrize("credentials", [CLOUD, DATA_CENTER], ids=["basic-auth", "bearer"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_fetch_refuses_a_redirect_to_another_port(
    jira: FakeJira, other: ScriptedServer, tmp_path: Path, credentials: Credentials, status: int
) -> None:
    jira.script = [(status, {"Location": other.url + "{path}"})]

    with pytest.raises(UnsafeRequestError, match="another origin: not followed") as error:
        fetch(jira, tmp_path, credentials)

    assert other.requests == []
    assert f"redirected to {other.url}/rest/api/" in str(error.value)
    assert len(jira.requests) == 1


@pytest.mark.parametrize(
    "location",
    ["http://localhost:{port}{path}", "https://127.0.0.1:{port}{path}", "//localhost:{port}/x"],
    ids=["another-host", "another-scheme", "scheme-relative"],
)
def test_fetch_refuses_a_redirect_to_another_host_or_scheme_on_the_same_port(
    jira: FakeJira, tmp_path: Path, location: str
) -> None:
    jira.script = [(302, {"Location": location.replace("{port}", port_of(jira.url))})]

    with pytest.raises(UnsafeRequestError, match="another origin"):
        fetch(jira, tmp_path, CLOUD)

    assert len(jira.requests) == 1  # nothing followed, not even to the same server


def test_fetch_follows_a_redirect_within_the_origin_with_its_credentials(
    jira: FakeJira, tmp_path: Path
) -> None:
    jira.script = [(307, {"Location": jira.url + "{path}"})]

    fetch(jira, tmp_path, DATA_CENTER)

    assert [r["status"] for r in jira.requests] == [307, 200]
    assert jira.requests[1]["authorization"] == f"Bearer {PAT}"


def test_the_fetch_command_says_it_in_one_line(
    jira: FakeJira, other: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jira.script = [(302, {"Location": other.url + "{path}"})]
    monkeypatch.setenv("JIRA_PAT", PAT)
    for name in ("JIRA_EMAIL", "JIRA_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    err = io.StringIO()

    with redirect_stderr(err):
        code = main(["fetch", "--site", jira.url, "--jql", JQL, "-o", str(tmp_path / "o.jsonl")])

    assert code == 1
    assert err.getvalue().count("\n") == 1
    assert err.getvalue() == (
        f"fetch: {jira.url}/rest/api/2/search redirected to {other.url}/rest/api/2/search, "
        "another origin: not followed, so no credential went there; if that is the service, "
        "give its URL instead\n"
    )
    assert other.requests == []


# --- evaluate --api-url (urllib: x-api-key) -------------------------------------------------


def tickets(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, ["title", "description", "priority"])
        writer.writeheader()
        writer.writerow({"title": "crash on start", "description": "", "priority": "Major"})
    return path


@pytest.fixture
def api() -> Iterator[ScriptedServer]:
    """The API the user named: it redirects."""
    with running_scripted_server() as server:
        yield server


def evaluate(api_url: str, tmp_path: Path) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(
            [
                "evaluate",
                str(tickets(tmp_path / "t.csv")),
                "--api-url",
                api_url,
                "--api-key",
                API_KEY,
                "--max-attempts",
                "1",
                "--no-progress",
                "--output-dir",
                str(tmp_path / "report"),
            ]
        )
    return code, err.getvalue()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_evaluate_refuses_a_redirect_to_another_port_and_sends_the_key_nowhere_else(
    api: ScriptedServer, other: ScriptedServer, tmp_path: Path, status: int
) -> None:
    api.answers = [(status, {"Location": other.url + "/predict"}, b"")]

    code, err = evaluate(api.url, tmp_path)

    assert code == 1
    assert err.count("\n") == 1
    assert f"redirected to {other.url}/predict, another origin: not followed" in err
    assert other.requests == []
    assert [r["headers"]["x-api-key"] for r in api.requests] == [API_KEY]


@pytest.mark.parametrize(
    "location", ["http://localhost:{port}/predict", "https://127.0.0.1:{port}/predict"]
)
def test_evaluate_refuses_another_host_or_scheme_on_the_same_port(
    api: ScriptedServer, tmp_path: Path, location: str
) -> None:
    api.answers = [(302, {"Location": location.replace("{port}", port_of(api.url))}, b"")]

    code, err = evaluate(api.url, tmp_path)

    assert code == 1
    assert "another origin" in err
    assert len(api.requests) == 1


def test_evaluate_still_scores_through_an_api_that_does_not_redirect(
    api: ScriptedServer, tmp_path: Path
) -> None:
    prediction = {"priority": "Major", "ranking": [{"priority": "Major"}, {"priority": "Minor"}]}
    body = json.dumps({"predictions": [prediction]}).encode()
    api.answers = [(200, {"Content-Type": "application/json"}, body)]

    code, err = evaluate(api.url, tmp_path)

    assert code == 0, err
