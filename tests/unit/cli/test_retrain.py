"""``retrain``: the commands it runs, what it fetches each time, resuming, stopping, the plan."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from training_jobs.cli import main, retraining
from training_jobs.cli.retraining import (
    Retrain,
    RetrainSettings,
    SageMakerTarget,
    Step,
    StepResult,
    fetch_jql,
)
from training_jobs.data.snapshots import merge_snapshots
from training_jobs.errors import CommandError

from tests.support.changelogs import BOT_ID, issue

SITE = "https://acme.atlassian.net"
SELECTION = "project = ACME AND issuetype = Bug"
FIRST = datetime(2024, 3, 4, 2, 30, tzinfo=UTC)


class FakeCommands:
    """Runs no process: records each step and plays its part (fetch writes issues)."""

    def __init__(self, fetched: list[dict[str, Any]] | None = None) -> None:
        self.steps: list[Step] = []
        self.fetched = fetched if fetched is not None else [issue("ACME-1", "Major", [])]
        self.status: dict[str, int] = {}
        self.interrupt_fetch = False

    def __call__(self, step: Step) -> StepResult:
        self.steps.append(step)
        if step.name == "fetch":
            output = Path(step.args[step.args.index("--output") + 1])
            lines = "".join(json.dumps(record) + "\n" for record in self.fetched)
            output.write_text(lines)
            if self.interrupt_fetch:
                output.with_name(output.name + ".fetch-state.json").write_text("{}")
                return StepResult(130, "")
            if not self.fetched:
                return StepResult(1, "")
        return StepResult(self.status.get(step.name, 0), "")

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.steps]

    def args_of(self, name: str) -> tuple[str, ...]:
        return next(step.args for step in self.steps if step.name == name)


def settings(tmp_path: Path, **changes: Any) -> RetrainSettings:
    values: dict[str, Any] = {
        "site": SITE,
        "jql": SELECTION,
        "work_dir": tmp_path / "work",
        "live": tmp_path / "live",
        "bots": (BOT_ID,),
        **changes,
    }
    return RetrainSettings(**values)


def retrain(tmp_path: Path, commands: FakeCommands, now: datetime = FIRST, **changes: Any) -> int:
    return Retrain(settings(tmp_path, **changes), commands, now).run()


def test_the_first_run_fetches_everything_then_runs_the_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = FakeCommands()

    assert retrain(tmp_path, commands) == 0

    assert commands.names == ["fetch", "monitor", "prepare", "train-local", "backtest", "promote"]
    fetch = commands.args_of("fetch")
    assert fetch[fetch.index("--jql") + 1] == f"{SELECTION} ORDER BY key"
    assert "--changelog" in fetch
    work = tmp_path / "work"
    assert commands.args_of("prepare")[1:] == (
        str(work / "tickets.jsonl"), "-o", str(work / "data"), "--exclude-bot", BOT_ID,
    )  # fmt: skip
    promote = commands.args_of("promote")
    assert promote[promote.index("--live") + 1] == str(tmp_path / "live")
    assert promote[promote.index("--held-out") + 1] == str(work / "data" / "validation.txt")
    state = json.loads((work / "retrain-state.json").read_text())
    assert state["last_fetch_started"] == "2024-03-04T02:30:00+00:00"
    assert state["pending"] is None
    assert (work / "tickets.jsonl").read_text() == json.dumps(commands.fetched[0]) + "\n"
    assert "retrained and promoted" in capsys.readouterr().out


def test_a_later_run_fetches_what_was_updated_since_the_day_before_the_last(
    tmp_path: Path,
) -> None:
    retrain(tmp_path, FakeCommands([issue("ACME-1", "Major", []), issue("ACME-2", "Minor", [])]))
    updated = issue("ACME-1", "Critical", [])
    later = FakeCommands([updated, issue("ACME-3", "Trivial", [])])

    assert retrain(tmp_path, later, now=FIRST + timedelta(days=7)) == 0

    fetch = later.args_of("fetch")
    assert fetch[fetch.index("--jql") + 1] == (
        f'({SELECTION}) AND updated >= "2024-03-03" ORDER BY key'
    )
    merged = [json.loads(line) for line in (tmp_path / "work" / "tickets.jsonl").open()]
    assert [(r["key"], r["priority"]) for r in merged] == [
        ("ACME-2", "Minor"), ("ACME-1", "Critical"), ("ACME-3", "Trivial"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("last", "since"),
    [
        ("2024-03-04T00:00:00+00:00", "2024-03-03"),
        ("2024-03-04T23:59:59+00:00", "2024-03-03"),
        ("2024-03-04T01:00:00+05:00", "2024-03-02"),  # 2024-03-03T20:00Z
    ],
)
def test_the_window_starts_a_day_before_the_last_fetch(last: str, since: str) -> None:
    assert fetch_jql("x = 1", last) == f'(x = 1) AND updated >= "{since}" ORDER BY key'


def test_nothing_updated_leaves_the_model_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    retrain(tmp_path, FakeCommands())
    quiet = FakeCommands([])

    assert retrain(tmp_path, quiet, now=FIRST + timedelta(days=7)) == 0

    assert quiet.names == ["fetch"]
    assert "nothing updated since the last run" in capsys.readouterr().out
    state = json.loads((tmp_path / "work" / "retrain-state.json").read_text())
    assert state["last_fetch_started"] == "2024-03-11T02:30:00+00:00"
    assert len(state["snapshots"]) == 1
    assert sorted(p.name for p in (tmp_path / "work" / "fetched").iterdir()) == [
        "0001-20240304T023000Z.jsonl"
    ]


def test_an_interrupted_fetch_is_resumed_with_the_same_jql_and_file(tmp_path: Path) -> None:
    retrain(tmp_path, FakeCommands())
    broken = FakeCommands([issue("ACME-2", "Minor", [])])
    broken.interrupt_fetch = True

    assert retrain(tmp_path, broken, now=FIRST + timedelta(days=7)) == 130
    assert broken.names == ["fetch"]
    resumed = FakeCommands([issue("ACME-2", "Minor", [])])
    assert retrain(tmp_path, resumed, now=FIRST + timedelta(days=9)) == 0

    assert resumed.args_of("fetch") == broken.args_of("fetch")
    state = json.loads((tmp_path / "work" / "retrain-state.json").read_text())
    assert state["last_fetch_started"] == "2024-03-11T02:30:00+00:00"  # when it started


def test_a_fetch_that_failed_before_writing_is_fetched_again_afresh(tmp_path: Path) -> None:
    first = FakeCommands([])  # the first run's JQL matched nothing: fetch exits 1

    assert retrain(tmp_path, first) == 1
    again = FakeCommands()
    assert retrain(tmp_path, again, now=FIRST + timedelta(hours=1)) == 0

    assert again.args_of("fetch") == first.args_of("fetch")


def test_a_candidate_the_gate_refuses_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = FakeCommands()
    commands.status["promote"] = 1

    assert retrain(tmp_path, commands) == 1

    err = capsys.readouterr().err
    assert f"retrain stopped at promote (exit 1); {tmp_path / 'live'} is left as it is" in err


def test_the_first_failing_step_stops_the_chain(tmp_path: Path) -> None:
    commands = FakeCommands()
    commands.status["prepare"] = 1

    assert retrain(tmp_path, commands) == 1
    assert commands.names == ["fetch", "monitor", "prepare"]


def test_without_a_bot_there_is_no_changelog_monitor_or_exclusion(tmp_path: Path) -> None:
    commands = FakeCommands()

    assert retrain(tmp_path, commands, bots=()) == 0

    assert commands.names == ["fetch", "prepare", "train-local", "backtest", "promote"]
    assert "--changelog" not in commands.args_of("fetch")
    assert "--exclude-bot" not in commands.args_of("prepare")


def test_prepare_gets_the_scheme_and_the_correction_weight(tmp_path: Path) -> None:
    commands = FakeCommands()

    retrain(tmp_path, commands, scheme="jira-cloud", default_priority="Medium",
            correction_weight=3)  # fmt: skip

    prepare = commands.args_of("prepare")
    assert prepare[-8:] == ("--scheme", "jira-cloud", "--default-priority", "Medium",
                            "--exclude-bot", BOT_ID, "--correction-weight", "3")  # fmt: skip


AWS = SageMakerTarget(
    endpoint_name="jira-priority",
    region="us-east-1",
    bucket="models",
    prefix="jira-priority",
    role_arn="arn:aws:iam::123456789012:role/sagemaker",
    rollout="canary",
)


def test_sagemaker_runs_upload_train_calibrate_package_and_deploy_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    downloads: list[tuple[str, Path, str]] = []
    monkeypatch.setattr(retraining, "_download", lambda *args: downloads.append(args))
    commands = FakeCommands()

    assert retrain(tmp_path, commands, sagemaker=AWS) == 0

    assert commands.names == ["fetch", "monitor", "prepare", "upload", "train", "calibrate",
                              "backtest", "package", "deploy"]  # fmt: skip
    job = "jira-priority-retrain-20240304-023000"
    work = tmp_path / "work"
    assert downloads == [(job, work / "job" / "model.tar.gz", "us-east-1")]
    assert commands.args_of("train")[:3] == ("train", "--job-name", job)
    archive = f"s3://models/jira-priority/retrained/{job}/model.tar.gz"
    package = commands.args_of("package")
    assert package[package.index("--upload") + 1] == archive
    deploy = commands.args_of("deploy")
    assert deploy[:3] == ("deploy", "--update", "--endpoint-name")
    assert deploy[deploy.index("--model-data-url") + 1] == archive
    assert deploy[deploy.index("--rollout") + 1] == "canary"
    calibrate = commands.args_of("calibrate")
    assert calibrate[calibrate.index("--model") + 1] == str(work / "job" / "model.tar.gz")
    out = capsys.readouterr().out
    assert f"ModelBucket=models ModelKey=jira-priority/retrained/{job}/model.tar.gz" in out


def test_dry_run_prints_the_commands_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"

    status = main(["retrain", "--site", SITE, "--jql", SELECTION, "--bot", BOT_ID, "-w",
                   str(work), "--sagemaker", "--endpoint-name", "jira-priority", "--region",
                   "us-east-1", "--bucket", "models", "--role-arn",
                   "arn:aws:iam::123456789012:role/sagemaker", "--dry-run"])  # fmt: skip

    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("jira-priority ")] == [
        "fetch", "monitor", "prepare", "upload", "train", "calibrate", "backtest", "package",
        "deploy",
    ]  # fmt: skip
    assert any(line.startswith("download the model.tar.gz of training job") for line in lines)
    assert not work.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--jql", f"{SELECTION} ORDER BY created"], "without ORDER BY"),
        (["--jql", "  "], "--jql"),
        (["--sagemaker"], "--endpoint-name"),
        (["--endpoint-name", "x"], "go with --sagemaker"),
        (["--correction-weight", "2"], "--correction-weight needs --bot"),
        (["--bot", " "], "--bot"),
        (["--sagemaker", "--endpoint-name", "e", "--region", "us-east-1", "--bucket", "my-models"],
         "role"),
    ],
)  # fmt: skip
def test_bad_options_are_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("SAGEMAKER_ROLE_ARN", raising=False)
    where = ["--site", SITE, "-w", str(tmp_path / "w")]
    jql = [] if "--jql" in options else ["--jql", SELECTION]

    status = main(["retrain", *where, *jql, *options])

    err = capsys.readouterr().err
    assert status != 0
    assert err.count("\n") == 1
    assert message in err


def test_another_selection_in_the_same_work_dir_is_refused(tmp_path: Path) -> None:
    retrain(tmp_path, FakeCommands())

    with pytest.raises(CommandError, match="another site or JQL") as caught:
        retrain(tmp_path, FakeCommands(), jql="project = OTHER")
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"site": 1, "jql": "x"}',
        json.dumps({"site": SITE, "jql": SELECTION, "snapshots": ["../../etc/passwd"]}),
        json.dumps({"site": SITE, "jql": SELECTION, "last_fetch_started": "yesterday"}),
        json.dumps({"site": SITE, "jql": SELECTION, "pending": {"file": "fetched/x"}}),
        "{" * 100_000,
        "[" * 100_000,
        "\udcff",
    ],
)
def test_a_damaged_state_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "retrain-state.json").write_bytes(content.encode("utf-8", "surrogateescape"))

    status = main(["retrain", "--site", SITE, "--jql", SELECTION, "-w", str(work)])

    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1
    assert "retrain-state.json" in err


def test_snapshots_merge_to_the_newest_line_of_each_key(tmp_path: Path) -> None:
    old = tmp_path / "1.jsonl"
    new = tmp_path / "2.jsonl"
    old.write_text('{"key": "A-1", "v": 1}\n{"key": "A-2", "v": 1}\nnot json\n')
    new.write_text('{"key": "A-2", "v": 2}\n\n{"key": "A-3", "v": 2}')

    merged = merge_snapshots([old, new], tmp_path / "all.jsonl")

    assert (tmp_path / "all.jsonl").read_text() == (
        '{"key": "A-1", "v": 1}\nnot json\n{"key": "A-2", "v": 2}\n{"key": "A-3", "v": 2}\n'
    )
    assert (merged.issues, merged.replaced, merged.keyless) == (3, 1, 1)
