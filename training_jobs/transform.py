"""``transform``: score a file of tickets in bulk with a SageMaker batch transform job.

The tickets (any layout ``prepare`` reads; a priority column is optional) are
normalised exactly as the Lambda normalises a request, written as
BlazingText's batch input (``application/jsonlines``, one
``{"source": "<tokens>", "k": K}`` per line), and scored by a transform job
on the model ``deploy`` created. BlazingText answers one
``{"label": [...], "prob": [...]}`` line per input line, in order; those
become a CSV with the predicted priority next to each ticket.

``--no-wait`` leaves the job running; ``--collect JOB`` later turns its
output into the CSV (from the same input file).
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jira_priority.labels import (
    DEFAULT_SCHEME,
    PriorityScheme,
    SchemeError,
    UnknownLabelError,
    parse_scheme,
)
from jira_priority.text import normalise_ticket
from training_jobs.aws import (
    ApiCall,
    Aws,
    Request,
    ToolError,
    add_aws_arguments,
    add_job_name_arguments,
    add_wait_arguments,
    describe_or_none,
    job_name,
    one_line_errors,
    parse_s3_uri,
    positive_int,
    print_plan,
    require_bucket,
    require_region,
    resource_name,
    s3_uri,
)
from training_jobs.console import say
from training_jobs.datasets import DatasetError, ReadStats, Ticket, read_tickets
from training_jobs.job_definition import tags
from training_jobs.watch import Kind, describe, describe_completed, wait_as_asked

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

JSON_LINES = "application/jsonlines"
INPUT_FILE_NAME = "tickets.jsonl"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_TIMEOUT_SECONDS = 6 * 3600
CSV_COLUMNS = (
    "row",
    "key",
    "title",
    "priority",
    "predicted_priority",
    "predicted_label",
    "probability",
    "ranking",
)


# --- tickets in, predictions out ----------------------------------------------------


def read_input_tickets(path: Path) -> list[Ticket]:
    stats = ReadStats()
    try:
        tickets = list(read_tickets(path, stats=stats, require_priority=False))
    except DatasetError as error:
        raise ToolError(str(error)) from None
    if stats.rows_rejected:
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.rejected.items()))
        say(f"skipped {stats.rows_rejected} row(s) of {path} ({reasons})")
    if not tickets:
        raise ToolError(f"{path}: no ticket with text to score")
    return tickets


def batch_input(tickets: Sequence[Ticket], k: int) -> bytes:
    """BlazingText's batch transform input: one normalised ticket per JSON line."""
    lines = (
        json.dumps({"source": normalise_ticket(t.title, t.description), "k": k}) for t in tickets
    )
    return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Ranked:
    label: str
    probability: float
    #: The label's name in the model's priority scheme.
    priority: str


def parse_batch_output(
    data: bytes, expected: int, scheme: PriorityScheme = DEFAULT_SCHEME
) -> list[list[Ranked]]:
    """The job's output lines as rankings; ToolError if they do not match the input."""
    lines = [line for line in data.decode("utf-8").splitlines() if line.strip()]
    if len(lines) != expected:
        raise ToolError(f"the job returned {len(lines)} prediction(s) for {expected} ticket(s)")
    rankings = []
    for number, line in enumerate(lines, start=1):
        try:
            item: Any = json.loads(line)
            labels, probs = item["label"], item["prob"]
            if not isinstance(labels, list) or not isinstance(probs, list) or not labels:
                raise TypeError("label and prob must be non-empty lists")
            if len(labels) != len(probs):
                raise TypeError("label and prob differ in length")
            ranking = [
                Ranked(str(lab), float(p), scheme.from_label(str(lab)).value)
                for lab, p in zip(labels, probs, strict=True)
            ]
        except (ValueError, KeyError, TypeError, UnknownLabelError) as error:
            raise ToolError(
                f"output line {number} is not a BlazingText prediction: {error}"
            ) from None
        rankings.append(sorted(ranking, key=lambda r: r.probability, reverse=True))
    return rankings


def write_predictions(
    path: Path, tickets: Sequence[Ticket], rankings: Sequence[list[Ranked]]
) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for ticket, ranking in zip(tickets, rankings, strict=True):
            best = ranking[0]
            writer.writerow(
                (
                    ticket.row,
                    ticket.key,
                    ticket.title,
                    ticket.priority,
                    best.priority,
                    best.label,
                    f"{best.probability:.4f}",
                    " ".join(f"{r.priority}:{r.probability:.4f}" for r in ranking),
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
        raise ToolError(f"model {job.model_name} does not exist (deploy creates one)")
    if describe(sagemaker, Kind.TRANSFORM_JOB, job.name) is not None:
        raise ToolError(f"transform job {job.name} already exists; pass another --job-name")
    put, create = job.plan(body, tickets)
    s3.put_object(Body=body, **put.request)
    say(f"uploaded {tickets} ticket(s) to {job.input_uri}")
    sagemaker.create_transform_job(**create.request)
    say(f"created transform job {job.name} on {job.instance_count} x {job.instance_type}")


def collect(
    sagemaker: SageMakerClient,
    s3: S3Client,
    job_name: str,
    tickets: Sequence[Ticket],
    output: Path,
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> None:
    description = describe_completed(sagemaker, Kind.TRANSFORM_JOB, job_name)
    bucket, key = output_location(description)
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    rankings = parse_batch_output(data, expected=len(tickets), scheme=scheme)
    write_predictions(output, tickets, rankings)
    say(f"wrote {len(rankings)} prediction(s) to {output}")


@one_line_errors
def handle(args: argparse.Namespace) -> int:
    region = require_region(args)
    output = Path(args.output)
    if output.exists() and not args.force:
        raise ToolError(f"{output} exists; pass --force to overwrite it")
    tickets = read_input_tickets(Path(args.input))
    try:
        scheme = parse_scheme(args.scheme)
    except SchemeError as error:
        raise ToolError(str(error)) from None

    if args.collect:
        if args.dry_run:
            raise ToolError("--collect only reads; it has nothing to dry-run")
        aws = Aws(region)
        collect(aws.sagemaker, aws.s3, args.collect, tickets, output, scheme)
        print(output)
        return 0

    if not args.model_name:
        raise ToolError("--model-name is required (the model `deploy` created), unless --collect")
    job = TransformJob(
        name=job_name(args),
        model_name=args.model_name,
        bucket=require_bucket(args),
        prefix=args.prefix,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
    )
    body = batch_input(tickets, args.top_k)
    if args.dry_run:
        return print_plan(job.plan(body, len(tickets)))

    aws = Aws(region)
    start(aws.sagemaker, aws.s3, job, body, len(tickets))
    if not args.wait:
        say(
            f"collect the result later: python -m training_jobs transform --collect {job.name} "
            f"--input {args.input} --output {args.output}"
        )
        print(job.name)
        return 0
    wait_as_asked(aws.sagemaker, Kind.TRANSFORM_JOB, job.name, args)
    collect(aws.sagemaker, aws.s3, job.name, tickets, output, scheme)
    print(output)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "transform",
        help="score a CSV of tickets with a batch transform job",
        description="Normalise the tickets of a CSV (or JSON lines) file like the Lambda does, "
        "send them to a SageMaker batch transform job as BlazingText application/jsonlines, "
        "and write a CSV with the predicted priority of every ticket. Prints the CSV path "
        "(or, with --no-wait, the job name).",
    )
    parser.add_argument(
        "--input",
        required=True,
        help="tickets to score: tutorial CSV, Jira export CSV or JSON lines (gzip allowed)",
    )
    parser.add_argument("--output", required=True, help="CSV to write the predictions to")
    parser.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    parser.add_argument(
        "--scheme",
        default=DEFAULT_SCHEME.name,
        metavar="NAME_OR_FILE",
        help="the model's priority scheme, for the names in the CSV: apache, jira-cloud, a "
        "scheme file or names lowest first (default: apache)",
    )
    parser.add_argument(
        "--model-name",
        type=resource_name,
        help="SageMaker model to score with (`deploy` prints the one it creates)",
    )
    parser.add_argument(
        "--collect",
        metavar="JOB",
        type=resource_name,
        help="do not start a job: write the CSV from this finished job's output "
        "(same --input as when it started)",
    )
    parser.add_argument(
        "--top-k",
        type=positive_int,
        default=1,
        help="ranked priorities per ticket, in the ranking column (default: 1)",
    )
    add_job_name_arguments(parser, what="transform job")
    parser.add_argument(
        "--instance-type",
        default=DEFAULT_INSTANCE_TYPE,
        help=f"batch instance type (default: {DEFAULT_INSTANCE_TYPE})",
    )
    parser.add_argument(
        "--instance-count",
        type=positive_int,
        default=1,
        help="batch instances (default: 1)",
    )
    add_aws_arguments(parser, bucket=True)
    add_wait_arguments(parser, default_timeout=DEFAULT_TIMEOUT_SECONDS)
    parser.set_defaults(handler=handle)
