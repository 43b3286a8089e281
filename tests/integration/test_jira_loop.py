"""The loop with Jira, each step the command a user runs, in its own process.

A site's fetched history with ``priority_changes`` (written here, as ``fetch --changelog``
writes it) -> monitor (by accountId and by display name) -> prepare --exclude-bot ->
train-local -> backtest on tickets it never saw, whose figures must equal what the served
model (``serve``, POST /predict) answers for the same tickets. And ``retrain`` against a
fake Jira Cloud: the whole local chain, then a second run that fetches only what changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli.retraining import fetch_jql
from training_jobs.evaluation.metrics import urgency_thresholds

from jira_priority.labels import DEFAULT_SCHEME
from tests.fakes.jira import API_TOKEN, EMAIL, FakeJira, rest_issue, running_fake_jira
from tests.integration.local_server import start_server, stop
from tests.support.changelogs import BOT_ID, BOT_NAME, synthetic_site, write_issues
from tests.support.events import REPO_ROOT

pytestmark = pytest.mark.integration

API_KEY = "loop-test-key"
#: Small, fast training settings (the synthetic vocabularies need no more).
FAST = ("--epochs", "10", "--vector-dim", "16", "--buckets", "1000")


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


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def served_answers(model: Path, log: Path, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST /predict of the local server with ``model``, 25 tickets a request."""
    server = start_server(model, log, "--api-key", API_KEY)
    answers: list[dict[str, Any]] = []
    try:
        for start in range(0, len(tickets), 25):
            batch = [{"title": t["summary"], "description": t["description"]}
                     for t in tickets[start : start + 25]]  # fmt: skip
            status, _, body = server.post_json({"tickets": batch}, api_key=API_KEY)
            assert status == 200, body
            answers += body["predictions"]
    finally:
        stop(server)
    return answers


def test_monitor_prepare_train_backtest_agree_with_the_served_answers(tmp_path: Path) -> None:
    issues, truth = synthetic_site(n=1500, mixed=0.3)  # enough for both promises
    history = write_issues(tmp_path / "issues.jsonl", issues)
    unseen, _ = synthetic_site(n=150, seed=12, mixed=0.5)
    later = write_issues(tmp_path / "later.jsonl", unseen)

    expected = truth.counts(7)
    for name, bot in (("by-id", BOT_ID), ("by-name", BOT_NAME.lower())):
        command("monitor", str(history), "--bot", bot, "-o", str(tmp_path / name))
        report = read_json(tmp_path / name / "monitor.json")
        assert (report["bot_set"], report["overridden"], report["open"]["bot_set"]) == (
            expected["bot_set"], expected["overridden"], expected["open"],
        )  # fmt: skip
        assert report["override_rate"] == expected["overridden"] / expected["bot_set"]

    data, model = tmp_path / "data", tmp_path / "model"
    command("prepare", str(history), "--exclude-bot", BOT_NAME, "--correction-weight", "2",
            "-o", str(data))  # fmt: skip
    manifest = read_json(data / "manifest.json")
    assert manifest["excluded_bot_set"] == truth.unconfirmed
    assert manifest["bot_corrections"]["tickets"] == truth.corrected
    command("train-local", "--train", str(data / "train.txt"), "--validation",
            str(data / "validation.txt"), "-o", str(model), *FAST)  # fmt: skip

    command("backtest", str(later), "--model", str(model / "model.bin"), "-o",
            str(tmp_path / "backtest"), "--no-progress")  # fmt: skip

    report = read_json(tmp_path / "backtest" / "backtest.json")
    answers = served_answers(model / "model.bin", tmp_path / "serve.log", unseen)
    actions = Counter(a["action"] for a in answers)
    right = Counter(
        a["action"] for a, t in zip(answers, unseen, strict=True) if a["priority"] == t["priority"]
    )
    assert report["tickets"] == len(unseen)
    assert min(actions[a] for a in ("set", "keep", "triage")) > 0  # every action is exercised
    assert report["actions"] == {a: actions[a] for a in ("set", "keep", "triage")}
    assert report["right"] == {a: right[a] for a in ("set", "keep", "triage")}
    assert report["set_precision"] == (right["set"] / actions["set"] if actions["set"] else None)
    major = DEFAULT_SCHEME.from_name("Major").rank
    assert report["urgency_thresholds"] == urgency_thresholds(
        [a["urgency"] for a in answers],
        [DEFAULT_SCHEME.from_name(t["priority"]).rank > major for t in unseen],
    )


SELECTION = "project = ACME AND issuetype = Bug"


def rest_issues(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rest_issue(r["key"], r["summary"], r["description"], r["priority"]) for r in records]


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with running_fake_jira() as fake:
        yield fake


def test_retrain_runs_the_chain_then_fetches_only_what_changed(
    jira: FakeJira, tmp_path: Path
) -> None:
    issues, _ = synthetic_site(n=400, seed=5)
    jira.queries[fetch_jql(SELECTION, None)] = rest_issues(issues)
    work, live = tmp_path / "work", tmp_path / "live"
    env = {"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": API_TOKEN}
    retrain = ("retrain", "--site", jira.url, "--jql", SELECTION, "-w", str(work),
               "--live", str(live))  # fmt: skip

    first = command(*retrain, env=env)

    assert (live / "model.bin").is_file()
    assert "retrained and promoted" in first.stdout
    for step in ("fetch", "prepare", "train-local", "backtest", "promote"):
        assert f"+ jira-priority {step} " in first.stderr
    state = read_json(work / "retrain-state.json")
    updated = [{**issues[0], "priority": "Blocker"}, *synthetic_site(n=3, seed=6)[0]]
    updated[1:] = [{**r, "key": f"ACME-{900 + n}"} for n, r in enumerate(updated[1:])]
    jira.queries[fetch_jql(SELECTION, state["last_fetch_started"])] = rest_issues(updated)

    second = command(*retrain, env=env)

    merged = [json.loads(line) for line in (work / "tickets.jsonl").open()]
    assert len(merged) == 403
    assert {r["key"]: r["priority"] for r in merged}[issues[0]["key"]] == "Blocker"
    assert "updated >=" in second.stderr
    assert read_json(work / "data" / "manifest.json")["rows"]["read"] == 403
