"""What every AWS command shares: clients, dry runs and the SDK's errors in one line.

Region, role and bucket come from options or, when an option is not given,
from the environment:

- ``--region``: ``AWS_REGION``, then ``AWS_DEFAULT_REGION`` (every command);
- ``--role-arn``: ``SAGEMAKER_ROLE_ARN`` (train, tune, deploy);
- ``--bucket``: ``SAGEMAKER_BUCKET`` (upload, train, tune, transform);
- ``--prefix``: ``SAGEMAKER_PREFIX``, else ``jira-priority`` (with ``--bucket``).

Credentials are boto3's usual chain (``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID`` ...),
and ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_SAGEMAKER``, ``AWS_ENDPOINT_URL_S3``,
``AWS_ENDPOINT_URL_CLOUDWATCH``, ``AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING``)
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

import functools
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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

from training_jobs.errors import CommandError

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

#: One API request body, in boto3's keyword form (``{"TrainingJobName": ...}``).
Request = dict[str, Any]

#: Tagged on everything these commands create, so a bill can be traced back.
PROJECT_TAG = {"Key": "project", "Value": "jira-priority"}

ENV_ROLE_ARN = "SAGEMAKER_ROLE_ARN"
ENV_BUCKET = "SAGEMAKER_BUCKET"

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def require_region(region: str | None) -> str:
    """The region; the options take it from the environment already."""
    if not region:
        raise CommandError("no AWS region: pass --region or set AWS_REGION")
    return region


def require_role_arn(role_arn: str | None) -> str:
    if not role_arn:
        raise CommandError(f"no IAM role: pass --role-arn or set {ENV_ROLE_ARN}")
    if not _ROLE_ARN.match(role_arn):
        raise CommandError(
            f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        )
    return role_arn


def require_bucket(bucket: str | None) -> str:
    if not bucket:
        raise CommandError(f"no S3 bucket: pass --bucket or set {ENV_BUCKET}")
    if not _BUCKET.match(bucket):
        raise CommandError(f"{bucket!r} is not a valid S3 bucket name")
    return bucket


# --- names and S3 locations -----------------------------------------------------


def s3_uri(bucket: str, *parts: str) -> str:
    key = "/".join(part.strip("/") for part in parts if part.strip("/"))
    return f"s3://{bucket}/{key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    match = re.match(r"^s3://([^/]+)/?(.*)$", uri)
    if not match:
        raise CommandError(f"{uri!r} is not an s3:// URI")
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
    cloudwatch_client: CloudWatchClient | None = None
    autoscaling_client: ApplicationAutoScalingClient | None = None
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

    @property
    def cloudwatch(self) -> CloudWatchClient:
        if self.cloudwatch_client is None:
            self.cloudwatch_client = self.session.client("cloudwatch", config=_CLIENT_CONFIG)
        return self.cloudwatch_client

    @property
    def autoscaling(self) -> ApplicationAutoScalingClient:
        """Application Auto Scaling (an endpoint variant's instance count)."""
        if self.autoscaling_client is None:
            self.autoscaling_client = self.session.client(
                "application-autoscaling", config=_CLIENT_CONFIG
            )
        return self.autoscaling_client


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
    """Raise CommandError if the request is not of the operation's input shape."""
    model = operation_model(call.service, call.operation)
    if model.input_shape is None:
        raise CommandError(f"{call.operation} takes no request")
    report = ParamValidator().validate(dict(call.request), model.input_shape)
    if report.has_errors():
        raise CommandError(
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
    if isinstance(error, CommandError):
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


#: The AWS SDK's failures that ``describe_error`` turns into one line for the user.
AWS_ERRORS = (BotoCoreError, ClientError, S3UploadFailedError)
