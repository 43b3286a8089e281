"""``transform``: score a file of tickets in bulk with a SageMaker batch transform job.

The tickets (any layout ``prepare`` reads; a priority column is optional) are
normalised exactly as the Lambda normalises a request, written as
BlazingText's batch input (``application/jsonlines``, one
``{"source": "<tokens>", "k": K}`` per line), and scored by a transform job
on the model ``deploy`` created. BlazingText answers one
``{"label": [...], "prob": [...]}`` line per input line, in order; those
become a CSV with the predicted priority next to each ticket.

Every line asks for all labels' probabilities; with ``--postprocessing`` (the
model's directory, model.tar.gz or postprocessing.json) the answers are
post-processed exactly as the Lambda post-processes them
(``jira_priority.postprocessing``), then cut to ``--top-k``.

``--no-wait`` leaves the job running; ``--collect JOB`` later turns its
output into the CSV (from the same input file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jira_priority.blazingtext import JSON_LINES, decode_batch, encode_batch
from jira_priority.errors import BadModelResponseError
from jira_priority.labels import DEFAULT_SCHEME, PRIORITIES, PriorityScheme, UnknownLabelError
from jira_priority.model_files import ModelFileError
from jira_priority.postprocessing import (
    PostProcessed,
    PostProcessing,
    PostProcessingError,
    post_process,
    read_postprocessing,
)
from jira_priority.predictors.base import LabelScore
from jira_priority.text import normalise_ticket
from training_jobs.console import say
from training_jobs.data.readers import DatasetError, ReadStats, TicketRow, read_tickets
from training_jobs.data.spreadsheet import SpreadsheetWriter
from training_jobs.errors import CommandError
from training_jobs.sagemaker.aws import (
    ApiCall,
    Request,
    describe_or_none,
    parse_s3_uri,
    s3_uri,
)
from training_jobs.sagemaker.job_definition import tags
from training_jobs.sagemaker.watch import Kind, describe, describe_completed

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

INPUT_FILE_NAME = "tickets.jsonl"
CSV_COLUMNS = (
    "row",
    "key",
    "title",
    "priority",
    "predicted_priority",
    "predicted_label",
    "probability",
    "ranking",
    "calibrated_probability",
    "confident",
    "action",
    "urgency",
)


# --- tickets in, predictions out ----------------------------------------------------


def read_input_tickets(path: Path) -> list[TicketRow]:
    stats = ReadStats()
    try:
        tickets = list(read_tickets(path, stats=stats, require_priority=False))
    except DatasetError as error:
        raise CommandError(str(error)) from None
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.rejected.items()))
    if not tickets:  # one line: what was skipped is part of the error
        skipped = f" ({stats.rows_rejected} row(s) skipped: {reasons})" if reasons else ""
        raise CommandError(f"{path}: no ticket with text to score{skipped}")
    if stats.rows_rejected:
        say(f"skipped {stats.rows_rejected} row(s) of {path} ({reasons})")
    return tickets


def batch_input(tickets: Sequence[TicketRow], k: int = len(PRIORITIES)) -> bytes:
    """BlazingText's batch transform input: one normalised ticket per JSON line.

    ``k`` is every label by default: post-processing needs the whole distribution.
    """
    return encode_batch([normalise_ticket(t.title, t.description) for t in tickets], k)


def parse_batch_output(
    data: bytes, expected: int, k: int, scheme: PriorityScheme = DEFAULT_SCHEME
) -> list[list[LabelScore]]:
    """The job's output lines as rankings; CommandError if they do not match the input."""
    try:
        rankings = decode_batch(data, expected, k)
    except BadModelResponseError as error:
        raise CommandError(str(error)) from None
    for number, ranking in enumerate(rankings, start=1):
        for label, _ in ranking:
            try:
                scheme.from_label(label)
            except UnknownLabelError as error:
                raise CommandError(
                    f"output line {number} is not a BlazingText prediction: {error}"
                ) from None
    return rankings


def post_processed(
    rankings: Sequence[list[LabelScore]],
    k: int,
    postprocessing: PostProcessing | None,
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> list[PostProcessed]:
    """Each ranking post-processed like the Lambda does it and cut to ``k``."""
    default = scheme.default_level
    default_label = default.label if default is not None else None
    try:
        return [post_process(ranking, k, postprocessing, default_label) for ranking in rankings]
    except PostProcessingError as error:
        raise CommandError(f"the job's labels do not match the post-processing: {error}") from None


def read_postprocessing_option(path: Path | None, scheme: PriorityScheme) -> PostProcessing | None:
    """``--postprocessing``: a model directory, model.tar.gz or postprocessing.json, over
    labels of ``scheme`` (the endpoint's model cannot be asked which labels it has)."""
    if path is None:
        return None
    try:
        found = read_postprocessing(path)
    except (ModelFileError, PostProcessingError, OSError) as error:
        raise CommandError(f"--postprocessing {path}: {error}") from None
    if found is None:
        raise CommandError(f"--postprocessing {path}: no postprocessing.json there")
    outside = sorted(set(found.labels) - set(scheme.labels))
    if outside:
        raise CommandError(
            f"--postprocessing {path}: its labels {', '.join(outside)} are outside the "
            f"{scheme.name} scheme ({scheme.labels[0]}..{scheme.labels[-1]})"
        )
    return found


def write_predictions(
    path: Path,
    tickets: Sequence[TicketRow],
    answers: Sequence[PostProcessed],
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> None:
    """The CSV: the tickets' own cells as text (never a formula), the figures as numbers."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = SpreadsheetWriter(out, float_digits=4)
        writer.writerow(CSV_COLUMNS)
        for ticket, answer in zip(tickets, answers, strict=True):
            best = answer.ranking[0]
            writer.writerow(
                (
                    ticket.row,
                    ticket.key,
                    ticket.title,
                    ticket.priority,
                    scheme.from_label(best.label).value,
                    best.label,
                    best.probability,
                    " ".join(
                        f"{scheme.from_label(r.label).value}:{r.probability:.4f}"
                        for r in answer.ranking
                    ),
                    answer.calibrated_probability,
                    answer.confident,
                    answer.action,
                    answer.urgency,
                )
            )


# --- the job ------------------------------------------------------------------------


@dataclass(frozen=True)
class TransformJob:
    name: str
    model_name: str
    bucket: str
    prefix: str
    instance_type: str
    instance_count: int

    @property
    def input_uri(self) -> str:
        return s3_uri(self.bucket, self.prefix, "transform", self.name, "input", INPUT_FILE_NAME)

    @property
    def output_uri(self) -> str:
        return s3_uri(self.bucket, self.prefix, "transform", self.name, "output") + "/"

    def request(self) -> Request:
        return {
            "TransformJobName": self.name,
            "ModelName": self.model_name,
            "BatchStrategy": "MultiRecord",
            "MaxPayloadInMB": 6,
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": self.input_uri}},
                "ContentType": JSON_LINES,
                "SplitType": "Line",
                "CompressionType": "None",
            },
            "TransformOutput": {
                "S3OutputPath": self.output_uri,
                "Accept": JSON_LINES,
                "AssembleWith": "Line",
            },
            "TransformResources": {
                "InstanceType": self.instance_type,
                "InstanceCount": self.instance_count,
            },
            "Tags": tags(),
        }

    def plan(self, body: bytes, tickets: int) -> list[ApiCall]:
        bucket, key = parse_s3_uri(self.input_uri)
        return [
            ApiCall(
                "s3",
                "PutObject",
                {"Bucket": bucket, "Key": key, "ContentType": JSON_LINES},
                note=f"body: {tickets} normalised ticket(s), {len(body)} bytes of JSON lines",
            ),
            ApiCall("sagemaker", "CreateTransformJob", self.request()),
        ]


def output_location(description: Any) -> tuple[str, str]:
    """``(bucket, key)`` of the output file of a finished transform job (``<input name>.out``)."""
    input_uri = description["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    output_uri = description["TransformOutput"]["S3OutputPath"]
    bucket, prefix = parse_s3_uri(output_uri)
    name = input_uri.rstrip("/").rsplit("/", 1)[-1]
    return bucket, f"{prefix.rstrip('/')}/{name}.out".lstrip("/")


def start(
    sagemaker: SageMakerClient, s3: S3Client, job: TransformJob, body: bytes, tickets: int
) -> None:
    if describe_or_none(sagemaker.describe_model, ModelName=job.model_name) is None:
        raise CommandError(f"model {job.model_name} does not exist (deploy creates one)")
    if describe(sagemaker, Kind.TRANSFORM_JOB, job.name) is not None:
        raise CommandError(f"transform job {job.name} already exists; pass another --job-name")
    put, create = job.plan(body, tickets)
    s3.put_object(Body=body, **put.request)
    say(f"uploaded {tickets} ticket(s) to {job.input_uri}")
    sagemaker.create_transform_job(**create.request)
    say(f"created transform job {job.name} on {job.instance_count} x {job.instance_type}")


def collect(
    sagemaker: SageMakerClient,
    s3: S3Client,
    job_name: str,
    tickets: Sequence[TicketRow],
    output: Path,
    k: int = 1,
    postprocessing: PostProcessing | None = None,
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> None:
    description = describe_completed(sagemaker, Kind.TRANSFORM_JOB, job_name)
    bucket, key = output_location(description)
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    rankings = parse_batch_output(data, expected=len(tickets), k=len(scheme), scheme=scheme)
    write_predictions(output, tickets, post_processed(rankings, k, postprocessing, scheme), scheme)
    say(f"wrote {len(rankings)} prediction(s) to {output}")
