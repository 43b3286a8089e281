"""``retrain``: the loop's existing commands, run one after another as a schedule would.

Each step is a ``jira-priority`` command in its own process (what a person or a
Makefile would type), printed before it runs; its output passes through, and the
first step that fails stops the run with its exit status. What a Makefile could not
keep is kept here, in ``WORK/retrain-state.json``:

* **What is new since the last run.** The first run fetches everything the JQL
  selects; later runs add ``updated >= "DAY"``, DAY being the day before the last
  run's fetch started (JQL dates are read in the Jira user's time zone: a day of
  margin covers every zone). Each run's fetch goes to a new file in ``WORK/fetched/``;
  ``WORK/tickets.jsonl`` is all of them merged, an issue's newest line winning (its
  priority or changelog may have changed).
* **An interrupted fetch.** The JQL of a fetch is saved before it starts, so the next
  run resumes it (``fetch`` keeps its own state file) instead of asking for a
  different window.

The steps (``--dry-run`` prints them): fetch (``--changelog`` with ``--bot``), monitor
(with ``--bot``), prepare (``--exclude-bot``), then either train-local, backtest and
promote (the local gate), or with ``--sagemaker`` upload, train, the job's model
downloaded, calibrate, backtest, package --upload and ``deploy --update`` (the
endpoint's gate).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jira_priority import safe_json
from training_jobs import console
from training_jobs.console import printable
from training_jobs.data.snapshots import merge_snapshots
from training_jobs.errors import CommandError

STATE_FILE = "retrain-state.json"
#: A state file is a few hundred bytes (a line per run); a larger one was not written here.
MAX_STATE_BYTES = 1024 * 1024
TICKETS_FILE = "tickets.jsonl"
#: JQL dates are in the Jira user's zone (UTC-12 to UTC+14): a day back covers them all.
FETCH_MARGIN = timedelta(days=1)
TRAINING_JOB_BASE = "jira-priority-retrain"
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


@dataclass(frozen=True)
class SageMakerTarget:
    """Where ``--sagemaker`` trains and deploys (the AWS options of upload, train, deploy)."""

    endpoint_name: str
    region: str
    bucket: str
    prefix: str
    role_arn: str
    rollout: str | None = None


@dataclass(frozen=True)
class RetrainSettings:
    site: str
    jql: str
    work_dir: Path
    live: Path
    bots: tuple[str, ...] = ()
    api: str = "auto"
    allow_insecure_http: bool = False
    scheme: str | None = None
    default_priority: str | None = None
    correction_weight: int = 1
    days: int = 7
    tolerance: float = 0.0
    sagemaker: SageMakerTarget | None = None

    def __post_init__(self) -> None:
        if _ORDER_BY.search(self.jql):
            raise CommandError(
                "--jql: give the selection without ORDER BY (retrain orders by key and adds "
                "the window since its last run)",
                exit_code=2,
            )
        if not self.jql.strip():
            raise CommandError("--jql: an empty selection", exit_code=2)
        if self.correction_weight > 1 and not self.bots:
            raise CommandError("--correction-weight needs --bot", exit_code=2)


@dataclass
class PendingFetch:
    """A fetch that started and has not been recorded as done: the next run resumes it."""

    file: str
    jql: str
    started: str


@dataclass
class RetrainState:
    site: str
    jql: str
    #: When the last completed fetch started (ISO 8601, UTC); None before the first.
    last_fetch_started: str | None = None
    pending: PendingFetch | None = None
    #: The completed fetches' files, oldest first (relative to the work directory).
    snapshots: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> RetrainState:
        where = f"{path} (retrain's own state; delete it to start over)"
        if path.stat().st_size > MAX_STATE_BYTES:
            raise CommandError(f"{where} is larger than {MAX_STATE_BYTES} bytes")
        try:
            data = safe_json.loads(path.read_bytes())
            pending = data.get("pending")
            state = cls(
                site=_text(data["site"]),
                jql=_text(data["jql"]),
                last_fetch_started=_moment(data.get("last_fetch_started")),
                pending=(
                    PendingFetch(
                        file=_snapshot(pending["file"]),
                        jql=_text(pending["jql"]),
                        started=_moment(pending["started"]) or "",
                    )
                    if pending is not None
                    else None
                ),
                snapshots=[_snapshot(name) for name in data.get("snapshots", [])],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CommandError(f"{where} is not readable: {printable(error, 200)}") from None
        return state

    def save(self, path: Path) -> None:
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        partial.replace(path)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field is not a string")
    return value


def _moment(value: Any) -> str | None:
    if value is None:
        return None
    text = _text(value)
    if datetime.fromisoformat(text).tzinfo is None:
        raise ValueError("a time without a zone")
    return text


def _snapshot(value: Any) -> str:
    """A snapshot's file name: inside fetched/, nothing else (the state names no other path)."""
    name = _text(value)
    if not re.fullmatch(r"fetched/[0-9]{4}-[0-9]{8}T[0-9]{6}Z\.jsonl", name):
        raise ValueError(f"not a snapshot file name: {name!r}")
    return name


def fetch_jql(selection: str, last_fetch_started: str | None) -> str:
    """The JQL of this run's fetch: everything the first time, then what was updated since
    the day before the last fetch started."""
    if last_fetch_started is None:
        return f"{selection} ORDER BY key"
    started = datetime.fromisoformat(last_fetch_started).astimezone(UTC)
    since = (started - FETCH_MARGIN).date().isoformat()
    return f'({selection}) AND updated >= "{since}" ORDER BY key'


@dataclass(frozen=True)
class Step:
    """One command of the run: ``jira-priority ARGS``, or (in-process, ``--sagemaker``)
    ``download JOB PATH``: the model.tar.gz of training job JOB to PATH."""

    args: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.args[0]

    def line(self) -> str:
        if self.name == DOWNLOAD:
            return f"download the model.tar.gz of training job {self.args[1]} to {self.args[2]}"
        return "jira-priority " + shlex.join(self.args)


DOWNLOAD = "download"


def command(*args: object) -> Step:
    """A step of these arguments (paths and numbers as text)."""
    return Step(tuple(str(arg) for arg in args))


@dataclass(frozen=True)
class StepResult:
    returncode: int
    stdout: str


Runner = Callable[[Step], StepResult]


def run_command(step: Step) -> StepResult:
    """``python -m training_jobs ARGS`` in a process of its own; stdout passed through."""
    done = subprocess.run(
        [sys.executable, "-m", "training_jobs", *step.args],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    sys.stdout.write(done.stdout)
    sys.stdout.flush()
    return StepResult(done.returncode, done.stdout)


class Retrain:
    """One run: the steps, the state, and what each step hands the next."""

    def __init__(
        self,
        settings: RetrainSettings,
        runner: Runner = run_command,
        now: datetime | None = None,
        say: Callable[[str], None] = console.say,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.now = now or datetime.now(UTC)
        self.say = say
        self.work = settings.work_dir
        self.state_path = self.work / STATE_FILE
        self.tickets = self.work / TICKETS_FILE
        self.data = self.work / "data"
        self.candidate = self.work / "candidate"
        self.stamp = self.now.strftime("%Y%m%dT%H%M%SZ")

    # --- the state -----------------------------------------------------------------

    def load_state(self) -> RetrainState:
        settings = self.settings
        if not self.state_path.exists():
            return RetrainState(site=settings.site, jql=settings.jql)
        state = RetrainState.load(self.state_path)
        if (state.site, state.jql) != (settings.site, settings.jql):
            raise CommandError(
                f"{self.work} holds the fetches of another site or JQL "
                f"({printable(state.site, 100)}, {printable(repr(state.jql), 200)}); "
                "give another --work-dir, or the same --site and --jql",
                exit_code=2,
            )
        return state

    def next_fetch(self, state: RetrainState) -> PendingFetch:
        if state.pending is not None:
            return state.pending
        number = len(state.snapshots) + 1
        return PendingFetch(
            file=f"fetched/{number:04d}-{self.stamp}.jsonl",
            jql=fetch_jql(self.settings.jql, state.last_fetch_started),
            started=self.now.isoformat(timespec="seconds"),
        )

    # --- the steps -----------------------------------------------------------------

    def fetch_step(self, pending: PendingFetch) -> Step:
        s = self.settings
        args: list[object] = ["fetch", "--site", s.site, "--jql", pending.jql,
                              "--output", self.work / pending.file, "--api", s.api]  # fmt: skip
        if s.bots:
            args.append("--changelog")
        if s.allow_insecure_http:
            args.append("--allow-insecure-http")
        return command(*args)

    def later_steps(self) -> list[Step]:
        """Every step after the fetch and the merge."""
        s = self.settings
        steps = []
        if s.bots:
            bots = [arg for bot in s.bots for arg in ("--bot", bot)]
            monitor = self.work / "monitor"
            steps.append(command("monitor", self.tickets, *bots, "--days", s.days, "-o", monitor))
        prepare: list[object] = ["prepare", self.tickets, "-o", self.data]
        if s.scheme:
            prepare += ["--scheme", s.scheme]
        if s.default_priority:
            prepare += ["--default-priority", s.default_priority]
        prepare += [arg for bot in s.bots for arg in ("--exclude-bot", bot)]
        if s.correction_weight > 1:
            prepare += ["--correction-weight", s.correction_weight]
        steps.append(command(*prepare))
        train, validation = self.data / "train.txt", self.data / "validation.txt"
        backtest = command("backtest", validation, "--model", self.candidate / "model.bin",
                           "-o", self.work / "backtest", "--no-progress")  # fmt: skip
        if s.sagemaker is not None:
            return steps + self.sagemaker_steps(s.sagemaker, train, validation, backtest)
        candidate, live = self.candidate, s.live
        train_local = command("train-local", "--train", train, "--validation", validation,
                              "-o", candidate)  # fmt: skip
        promote = command("promote", "--candidate", candidate, "--live", live,
                          "--held-out", validation, "--tolerance", s.tolerance)  # fmt: skip
        return [*steps, train_local, backtest, promote]

    def job_name(self) -> str:
        return f"{TRAINING_JOB_BASE}-{self.now.strftime('%Y%m%d-%H%M%S')}"

    def archive_key(self, aws: SageMakerTarget) -> str:
        """Where package uploads the calibrated model (a key of its own per run)."""
        prefix = aws.prefix.strip("/")
        return f"{prefix + '/' if prefix else ''}retrained/{self.job_name()}/model.tar.gz"

    def sagemaker_steps(
        self, aws: SageMakerTarget, train: Path, validation: Path, backtest: Step
    ) -> list[Step]:
        region = ("--region", aws.region)
        bucket = ("--bucket", aws.bucket, "--prefix", aws.prefix)
        job = self.job_name()
        archive = f"s3://{aws.bucket}/{self.archive_key(aws)}"
        job_model = self.work / "job" / "model.tar.gz"
        deploy: list[object] = [
            "deploy", "--update", "--endpoint-name", aws.endpoint_name, "--model-data-url",
            archive, "--gate-data", validation, "--gate-tolerance", self.settings.tolerance,
            *region, "--role-arn", aws.role_arn,
        ]  # fmt: skip
        if aws.rollout:
            deploy += ["--rollout", aws.rollout]
        calibrate: list[object] = [
            "calibrate", "--model", job_model, "--data", validation, "-o", self.candidate
        ]  # fmt: skip
        if self.settings.default_priority:
            calibrate += ["--default-priority", self.settings.default_priority]
        upload = command("upload", "--train", train, "--validation", validation, "--force",
                         *region, *bucket)  # fmt: skip
        training = command("train", "--job-name", job, *region, "--role-arn", aws.role_arn, *bucket)
        download = command(DOWNLOAD, job, job_model)
        package = command("package", "--model", self.candidate, "--output",
                          self.work / "model.tar.gz", "--upload", archive, *region)  # fmt: skip
        return [upload, training, download, command(*calibrate), backtest, package,
                command(*deploy)]  # fmt: skip

    # --- running -------------------------------------------------------------------

    def plan(self) -> list[Step]:
        """What a run would do now (``--dry-run``); changes nothing."""
        return [self.fetch_step(self.next_fetch(self.load_state())), *self.later_steps()]

    def run(self) -> int:
        """The run: fetch (recorded), merge, then every later step until one fails."""
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "fetched").mkdir(exist_ok=True)
        state = self.load_state()
        pending = self.next_fetch(state)
        output = self.work / pending.file
        if state.pending is not None:
            self.say(f"resuming the fetch of an earlier run ({pending.jql})")
            if output.exists() and not _fetch_state_exists(output):
                output.unlink()  # done but not recorded, or empty: fetch it again
        state.pending = pending
        state.save(self.state_path)  # from here on an interruption resumes this fetch
        result = self.step(self.fetch_step(pending))
        if result.returncode != 0:
            if state.last_fetch_started is not None and _fetched_nothing(output):
                output.unlink()
                state.pending, state.last_fetch_started = None, pending.started
                state.save(self.state_path)
                print(f"nothing updated since the last run ({pending.jql}); the model is left "
                      "as it is")  # fmt: skip
                return 0
            return self.stopped("fetch", result.returncode)
        state.snapshots.append(pending.file)
        state.pending, state.last_fetch_started = None, pending.started
        state.save(self.state_path)
        merged = merge_snapshots([self.work / name for name in state.snapshots], self.tickets)
        self.say(
            f"{self.tickets}: {merged.issues} issues from {len(state.snapshots)} fetches "
            f"({merged.replaced} earlier lines replaced by newer ones)"
        )
        for step in self.later_steps():
            result = self.step(step)
            if result.returncode != 0:
                return self.stopped(step.name, result.returncode)
        self.finish()
        return 0

    def step(self, step: Step) -> StepResult:
        self.say(f"+ {printable(step.line(), None)}")
        if step.name == DOWNLOAD:
            target = self.settings.sagemaker
            assert target is not None
            _download(step.args[1], Path(step.args[2]), target.region)
            return StepResult(0, "")
        return self.runner(step)

    def stopped(self, name: str, status: int) -> int:
        live = "the endpoint" if self.settings.sagemaker else str(self.settings.live)
        self.say(f"retrain stopped at {name} (exit {status}); {live} is left as it is")
        return status

    def finish(self) -> None:
        aws = self.settings.sagemaker
        if aws is None:
            print(f"retrained and promoted: {self.settings.live} serves the candidate")
            return
        print(
            f"retrained and deployed to {aws.endpoint_name}; point the function's "
            f"post-processing at the same model: sam deploy --parameter-overrides "
            f"ModelBucket={aws.bucket} ModelKey={self.archive_key(aws)}"
        )


def _fetch_state_exists(output: Path) -> bool:
    from training_jobs.data.jira_fetch import state_path

    return state_path(output).exists()


def _fetched_nothing(output: Path) -> bool:
    """fetch ended without an issue: its output empty and no fetch left to resume."""
    return output.exists() and output.stat().st_size == 0 and not _fetch_state_exists(output)


def _download(job: str, destination: Path, region: str) -> None:
    """The training job's model.tar.gz (where DescribeTrainingJob says it is) to ``destination``."""
    from training_jobs.sagemaker import aws
    from training_jobs.sagemaker.watch import Kind, describe_completed

    clients = aws.Aws(region)
    described = describe_completed(clients.sagemaker, Kind.TRAINING_JOB, job)
    artifact = described.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    if not isinstance(artifact, str):
        raise CommandError(f"training job {job} names no model artifact")
    bucket, key = aws.parse_s3_uri(artifact)
    destination.parent.mkdir(parents=True, exist_ok=True)
    clients.s3.download_file(bucket, key, str(destination))


def print_plan(steps: Sequence[Step]) -> None:
    for step in steps:
        print(printable(step.line(), None))
