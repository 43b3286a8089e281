"""What every AWS command shares: options, clients, dry runs and one-line errors.

Region, role and bucket come from options or, when an option is not given,
from the environment:

- ``--region``: ``AWS_REGION``, then ``AWS_DEFAULT_REGION`` (every command);
- ``--role-arn``: ``SAGEMAKER_ROLE_ARN`` (train, tune, deploy);
- ``--bucket``: ``SAGEMAKER_BUCKET`` (upload, train, tune, transform);
- ``--prefix``: ``SAGEMAKER_PREFIX``, else ``jira-priority`` (with ``--bucket``).

Credentials are boto3's usual chain (``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID`` ...),
and ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_SAGEMAKER``, ``AWS_ENDPOINT_URL_S3``)
points the clients at a stand-in such as moto_server; boto3 reads those itself.

``--dry-run`` prints, as JSON on stdout, every request a run would send that
creates, changes, starts, stops or deletes something (``status``, which only
reads, prints its read), and sends nothing at all. A value
that only a run can know (the artifact of a training job, the config an
endpoint uses now) is shown as ``"<Operation.Field>"``, naming the read that
supplies it. Each printed request is checked against botocore's model of the
real API before it is printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

import boto3
import botocore.session
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
)
from botocore.model import OperationModel
from botocore.validate import ParamValidator

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

#: One API request body, in boto3's keyword form (``{"TrainingJobName": ...}``).
Request = dict[str, Any]

DEFAULT_PREFIX = "jira-priority"
#: The longest name SageMaker allows for most resources (a tuning job's is shorter).
MAX_NAME_LENGTH = 63
#: Tagged on everything these commands create, so a bill can be traced back.
PROJECT_TAG = {"Key": "project", "Value": "jira-priority"}

ENV_REGION = ("AWS_REGION", "AWS_DEFAULT_REGION")
ENV_ROLE_ARN = "SAGEMAKER_ROLE_ARN"
ENV_BUCKET = "SAGEMAKER_BUCKET"
ENV_PREFIX = "SAGEMAKER_PREFIX"

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: SageMaker resource names: letters, digits and single hyphens inside.
_RESOURCE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


class ToolError(Exception):
    """A failure the user can act on; printed as one line, exit status 1."""


# --- options -------------------------------------------------------------------


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def add_aws_arguments(
    parser: argparse.ArgumentParser, *, role: bool = False, bucket: bool = False
) -> None:
    """``--region`` and ``--dry-run``; ``--role-arn``, ``--bucket`` and ``--prefix`` on request."""
    group = parser.add_argument_group("AWS")
    group.add_argument(
        "--region",
        default=_env(*ENV_REGION),
        help="AWS region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)",
    )
    if role:
        group.add_argument(
            "--role-arn",
            default=_env(ENV_ROLE_ARN),
            help="IAM role SageMaker assumes to read S3 and run the job or model "
            f"(default: ${ENV_ROLE_ARN})",
        )
    if bucket:
        group.add_argument(
            "--bucket",
            default=_env(ENV_BUCKET),
            help=f"S3 bucket for data, models and batch output (default: ${ENV_BUCKET})",
        )
        group.add_argument(
            "--prefix",
            default=_env(ENV_PREFIX) or DEFAULT_PREFIX,
            help=f"key prefix inside the bucket (default: ${ENV_PREFIX}, else {DEFAULT_PREFIX})",
        )
    group.add_argument(
        "--dry-run",
        action="store_true",
        help="print the API requests as JSON and send nothing (a value only a run can read "
        "from AWS is shown as <Operation.Field>)",
    )


def add_wait_arguments(
    parser: argparse.ArgumentParser, *, default_timeout: int, wait_by_default: bool = True
) -> None:
    """``--wait/--no-wait``, ``--poll-seconds`` and ``--timeout-seconds``."""
    group = parser.add_argument_group("waiting")
    group.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=wait_by_default,
        help="wait until it finishes or fails, printing progress to stderr "
        f"(default: {'wait' if wait_by_default else 'do not wait'})",
    )
    group.add_argument(
        "--poll-seconds",
        type=positive_float,
        default=30.0,
        help="seconds between status checks while waiting (default: 30)",
    )
    group.add_argument(
        "--timeout-seconds",
        type=positive_float,
        default=float(default_timeout),
        help="stop waiting (the AWS resource carries on) after this many seconds "
        f"(default: {default_timeout})",
    )


def add_job_name_arguments(
    parser: argparse.ArgumentParser, *, what: str, max_length: int = MAX_NAME_LENGTH
) -> None:
    """``--job-name``, or ``--base-name`` for a generated one (see ``job_name``)."""

    def name_of_job(text: str) -> str:
        name = resource_name(text)
        if len(name) > max_length:
            raise argparse.ArgumentTypeError(f"{what} names are at most {max_length} characters")
        return name

    limit = f", at most {max_length} characters" if max_length < MAX_NAME_LENGTH else ""
    parser.add_argument(
        "--job-name",
        type=name_of_job,
        help=f"{what} name{limit} (default: BASE-NAME-YYYYMMDD-HHMMSS)",
    )
    parser.add_argument(
        "--base-name",
        type=resource_name,
        default=DEFAULT_PREFIX,
        help=f"prefix of the generated {what} name (default: {DEFAULT_PREFIX})",
    )


def job_name(args: argparse.Namespace, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """``--job-name``, else ``--base-name`` with the time (``timestamped_name``)."""
    name: str = args.job_name or timestamped_name(args.base_name, max_length=max_length)
    return name


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def resource_name(text: str) -> str:
    """An argparse type for SageMaker names (at most 63 characters)."""
    if len(text) > MAX_NAME_LENGTH or not _RESOURCE_NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a SageMaker name: 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return text


def require_region(args: argparse.Namespace) -> str:
    region: str | None = args.region
    if not region:
        raise ToolError("no AWS region: pass --region or set AWS_REGION")
    return region


def require_role_arn(args: argparse.Namespace) -> str:
    role_arn: str | None = args.role_arn
    if not role_arn:
        raise ToolError(f"no IAM role: pass --role-arn or set {ENV_ROLE_ARN}")
    if not _ROLE_ARN.match(role_arn):
        raise ToolError(
            f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        )
    return role_arn


def require_bucket(args: argparse.Namespace) -> str:
    bucket: str | None = args.bucket
    if not bucket:
        raise ToolError(f"no S3 bucket: pass --bucket or set {ENV_BUCKET}")
    if not _BUCKET.match(bucket):
        raise ToolError(f"{bucket!r} is not a valid S3 bucket name")
    return bucket


# --- names and S3 locations -----------------------------------------------------


def timestamped_name(
    base: str, *, max_length: int = MAX_NAME_LENGTH, now: datetime | None = None
) -> str:
    """``base-YYYYMMDD-HHMMSS`` (UTC): unique per second, sortable, a valid SageMaker name."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    name = f"{base}-{stamp}"
    if len(name) > max_length:
        raise ToolError(
            f"{name!r} is longer than the {max_length} characters SageMaker allows here; "
            "use a shorter base name"
        )
    return name


def s3_uri(bucket: str, *parts: str) -> str:
    key = "/".join(part.strip("/") for part in parts if part.strip("/"))
    return f"s3://{bucket}/{key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    match = re.match(r"^s3://([^/]+)/?(.*)$", uri)
    if not match:
        raise ToolError(f"{uri!r} is not an s3:// URI")
    return match.group(1), match.group(2)


# --- clients ------------------------------------------------------------------

_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=10,
    read_timeout=60,
    user_agent_extra="jira-priority-training-jobs",
)


@dataclass
class Aws:
    """The clients of one command run, made once from one fresh session.

    A session of its own (not boto3's module-level default) resolves
    credentials and ``AWS_ENDPOINT_URL`` when the command runs. Tests pass
    stubbed clients in.
    """

    region: str
    sagemaker_client: SageMakerClient | None = None
    s3_client: S3Client | None = None
    _session: boto3.session.Session | None = field(default=None, repr=False)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session(region_name=self.region)
        return self._session

    @property
    def sagemaker(self) -> SageMakerClient:
        if self.sagemaker_client is None:
            self.sagemaker_client = self.session.client("sagemaker", config=_CLIENT_CONFIG)
        return self.sagemaker_client

    @property
    def s3(self) -> S3Client:
        if self.s3_client is None:
            self.s3_client = self.session.client("s3", config=_CLIENT_CONFIG)
        return self.s3_client


def is_not_found(error: ClientError) -> bool:
    """Whether a Describe*/Head* call failed because the resource does not exist.

    SageMaker has no single code for it: Describe* calls answer
    ``ValidationException`` ("Could not find model ...", "Requested resource
    not found") or ``ResourceNotFound``; S3 HEAD answers ``404``.
    """
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    if code in {"ResourceNotFound", "ResourceNotFoundException", "404", "NoSuchKey"}:
        return True
    return code == "ValidationException" and bool(
        re.search(r"could not find|not found|can't find|cannot find|does not exist", message, re.I)
    )


def describe_or_none(describe: Callable[..., Any], **request: Any) -> Any | None:
    """The Describe* answer, or None if the resource does not exist."""
    try:
        return describe(**request)
    except ClientError as error:
        if is_not_found(error):
            return None
        raise


# --- dry runs -----------------------------------------------------------------


@dataclass(frozen=True)
class ApiCall:
    """One request of a plan: ``service`` and ``operation`` as botocore names them."""

    service: str
    operation: str
    request: Mapping[str, Any]
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service": self.service,
            "operation": self.operation,
            "request": self.request,
        }
        if self.note:
            out["note"] = self.note
        return out


def placeholder(operation: str, field_path: str) -> str:
    """The stand-in a dry run prints for a value read from AWS at run time."""
    return f"<{operation}.{field_path}>"


@functools.cache
def operation_model(service: str, operation: str) -> OperationModel:
    session = botocore.session.get_session()
    return session.get_service_model(service).operation_model(operation)


def validate_call(call: ApiCall) -> None:
    """Raise ToolError if the request is not of the operation's input shape."""
    model = operation_model(call.service, call.operation)
    if model.input_shape is None:
        raise ToolError(f"{call.operation} takes no request")
    report = ParamValidator().validate(dict(call.request), model.input_shape)
    if report.has_errors():
        raise ToolError(
            f"{call.operation} request is not valid: {report.generate_report()}".replace("\n", " ")
        )


def print_plan(calls: Iterable[ApiCall], out: TextIO | None = None) -> int:
    """Validate and print the requests of a dry run; the exit status of a dry run."""
    plan = list(calls)
    for call in plan:
        validate_call(call)
    document = {"dry_run": True, "requests": [call.as_dict() for call in plan]}
    print(json.dumps(document, indent=2, default=str), file=out or sys.stdout)
    return 0


# --- errors -------------------------------------------------------------------

#: What to do about AWS error codes that have an obvious next step.
_HINTS: dict[str, str] = {
    "ResourceLimitExceeded": "a SageMaker quota is used up: stop something (teardown --list "
    "shows what runs), pick another instance type, or ask Service Quotas for more",
    "ResourceInUse": "it already exists; choose another name",
    "AccessDenied": "the credentials may not do this; check the IAM policy",
    "AccessDeniedException": "the credentials may not do this; check the IAM policy",
    "NoSuchBucket": "create the bucket first, or pass the right --bucket",
    "ExpiredToken": "the session credentials have expired; log in again",
    "ExpiredTokenException": "the session credentials have expired; log in again",
    "UnrecognizedClientException": "the access key is not valid for this account or region",
    "InvalidClientTokenId": "the access key is not valid for this account or region",
    "ThrottlingException": "AWS is throttling the calls; retry in a minute",
}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe_error(error: BaseException) -> str:
    """One line saying what went wrong and, where known, what to do."""
    if isinstance(error, ToolError):
        return _one_line(str(error))
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE (see `aws configure`) or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION"
    if isinstance(error, EndpointConnectionError):
        return _one_line(f"cannot reach AWS: {error} (check --region and AWS_ENDPOINT_URL)")
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        message = details.get("Message", "") or str(error)
        if code == "404" and error.operation_name == "HeadBucket":
            code, message = "NoSuchBucket", "the bucket does not exist"
        line = f"{error.operation_name} failed: {code}: {message}"
        hint = _HINTS.get(code)
        if code == "ValidationException" and re.search(r"\brole\b", message, re.I):
            hint = "check --role-arn: the role must exist and trust sagemaker.amazonaws.com"
        return _one_line(f"{line} ({hint})" if hint else line)
    if isinstance(error, S3UploadFailedError):
        text = str(error)
        hint = (
            " (create the bucket first, or pass the right --bucket)"
            if "NoSuchBucket" in text
            else ""
        )
        return _one_line(f"upload failed: {text}{hint}")
    if isinstance(error, ParamValidationError):
        return _one_line(f"request rejected before sending: {error}")
    if isinstance(error, BotoCoreError):
        return _one_line(f"AWS SDK error: {error}")
    if isinstance(error, OSError):
        return _one_line(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))
    return _one_line(f"{type(error).__name__}: {error}")


_HANDLED = (ToolError, BotoCoreError, ClientError, S3UploadFailedError, OSError)


def one_line_errors(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Turn the failures a user can act on into ``error: ...`` on stderr and exit status 1."""

    @functools.wraps(handler)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except _HANDLED as error:
            print(f"error: {describe_error(error)}", file=sys.stderr)
            return 1

    return wrapper
