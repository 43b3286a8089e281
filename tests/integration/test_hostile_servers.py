"""``fetch`` and ``evaluate --api-url`` against hostile servers on 127.0.0.1: one line, never more.

A property (hypothesis) serves one hostile answer to every request (a status, headers
such as Retry-After or a Location to another origin, and a body: JSON nested 100,000
deep, random JSON, pages shaped almost like Jira's, Jira errors full of terminal
escapes, bytes) and runs the real command in-process; a corpus of the worst answers
runs the command in a subprocess, so its stderr is exactly what a user sees.

Whatever the server does, the command ends (the number of requests it may make is
bounded by construction: no wall clock is read here), no credential reaches another
origin, and either it succeeded or its stderr holds exactly one error line, last,
escaped, with no traceback. Waits are recorded, never slept.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from training_jobs.cli import main
from training_jobs.data.jira_fetch import MAX_STALLED_PAGES

from tests.fakes.jira import API_TOKEN, EMAIL, PAT, FakeJira, running_fake_jira
from tests.fakes.scripted_http import ScriptedServer, running_scripted_server
from tests.support.events import REPO_ROOT

pytestmark = pytest.mark.integration

JQL = "project = ACME"
API_KEY = "evaluate-key-never-elsewhere"
#: Progress and warnings a command may print before its one error line.
PROGRESS = re.compile(r"^(page \d+: |HTTP \d+: waiting |resuming after |warning: )")
#: Attempts per request fetch makes (urllib3 Retry: 1 + 5 retries).
FETCH_ATTEMPTS = 6
#: The other origin a Location may point to.
OTHER = "{other}"


# --- hostile answers ------------------------------------------------------------------------

CONTROL = st.text(
    alphabet=st.sampled_from(["\x1b", "]", "[", "0", ";", "\x07", "\r", "\n", "\u202e", "a", "é"]),
    max_size=40,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
ISSUE = st.fixed_dictionaries(
    {},
    optional={
        "key": st.one_of(st.none(), st.integers(), st.text(max_size=10), CONTROL),
        "fields": st.one_of(
            JSON_VALUES,
            st.fixed_dictionaries({}, optional={"priority": st.dictionaries(st.text(), CONTROL)}),
        ),
    },
)
PAGE = st.fixed_dictionaries(
    {"issues": st.one_of(st.lists(ISSUE, max_size=5), JSON_VALUES)},
    optional={
        "isLast": st.one_of(st.booleans(), JSON_VALUES),
        "nextPageToken": st.one_of(st.text(max_size=10), JSON_VALUES, st.just("x" * 10_000)),
        "total": st.one_of(st.integers(), st.just(10**30), JSON_VALUES),
        "maxResults": st.one_of(st.integers(), JSON_VALUES),
    },
)


def deep(prefix: bytes, levels: int) -> bytes:
    return prefix + b"[" * levels


def error_body(messages: list[str]) -> bytes:
    """Jira's error shape and the API's, both full of outside text."""
    error = {"code": messages[0], "message": messages[-1]}
    return json.dumps({"errorMessages": messages, "error": error}).encode()


BODIES = st.one_of(
    st.builds(
        deep, st.sampled_from([b"", b'{"issues": ', b'{"predictions": ']), st.integers(600, 200_000)
    ),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    PAGE.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda messages: json.dumps(
            {"errorMessages": messages, "error": {"code": messages[0], "message": messages[-1]}}
        ).encode(),
        st.lists(st.one_of(CONTROL, st.just("\x1b[2J" + "L" * 10_000)), min_size=1, max_size=3),
    ),
    st.binary(max_size=100),
    st.just(b"1" * 5000),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Retry-After": st.sampled_from(
            ["86400", "1" + "0" * 30, "Fri, 31 Dec 9999 23:59:59 GMT", "soon", "-1", "0", "3"]
        ),
        "Location": st.sampled_from(
            [OTHER + "{path}", OTHER + "/predict", "https://127.0.0.1:1/", "//localhost:1/x", ""]
        ),
        "Content-Type": st.sampled_from(["application/json", "text/html", "\x1b[2J"]),
    },
)
STATUSES = st.sampled_from([200, 204, 301, 302, 303, 307, 308, 400, 401, 403, 404, 429, 500, 503])
ANSWERS = st.tuples(STATUSES, HEADERS, BODIES)


def with_other(headers: dict[str, str], other: ScriptedServer) -> dict[str, str]:
    return {name: value.replace(OTHER, other.url) for name, value in headers.items()}


def assert_one_error_line_or_success(code: int, err: str, command: str) -> None:
    lines = err.splitlines()
    errors = [line for line in lines if not PROGRESS.match(line)]
    assert "Traceback" not in err
    assert "\x1b" not in err
    if code == 0:
        assert errors == []
        return
    assert len(errors) == 1, err
    assert lines[-1] == errors[0]
    assert errors[0].startswith(f"{command}: ")


# --- fetch ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jira() -> Iterator[FakeJira]:
    with running_fake_jira() as fake:
        yield fake


@pytest.fixture(scope="module")
def other() -> Iterator[ScriptedServer]:
    with running_scripted_server() as server:
        yield server


def run_fetch(jira: FakeJira, api: str, output: Path) -> tuple[int, str, list[float]]:
    """``fetch`` in-process, its waits recorded instead of slept."""
    environ = (
        {"JIRA_PAT": PAT}
        if api == "datacenter"
        else {"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": API_TOKEN}
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    err, out, waits = io.StringIO(), io.StringIO(), []
    with (
        mock.patch.dict(os.environ, {**clean, **environ}, clear=True),
        mock.patch("time.sleep", waits.append),
        redirect_stderr(err),
        redirect_stdout(out),
    ):
        code = main(["fetch", "--site", jira.url, "--jql", JQL, "-o", str(output), "--api", api])
    return code, err.getvalue(), waits


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answer=ANSWERS, api=st.sampled_from(["cloud", "datacenter"]))
def test_fetch_meets_any_answer_with_one_line_or_success(
    jira: FakeJira, other: ScriptedServer, answer: tuple[int, dict[str, str], bytes], api: str
) -> None:
    status, headers, body = answer
    jira.requests.clear()
    other.reset()
    jira.always = (status, with_other(headers, other), body)
    try:
        with tempfile.TemporaryDirectory() as directory:
            code, err, waits = run_fetch(jira, api, Path(directory) / "out.jsonl")
    finally:
        jira.always = None

    assert_one_error_line_or_success(code, err, "fetch")
    assert other.requests == []
    # bounded by construction: a few pages (stalled, then stopped), each tried a few times
    assert len(jira.requests) <= FETCH_ATTEMPTS * (MAX_STALLED_PAGES + 2)
    assert all(wait <= 300 for wait in waits)


# --- evaluate --api-url ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def api() -> Iterator[ScriptedServer]:
    with running_scripted_server() as server:
        yield server


@pytest.fixture(scope="module")
def tickets() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "t.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["title", "description", "priority"])
            writer.writerow(["crash on start", "", "Major"])
            writer.writerow(["typo in docs", "", "Minor"])
        yield path


def run_evaluate(api: ScriptedServer, tickets: Path, output_dir: Path) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    argv = [
        "evaluate", str(tickets), "--api-url", api.url, "--api-key", API_KEY,
        "--max-attempts", "1", "--no-progress", "--output-dir", str(output_dir),
    ]  # fmt: skip
    with redirect_stderr(err), redirect_stdout(out):
        code = main(argv)
    return code, err.getvalue()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answer=ANSWERS)
def test_evaluate_meets_any_answer_with_one_line_or_success(
    api: ScriptedServer,
    other: ScriptedServer,
    tickets: Path,
    answer: tuple[int, dict[str, str], bytes],
) -> None:
    status, headers, body = answer
    api.reset()
    other.reset()
    api.default = (status, with_other(headers, other), body)
    with tempfile.TemporaryDirectory() as directory:
        code, err = run_evaluate(api, tickets, Path(directory))

    assert_one_error_line_or_success(code, err, "evaluate")
    assert other.requests == []
    # one attempt, and urllib's own bound on redirects within the origin
    assert 1 <= len(api.requests) <= 1 + urllib.request.HTTPRedirectHandler.max_redirections
    assert all(r["headers"].get("x-api-key") == API_KEY for r in api.requests)


# --- the worst answers, through a real process ----------------------------------------------

CORPUS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "100k-deep": (200, {}, b"[" * 100_000),
    "deep-errors": (400, {}, b'{"errorMessages": ' + b"[" * 100_000),
    "terminal-escapes": (
        400,
        {},
        json.dumps(
            {"errorMessages": ["\x1b]0;pwned\x07\x1b[2J\r\nforged" + "x" * 10_000]}
        ).encode(),
    ),
    "retry-after-a-day": (429, {"Retry-After": "86400"}, b"{}"),
    "retry-after-year-9999": (503, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, b"{}"),
    "redirect-elsewhere": (302, {"Location": OTHER + "{path}"}, b""),
    "keyless-issues": (200, {}, json.dumps({"issues": [{"fields": {}}], "isLast": False}).encode()),
    "repeated-token": (
        200,
        {},
        json.dumps({"issues": [{"key": "A-1"}], "nextPageToken": "same"}).encode(),
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_fetch_process_prints_one_line_for_the_worst_answers(
    jira: FakeJira, other: ScriptedServer, tmp_path: Path, name: str
) -> None:
    status, headers, body = CORPUS[name]
    jira.requests.clear()
    other.reset()
    jira.always = (status, with_other(headers, other), body)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "training_jobs", "fetch", "--site", jira.url, "--jql", JQL,
             "-o", str(tmp_path / "out.jsonl")],
            cwd=REPO_ROOT,
            env={**clean, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": API_TOKEN},
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        jira.always = None

    assert done.returncode == 1
    assert_one_error_line_or_success(done.returncode, done.stderr, "fetch")
    assert other.requests == []


def test_the_evaluate_process_prints_one_line_for_a_deep_answer(
    tickets: Path, tmp_path: Path
) -> None:
    with running_scripted_server() as api:
        api.default = (200, {}, b"[" * 100_000)
        done = subprocess.run(
            [sys.executable, "-m", "training_jobs", "evaluate", str(tickets), "--api-url", api.url,
             "--api-key", API_KEY, "--no-progress", "--output-dir", str(tmp_path)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    assert done.returncode == 1
    assert done.stderr == (
        "evaluate: prediction failed: the API answered JSON nested more than 512 levels deep\n"
    )
