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
over the classes present) are those of ``training_jobs.metrics``.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from jira_priority.labels import (
    DEFAULT_SCHEME,
    LABEL_PREFIX,
    PRIORITIES,
    Level,
    PriorityScheme,
    parse_scheme,
)
from jira_priority.text import MAX_TOKENS, normalise_ticket
from training_jobs.console import fail
from training_jobs.datasets import DatasetError, ReadStats, file_sha256, read_prepared, read_tickets
from training_jobs.eval_predictors import (
    HttpApiRanker,
    PredictionError,
    Ranking,
    RetryableError,
    TicketRanker,
    local_model_ranker,
    sagemaker_ranker,
)
from training_jobs.metrics import (
    HEADLINE_METRICS,
    Metrics,
    compute_metrics,
    conventions,
    majority_baseline,
    majority_ranking,
)
from training_jobs.plots import FIGURE_PIXELS, write_plots
from training_jobs.prepare import HOLDOUT_FILE, MANIFEST_FILE

#: Environment variable holding the API key, so it need not appear in `ps` output.
API_KEY_VARIABLE = "JIRA_PRIORITY_API_KEY"
DEFAULT_OUTPUT_DIR = Path("artifacts/evaluation")
UNKNOWN_PROJECT = "(unknown)"

# --- input -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelledTicket:
    title: str
    description: str
    priority: Level
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
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> LabelledData:
    """The labelled tickets of ``path``, their priorities in ``scheme``.

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
        for example in read_prepared(path, scheme):
            # Prepared text is already normalised; normalising it again changes nothing.
            tickets.append(
                LabelledTicket(
                    example.text,
                    "",
                    example.level(scheme),
                    project or lookup.get(example.text, ""),
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
        for ticket in read_tickets(path, stats=stats, scheme=scheme):
            if wanted and ticket.project.casefold() not in wanted:
                continue
            priority = ticket.level(scheme)
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
    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before attempt ``attempt + 1``: Retry-After if given, else exponential."""
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (attempt - 1)
        return min(wanted, self.max_delay)


def call_with_retries(
    call: Callable[[], list[Ranking]],
    policy: RetryPolicy,
    on_retry: Callable[[str], None] = lambda _message: None,
) -> list[Ranking]:
    """``call()``, again after a pause for each RetryableError, up to ``policy.max_attempts``."""
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return call()
        except RetryableError as exc:
            if attempt == policy.max_attempts:
                raise PredictionError(f"gave up after {attempt} attempts: {exc}") from exc
            pause = policy.delay(attempt, exc.retry_after)
            on_retry(f"attempt {attempt} failed ({exc}); retrying in {pause:g} s")
            policy.sleep(pause)
    raise AssertionError("unreachable: max_attempts is at least 1")


class ProgressBar:
    """A one-line bar on a terminal; on a pipe or file, one line per tenth done."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._interactive = enabled and self.stream.isatty()
        self._last_tenth = 0
        self._started = time.monotonic()

    def _line(self, width: int = 30) -> str:
        share = self.done / self.total if self.total else 1.0
        filled = round(width * share)
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self.done / elapsed
        return (
            f"evaluating [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done}/{self.total} {share:4.0%} {rate:.0f} tickets/s"
        )

    def advance(self, count: int) -> None:
        self.done = min(self.done + count, self.total)
        if not self.enabled:
            return
        if self._interactive:
            self.stream.write("\r" + self._line())
            self.stream.flush()
            return
        tenth = self.done * 10 // self.total if self.total else 10
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        prefix = "\n" if self._interactive and self.done else ""
        self.stream.write(f"{prefix}{text}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._interactive:
            self.stream.write("\n")
            self.stream.flush()


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
    progress: ProgressBar | None = None,
) -> list[Ranking]:
    """The ranking of every ticket, in order; raises PredictionError if a batch keeps failing."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    retry = retry or RetryPolicy()
    size = min(batch_size, ranker.max_batch) if ranker.max_batch else batch_size
    rankings: list[Ranking] = []
    for batch in _batches(tickets, size):
        texts = [(t.title, t.description) for t in batch]
        on_retry = progress.message if progress is not None else (lambda _m: None)
        answers = call_with_retries(functools.partial(ranker.rank, texts, k), retry, on_retry)
        if len(answers) != len(batch):
            raise PredictionError(f"{len(answers)} rankings for a batch of {len(batch)}")
        rankings.extend(answers)
        if progress is not None:
            progress.advance(len(batch))
    if progress is not None:
        progress.finish()
    return rankings


# --- the report ---------------------------------------------------------------------


@dataclass
class Evaluation:
    """The model's figures and the majority baseline's on the same tickets."""

    metrics: Metrics
    baseline: Metrics
    majority: tuple[Level, Level]
    scheme: PriorityScheme = DEFAULT_SCHEME


def evaluate_rankings(
    tickets: Sequence[LabelledTicket],
    rankings: Sequence[Ranking],
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> Evaluation:
    y_true = [t.priority for t in tickets]
    return Evaluation(
        compute_metrics(y_true, rankings, scheme),
        majority_baseline(y_true, scheme),
        majority_ranking(y_true, scheme),
        scheme,
    )


def per_project(
    tickets: Sequence[LabelledTicket],
    rankings: Sequence[Ranking],
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> dict[str, Evaluation]:
    """One Evaluation per project (each with its own majority baseline), by project name."""
    groups: dict[str, tuple[list[LabelledTicket], list[Ranking]]] = {}
    for ticket, ranking in zip(tickets, rankings, strict=True):
        group = groups.setdefault(ticket.project or UNKNOWN_PROJECT, ([], []))
        group[0].append(ticket)
        group[1].append(ranking)
    return {name: evaluate_rankings(*groups[name], scheme) for name in sorted(groups)}


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
        "conventions": conventions(evaluation.scheme),
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


def build_ranker(args: argparse.Namespace) -> TicketRanker:
    """The predictor to score with, in ``--scheme`` (a local model's own scheme.json if none)."""
    scheme = parse_scheme(args.scheme) if args.scheme else None
    if args.model:
        return local_model_ranker(args.model, scheme)
    if args.endpoint:
        return sagemaker_ranker(args.endpoint, scheme=scheme or DEFAULT_SCHEME)
    api_key = args.api_key or os.environ.get(API_KEY_VARIABLE)
    if not api_key:
        raise ValueError(f"--api-url needs --api-key or {API_KEY_VARIABLE} in the environment")
    return HttpApiRanker(
        args.api_url, api_key, timeout=args.timeout, scheme=scheme or DEFAULT_SCHEME
    )


def run(args: argparse.Namespace) -> int:
    try:
        if not Path(args.input).is_file():  # before a model is loaded for nothing
            raise DatasetError(f"{args.input}: no such file")
        ranker = build_ranker(args)
        data = read_labelled(
            Path(args.input),
            args.input_format,
            projects=args.project or (),
            limit=args.limit,
            projects_from=Path(args.projects_from) if args.projects_from else None,
            scheme=ranker.scheme,
        )
    except (DatasetError, ValueError) as exc:
        return fail("evaluate", str(exc), 2)
    except PredictionError as exc:
        return fail("evaluate", str(exc))
    progress = ProgressBar(len(data.tickets), enabled=not args.no_progress)
    retry = RetryPolicy(max_attempts=args.max_attempts)
    try:
        rankings = predict_all(
            data.tickets,
            ranker,
            k=args.k,
            batch_size=args.batch_size,
            retry=retry,
            progress=progress,
        )
    except PredictionError as exc:
        print(f"\nevaluate: prediction failed: {exc}", file=sys.stderr)
        return 1
    evaluation = evaluate_rankings(data.tickets, rankings, ranker.scheme)
    projects = per_project(data.tickets, rankings, ranker.scheme) if args.by_project else None
    title = args.title or f"{Path(args.input).name} · {ranker.description['kind']}"
    output_dir = Path(args.output_dir)
    report = write_outputs(
        output_dir,
        evaluation,
        projects,
        title=title,
        source=data.source,
        predictor=ranker.description,
        k=args.k,
    )
    comparison = report["comparison"]
    print(
        f"{report['count']} tickets: accuracy {comparison['accuracy']['model']:.3f} "
        f"(majority {comparison['accuracy']['baseline']:.3f}), "
        f"macro-F1 {comparison['macro_f1']['model']:.3f} "
        f"(majority {comparison['macro_f1']['baseline']:.3f}); "
        f"report in {output_dir}/summary.md"
    )
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _k(value: str) -> int:
    number = int(value)
    if not 2 <= number <= len(PRIORITIES):
        raise argparse.ArgumentTypeError(f"must be 2..{len(PRIORITIES)} (top-2 needs two)")
    return number


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a labelled file with a model, endpoint or the API, and report metrics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input", help="labelled tickets (CSV, Jira export, JSON lines, .gz) or a prepared file"
    )
    parser.add_argument(
        "--input-format",
        choices=("auto", "tickets", "prepared"),
        default="auto",
        help="auto: a file whose first line starts with __label__ is a prepared file",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--model", metavar="PATH_OR_S3_URI", help="model.bin, .ftz or model.tar.gz")
    target.add_argument("--endpoint", metavar="NAME", help="SageMaker endpoint name")
    target.add_argument("--api-url", metavar="URL", help="the deployed API's base URL")
    parser.add_argument("--api-key", help=f"API key for --api-url (default: ${API_KEY_VARIABLE})")
    parser.add_argument(
        "--scheme",
        metavar="NAME_OR_FILE",
        help="the priority scheme of the labels and answers: apache, jira-cloud, a scheme "
        "file or names lowest first (default: the scheme.json beside --model, else apache)",
    )
    parser.add_argument(
        "--output-dir",
        default=str(DEFAULT_OUTPUT_DIR),
        help=f"where report.json, summary.md and the PNGs go (default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--by-project", action="store_true", help="also report every project separately"
    )
    parser.add_argument(
        "--project",
        action="append",
        metavar="KEY",
        help="evaluate only this project's tickets (repeatable; ticket files only)",
    )
    parser.add_argument(
        "--projects-from",
        metavar="TICKET_FILE",
        help="for a prepared file: the ticket file it was prepared from, to recover each "
        "line's project for --by-project (matched on the normalised text)",
    )
    parser.add_argument(
        "--limit", type=_positive, help="evaluate only the first N labelled tickets"
    )
    parser.add_argument("--title", help="report title (default: input file and predictor kind)")
    parser.add_argument(
        "--k", type=_k, default=2, help="ranked priorities to ask for per ticket (default: 2)"
    )
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=100,
        help="tickets per call (default: 100; the HTTP API takes 25 at most)",
    )
    parser.add_argument(
        "--max-attempts",
        type=_positive,
        default=5,
        help="attempts per batch on throttling, unavailability or time-outs (default: 5)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds per HTTP API request (default: 30)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(handler=run)
