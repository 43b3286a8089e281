"""A Jira Cloud site's tickets to a prediction in its own names, with the README's commands.

fetch (from a fake Jira Cloud on 127.0.0.1) -> prepare --scheme jira-cloud ->
train-local -> serve -> the Jira Automation rule's request, each step the
command a user runs, in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest
from training_jobs.data.readers import read_tickets

from jira_priority.labels import JIRA_CLOUD, SCHEME_FILE
from tests.fakes.jira import API_TOKEN, EMAIL, FakeJira, rest_issue, running_fake_jira
from tests.integration.local_server import start_server, stop
from tests.support.events import REPO_ROOT, load_event

pytestmark = pytest.mark.integration

DATA = REPO_ROOT.parent / "shared" / "data" / "jira" / "apache_bugs.csv.gz"
JQL = "project in (HIVE, HDFS) AND issuetype = Bug ORDER BY key"
#: The Apache tickets stand in for a Jira Cloud site's: same order, the site's names.
CLOUD_NAMES = {
    "Trivial": "Lowest",
    "Minor": "Low",
    "Major": "Medium",
    "Critical": "High",
    "Blocker": "Highest",
}
TICKETS = 3000
API_KEY = "jira-automation-key"


@pytest.fixture(scope="module")
def jira() -> Iterator[FakeJira]:
    if not DATA.is_file():
        pytest.skip(f"{DATA} is not here")
    tickets = islice(read_tickets(DATA), TICKETS)
    issues = [
        rest_issue(
            t.key or f"ACME-{n}", t.title, t.description, CLOUD_NAMES[t.priority],
            status=t.status or "Done",
        )
        for n, t in enumerate(tickets, start=1)
    ]  # fmt: skip
    with running_fake_jira() as fake:
        fake.queries[JQL] = issues
        yield fake


def command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "training_jobs", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_fetch_prepare_train_serve_answers_in_jira_cloud_names(
    jira: FakeJira, tmp_path: Path
) -> None:
    issues, data, model = tmp_path / "issues.jsonl", tmp_path / "data", tmp_path / "model"

    command("fetch", "--site", jira.url, "--jql", JQL, "--output", str(issues),
            env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": API_TOKEN})  # fmt: skip
    assert len(issues.read_text().splitlines()) == TICKETS
    command("prepare", str(issues), "--scheme", "jira-cloud", "--output-dir", str(data))
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["rows"]["read"] == TICKETS
    assert manifest["rows"]["rejected_by_reason"] == {}
    command("train-local", "--train", str(data / "train.txt"),
            "--validation", str(data / "validation.txt"), "--output-dir", str(model))  # fmt: skip
    assert json.loads((model / SCHEME_FILE).read_text())["name"] == "jira-cloud"

    server = start_server(model / "model.bin", tmp_path / "serve.log", "--api-key", API_KEY)
    try:
        body = load_event("predict-jira-automation")["body"]  # what the rule sends
        status, _, answer = server.request(
            "POST", "/predict", body, {"Content-Type": "application/json"}, api_key=API_KEY
        )
    finally:
        stop(server)

    assert status == 200
    prediction = json.loads(answer)
    assert prediction["priority"] in JIRA_CLOUD.names
    assert prediction["priority"] == JIRA_CLOUD.from_label(prediction["label"]).value
    assert len(prediction["ranking"]) == 3
    assert {entry["priority"] for entry in prediction["ranking"]} <= set(JIRA_CLOUD.names)
    assert 0 < prediction["probability"] <= 1
