"""``evaluate``: score a labelled file with any reachable model and report how it did.

The input is a ticket file (tutorial CSV, Jira export, JSON lines, gzipped or
not) or a prepared BlazingText file; the predictor is a local model file, a
SageMaker endpoint or the deployed HTTP API. Tickets go out in batches, with
retries on throttling and time-outs and a progress bar on stderr. The output
directory receives:

* ``report.json``: every figure, beside the majority-class baseline on the
  same tickets, per class, and per project with ``--by-project``;
* ``summary.md``: the same for people, with the plots embedded;
* ``confusion_counts.png``, ``confusion_normalised.png``, ``per_class.png``.

The figures and their conventions (undefined precision/recall, macro averages
over the classes present) are those of ``training_jobs.evaluation.metrics``.
"""

from __future__ import annotations

import functools
import gzip
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)
from tqdm import tqdm

from jira_priority.labels import LABEL_PREFIX, Priority
from jira_priority.text import MAX_TOKENS, normalise_ticket
from training_jobs.data.prepare import HOLDOUT_FILE, MANIFEST_FILE
from training_jobs.data.readers import (
    DatasetError,
    ReadStats,
    file_sha256,
    read_prepared,
    read_tickets,
)
from training_jobs.evaluation.metrics import (
    CONVENTIONS,
    HEADLINE_METRICS,
    Metrics,
    compute_metrics,
    majority_baseline,
    majority_ranking,
)
from training_jobs.evaluation.plots import FIGURE_PIXELS, write_plots
from training_jobs.evaluation.scorers import (
    PredictionError,
    Ranking,
    RetryableError,
    TicketRanker,
)

UNKNOWN_PROJECT = "(unknown)"

# --- input -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelledTicket:
    title: str
    description: str
    priority: Priority
    project: str = ""


@dataclass
class LabelledData:
    tickets: list[LabelledTicket]
    #: What was read and how: path, format, digest, rows rejected by reason.
    source: dict[str, Any]


def _head(path: Path, size: int = 4096) -> str:
    """The first ``size`` bytes of the file, gunzipped if needed, as text."""
    try:
        with path.open("rb") as raw:
            is_gzip = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            if is_gzip:
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    return unzipped.read(size).decode("utf-8", errors="replace")
            return raw.read(size).decode("utf-8", errors="replace")
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc


def detect_format(path: Path) -> str:
    """``prepared`` for a BlazingText file (lines start with ``__label__``), else ``tickets``."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    head = _head(path).lstrip("\ufeff \t\r\n")
    return "prepared" if head.startswith(LABEL_PREFIX) else "tickets"


def _prepare_settings(path: Path) -> dict[str, Any]:
    """The settings of the ``prepare`` run that wrote ``path`` (from its manifest), or {}."""
    manifest_path = path.with_name(MANIFEST_FILE)
    if not manifest_path.is_file():
        return {}
    try:
        settings = json.loads(manifest_path.read_text(encoding="utf-8"))["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return settings if isinstance(settings, dict) else {}


def holdout_project_of(path: Path) -> str:
    """The project of a ``prepare`` hold-out file that holds exactly one, else "".

    Prepared lines carry no project; ``prepare --holdout-project X`` writes
    ``holdout.txt`` beside a ``manifest.json`` that names X, which is enough to
    label the report and its per-project breakdown.
    """
    if path.name != HOLDOUT_FILE:
        return ""
    projects = _prepare_settings(path).get("holdout_projects")
    if isinstance(projects, list) and len(projects) == 1 and isinstance(projects[0], str):
        return projects[0].upper()  # prepare stores them case-folded; Jira keys are upper case
    return ""


def project_lookup(tickets_path: Path, max_tokens: int = MAX_TOKENS) -> dict[str, str]:
    """Normalised text -> project, from the ticket file a prepared file was made from.

    ``prepare`` drops duplicate texts, so a text names one ticket; a text that
    two projects share maps to "" (unknown) rather than to either of them.
    """
    lookup: dict[str, str] = {}
    for ticket in read_tickets(tickets_path, require_priority=False):
        text = normalise_ticket(ticket.title, ticket.description, max_tokens)
        if lookup.setdefault(text, ticket.project) != ticket.project:
            lookup[text] = ""
    return lookup


def read_labelled(
    path: Path,
    input_format: str = "auto",
    projects: Sequence[str] = (),
    limit: int | None = None,
    projects_from: Path | None = None,
) -> LabelledData:
    """The labelled tickets of ``path``.

    ``projects`` keeps only those projects' tickets (case-insensitive).
    ``projects_from`` (prepared files only) is the ticket file they were made
    from, to recover each line's project for a per-project breakdown.
    """
    if input_format == "auto":
        input_format = detect_format(path)
    wanted = {p.strip().casefold() for p in projects}
    tickets: list[LabelledTicket] = []
    source: dict[str, Any] = {"path": str(path), "format": input_format}
    if input_format == "prepared":
        if wanted:
            raise DatasetError(
                f"{path}: a prepared BlazingText file has no project column; "
                "select projects on the ticket file (or hold them out in prepare)"
            )
        project = holdout_project_of(path)
        if project:
            source["holdout_project"] = project
        lookup: dict[str, str] = {}
        if projects_from is not None:
            max_tokens = _prepare_settings(path).get("max_tokens", MAX_TOKENS)
            lookup = project_lookup(projects_from, int(max_tokens))
            source["projects_from"] = str(projects_from)
        for example in read_prepared(path):
            # Prepared text is already normalised; normalising it again changes nothing.
            tickets.append(
                LabelledTicket(
                    example.text, "", example.priority, project or lookup.get(example.text, "")
                )
            )
            if limit is not None and len(tickets) >= limit:
                break
        source["lines_read"] = len(tickets)
        if projects_from is not None:
            source["lines_with_project"] = sum(1 for t in tickets if t.project)
    elif input_format == "tickets":
        if projects_from is not None:
            raise ValueError("--projects-from is for prepared files; a ticket file has projects")
        stats = ReadStats()
        for ticket in read_tickets(path, stats=stats):
            if wanted and ticket.project.casefold() not in wanted:
                continue
            priority = ticket.known_priority
            if priority is None:  # read_tickets already rejects these; be explicit anyway
                continue
            tickets.append(
                LabelledTicket(ticket.title, ticket.description, priority, ticket.project)
            )
            if limit is not None and len(tickets) >= limit:
                break
        source["read"] = stats.as_dict()
    else:
        raise ValueError(f"unknown input format {input_format!r}")
    if wanted:
        source["projects"] = sorted(projects)
    if limit is not None:
        source["limit"] = limit
    source["sha256"] = file_sha256(path)
    source["tickets"] = len(tickets)
    if not tickets:
        raise DatasetError(f"{path}: no labelled tickets to evaluate")
    return LabelledData(tickets, source)


# --- calling the predictor ----------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long ``call_with_retries`` tries again after a RetryableError."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, state: RetryCallState) -> float:
        """Seconds before the next attempt: Retry-After if given, else exponential; capped."""
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, RetryableError) else None
        attempt = state.attempt_number
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (attempt - 1)
        return min(wanted, self.max_delay)


def call_with_retries(
    call: Callable[[], list[Ranking]],
    policy: RetryPolicy,
    on_retry: Callable[[str], None] = lambda _message: None,
) -> list[Ranking]:
    """``call()``, again after a pause for each RetryableError, up to ``policy.max_attempts``."""

    def announce(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        pause = state.next_action.sleep if state.next_action else 0.0
        on_retry(f"attempt {state.attempt_number} failed ({error}); retrying in {pause:g} s")

    retrying = Retrying(
        retry=retry_if_exception_type(RetryableError),
        stop=stop_after_attempt(policy.max_attempts),
        wait=policy.delay,
        sleep=policy.sleep,
        before_sleep=announce,
    )
    try:
        result: list[Ranking] = retrying(call)
    except RetryError as exhausted:
        attempt = exhausted.last_attempt
        raise PredictionError(
            f"gave up after {attempt.attempt_number} attempts: {attempt.exception()}"
        ) from attempt.exception()
    return result


def progress_bar(total: int, *, enabled: bool = True, stream: TextIO | None = None) -> tqdm[Any]:
    """tqdm's bar over the tickets on stderr (or ``stream``); nothing at all when disabled."""
    return tqdm(
        total=total,
        desc="evaluating",
        unit="ticket",
        file=stream if stream is not None else sys.stderr,
        disable=not enabled,
        # On a pipe or file, a line every few seconds, not a redraw per batch.
        mininterval=0.1 if (stream or sys.stderr).isatty() else 5.0,
    )


def _batches(items: Sequence[LabelledTicket], size: int) -> Iterable[Sequence[LabelledTicket]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def predict_all(
    tickets: Sequence[LabelledTicket],
    ranker: TicketRanker,
    *,
    k: int = 2,
    batch_size: int = 100,
    retry: RetryPolicy | None = None,
    progress: tqdm[Any] | None = None,
) -> list[Ranking]:
    """The ranking of every ticket, in order; raises PredictionError if a batch keeps failing."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    retry = retry or RetryPolicy()
    size = min(batch_size, ranker.max_batch) if ranker.max_batch else batch_size
    rankings: list[Ranking] = []
    for batch in _batches(tickets, size):
        texts = [(t.title, t.description) for t in batch]
        on_retry = (
            functools.partial(tqdm.write, file=progress.fp)
            if progress is not None and not progress.disable
            else (lambda _m: None)
        )
        answers = call_with_retries(functools.partial(ranker.rank, texts, k), retry, on_retry)
        if len(answers) != len(batch):
            raise PredictionError(f"{len(answers)} rankings for a batch of {len(batch)}")
        rankings.extend(answers)
        if progress is not None:
            progress.update(len(batch))
    if progress is not None:
        progress.close()
    return rankings


# --- the report ---------------------------------------------------------------------


@dataclass
class Evaluation:
    """The model's figures and the majority baseline's on the same tickets."""

    metrics: Metrics
    baseline: Metrics
    majority: tuple[Priority, Priority]


def evaluate_rankings(tickets: Sequence[LabelledTicket], rankings: Sequence[Ranking]) -> Evaluation:
    y_true = [t.priority for t in tickets]
    return Evaluation(
        compute_metrics(y_true, rankings), majority_baseline(y_true), majority_ranking(y_true)
    )


def per_project(
    tickets: Sequence[LabelledTicket], rankings: Sequence[Ranking]
) -> dict[str, Evaluation]:
    """One Evaluation per project (each with its own majority baseline), by project name."""
    groups: dict[str, tuple[list[LabelledTicket], list[Ranking]]] = {}
    for ticket, ranking in zip(tickets, rankings, strict=True):
        group = groups.setdefault(ticket.project or UNKNOWN_PROJECT, ([], []))
        group[0].append(ticket)
        group[1].append(ranking)
    return {name: evaluate_rankings(*groups[name]) for name in sorted(groups)}


def _comparison(evaluation: Evaluation) -> dict[str, dict[str, float]]:
    model, base = evaluation.metrics.headline(), evaluation.baseline.headline()
    return {
        name: {"model": model[name], "baseline": base[name], "difference": model[name] - base[name]}
        for name in HEADLINE_METRICS
    }


def _evaluation_dict(evaluation: Evaluation) -> dict[str, Any]:
    majority, runner_up = evaluation.majority
    return {
        "count": evaluation.metrics.count,
        "majority_baseline": {"always": majority.value, "top2": [majority.value, runner_up.value]},
        "comparison": _comparison(evaluation),
        "metrics": evaluation.metrics.as_dict(),
        "baseline": evaluation.baseline.as_dict(),
    }


def build_report(
    evaluation: Evaluation,
    projects: dict[str, Evaluation] | None,
    *,
    title: str,
    source: dict[str, Any],
    predictor: dict[str, str],
    k: int,
    plots: dict[str, str],
) -> dict[str, Any]:
    return {
        "title": title,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": source,
        "predictor": predictor,
        "k": k,
        **_evaluation_dict(evaluation),
        "per_project": (
            {name: _evaluation_dict(e) for name, e in projects.items()}
            if projects is not None
            else None
        ),
        "plots": plots,
        "conventions": CONVENTIONS,
    }


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _signed(value: float) -> str:
    return f"{value:+.3f}"


def render_summary(report: dict[str, Any]) -> str:
    """The Markdown summary of a report made by ``build_report``."""
    always = report["majority_baseline"]["always"]
    top2 = " + ".join(report["majority_baseline"]["top2"])
    source = report["input"]
    predictor = ", ".join(f"{key}: `{value}`" for key, value in report["predictor"].items())
    lines = [
        f"# {report['title']}",
        "",
        f"- Input: `{source['path']}` ({source['format']}, {report['count']} labelled tickets"
        + (f", projects {', '.join(source['projects'])}" if source.get("projects") else "")
        + ")",
        f"- Predictor: {predictor}",
        *(
            [f"- Held-out project: **{source['holdout_project']}** (no ticket of it in training)"]
            if source.get("holdout_project")
            else []
        ),
        *(
            [
                f"- Projects of the prepared lines matched from `{source['projects_from']}` "
                f"({source['lines_with_project']} of {source['lines_read']} lines)"
            ]
            if source.get("projects_from")
            else []
        ),
        f"- Majority baseline: always **{always}** (top-2: {top2}), computed on the same tickets",
        f"- Created: {report['created_at']}",
    ]
    read = source.get("read")
    if read and read.get("rows_rejected"):
        reasons = ", ".join(f"{name} {n}" for name, n in read["rejected"].items())
        lines.append(f"- Rows skipped while reading: {read['rows_rejected']} ({reasons})")
    lines += [
        "",
        "## Overall",
        "",
        f"| Metric | Model | Majority baseline ({always}) | Difference |",
        "|---|---:|---:|---:|",
    ]
    for name, label in HEADLINE_METRICS.items():
        row = report["comparison"][name]
        note = " (lower is better)" if name == "mean_absolute_error" else ""
        lines.append(
            f"| {label}{note} | {_number(row['model'])} | {_number(row['baseline'])} "
            f"| {_signed(row['difference'])} |"
        )
    lines += [
        "",
        "## Per class",
        "",
        "| Priority | Support | Predicted | Precision | Recall | F1 | Baseline recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    baseline_classes = {c["priority"]: c for c in report["baseline"]["per_class"]}
    for cls in report["metrics"]["per_class"]:
        base = baseline_classes[cls["priority"]]
        lines.append(
            f"| {cls['priority']} | {cls['support']} | {cls['predicted']} "
            f"| {_number(cls['precision'])} | {_number(cls['recall'])} | {_number(cls['f1'])} "
            f"| {_number(base['recall'])} |"
        )
    matrix = report["metrics"]["confusion_matrix"]
    lines += [
        "",
        "## Confusion matrix (rows: true, columns: predicted)",
        "",
        "| true \\ predicted | " + " | ".join(matrix["labels"]) + " |",
        "|---|" + "---:|" * len(matrix["labels"]),
    ]
    for name, row in zip(matrix["labels"], matrix["counts"], strict=True):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    if report.get("per_project"):
        lines += [
            "",
            "## Per project",
            "",
            "Each cell: model (majority baseline of that project's tickets).",
            "",
            "| Project | n | Majority | Accuracy | Macro-F1 | Balanced accuracy "
            "| Within-one | Mean abs. error |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        columns = (
            "accuracy",
            "macro_f1",
            "balanced_accuracy",
            "within_one_accuracy",
            "mean_absolute_error",
        )
        for name, project in report["per_project"].items():
            cells = [
                f"{_number(project['comparison'][c]['model'])} "
                f"({_number(project['comparison'][c]['baseline'])})"
                for c in columns
            ]
            lines.append(
                f"| {name} | {project['count']} | {project['majority_baseline']['always']} | "
                + " | ".join(cells)
                + " |"
            )
    if report.get("plots"):
        width, height = FIGURE_PIXELS
        lines += ["", f"## Plots ({width}x{height} PNG)", ""]
        for kind, file_name in report["plots"].items():
            lines.append(f"![{kind.replace('_', ' ')}]({file_name})")
            lines.append("")
    lines += ["", "## Conventions", "", report["conventions"], ""]
    return "\n".join(lines)


def write_outputs(
    output_dir: Path,
    evaluation: Evaluation,
    projects: dict[str, Evaluation] | None,
    *,
    title: str,
    source: dict[str, Any],
    predictor: dict[str, str],
    k: int,
) -> dict[str, Any]:
    """report.json, summary.md and the PNGs into ``output_dir``; returns the report."""
    output_dir.mkdir(parents=True, exist_ok=True)
    plot_paths = write_plots(evaluation.metrics, output_dir, title)
    plots = {kind: path.name for kind, path in plot_paths.items()}
    report = build_report(
        evaluation, projects, title=title, source=source, predictor=predictor, k=k, plots=plots
    )
    (output_dir / "report.json").write_text(
        json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (output_dir / "summary.md").write_text(render_summary(report), encoding="utf-8")
    return report


# --- the command --------------------------------------------------------------------
