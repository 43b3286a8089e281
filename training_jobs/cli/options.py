"""Options more than one command takes, and the checks click does not have.

Defaults that come from the environment are click's ``envvar``; ranges are
click's ``IntRange``/``FloatRange``. Value checks that belong to a lower layer
(a SageMaker name, a tuning range) stay there and raise ValueError, which
``Checked`` turns into click's usage error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click

from training_jobs.modelling.hyperparameters import HELP, BlazingTextHyperparameters
from training_jobs.sagemaker.names import DEFAULT_PREFIX, MAX_NAME_LENGTH, resource_name

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MODEL = Path("artifacts/model/model.bin")
DEFAULT_TRAINING_INSTANCE = "ml.c5.4xlarge"
DEFAULT_VOLUME_GB = 30
DEFAULT_MAX_RUNTIME_SECONDS = 2 * 3600

POSITIVE_INT = click.IntRange(min=1)
POSITIVE_FLOAT = click.FloatRange(min=0, min_open=True)


class Checked(click.ParamType[Any, Any]):
    """A value converted by a function of a lower layer that raises ValueError when it is wrong."""

    def __init__(self, name: str, check: Callable[[str], Any]) -> None:
        self.name = name
        self._check = check

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self._check(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


RESOURCE_NAME = Checked("name", resource_name)


def apply(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several option decorators as one, in the order they are listed."""

    def decorate(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return decorate


def exactly_one(params: Mapping[str, Any], *names: str) -> str:
    """The one of ``names`` that was given; a usage error if none or several were."""
    given = [name for name in names if params.get(name)]
    flags = ", ".join("--" + name.replace("_", "-") for name in names)
    if len(given) != 1:
        raise click.UsageError(f"give exactly one of {flags}")
    return given[0]


def aws_options(*, role: bool = False, bucket: bool = False) -> Callable[[F], F]:
    """``--region`` and ``--dry-run``; ``--role-arn``, ``--bucket`` and ``--prefix`` on request."""
    options: list[Callable[[F], F]] = [
        click.option(
            "--region",
            envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
            show_envvar=True,
            help="AWS region",
        )
    ]
    if role:
        options.append(
            click.option(
                "--role-arn",
                envvar="SAGEMAKER_ROLE_ARN",
                show_envvar=True,
                help="IAM role SageMaker assumes to read S3 and run the job or model",
            )
        )
    if bucket:
        options += [
            click.option(
                "--bucket",
                envvar="SAGEMAKER_BUCKET",
                show_envvar=True,
                help="S3 bucket for data, models and batch output",
            ),
            click.option(
                "--prefix",
                envvar="SAGEMAKER_PREFIX",
                show_envvar=True,
                default=DEFAULT_PREFIX,
                show_default=True,
                help="key prefix inside the bucket",
            ),
        ]
    options.append(
        click.option(
            "--dry-run",
            is_flag=True,
            help="print the API requests as JSON and send nothing (a value only a run can read "
            "from AWS is shown as <Operation.Field>)",
        )
    )
    return apply(*options)


def wait_options(*, default_timeout: int, wait_by_default: bool = True) -> Callable[[F], F]:
    """``--wait/--no-wait``, ``--poll-seconds`` and ``--timeout-seconds``."""
    return apply(
        click.option(
            "--wait/--no-wait",
            default=wait_by_default,
            show_default=True,
            help="wait until it finishes or fails, printing progress to stderr",
        ),
        click.option(
            "--poll-seconds",
            type=POSITIVE_FLOAT,
            default=30.0,
            show_default=True,
            help="seconds between status checks while waiting",
        ),
        click.option(
            "--timeout-seconds",
            type=POSITIVE_FLOAT,
            default=float(default_timeout),
            show_default=True,
            help="stop waiting (the AWS resource carries on) after this many seconds",
        ),
    )


def job_name_options(*, what: str, max_length: int = MAX_NAME_LENGTH) -> Callable[[F], F]:
    """``--job-name``, or ``--base-name`` for a generated one."""
    limit = f", at most {max_length} characters" if max_length < MAX_NAME_LENGTH else ""
    return apply(
        click.option(
            "--job-name",
            type=Checked("name", partial(resource_name, max_length=max_length)),
            help=f"{what} name{limit} (default: BASE-NAME-YYYYMMDD-HHMMSS)",
        ),
        click.option(
            "--base-name",
            type=RESOURCE_NAME,
            default=DEFAULT_PREFIX,
            show_default=True,
            help=f"prefix of the generated {what} name",
        ),
    )


def image_option() -> Callable[[F], F]:
    return click.option(
        "--image-uri",
        help="container image to use instead of the region's published BlazingText image "
        "(needed in a region not listed in training_jobs/sagemaker/images.py)",
    )


def hyperparameter_options() -> Callable[[F], F]:
    """``--epochs``, ``--learning-rate`` ... with BlazingText's names, meanings and defaults."""
    defaults = BlazingTextHyperparameters()
    options: list[Callable[[F], F]] = []
    for field in fields(BlazingTextHyperparameters):
        if field.name == "mode":
            continue
        default = getattr(defaults, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(default, bool):
            flag = f"{flag}/--no-{flag[2:]}"
        options.append(
            click.option(
                flag,
                field.name,
                type=None if isinstance(default, bool) else type(default),
                default=default,
                show_default=True,
                help=HELP[field.name],
            )
        )
    return apply(*options)


def output_dir_option(default: Path, what: str) -> Callable[[F], F]:
    """``-o/--output-dir``: the directory a command writes ``what`` into."""
    return click.option(
        "-o",
        "--output-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=default,
        show_default=True,
        help=f"where {what} go",
    )


def model_option() -> Callable[[F], F]:
    """``--model``: the embedded backend's model, local or on S3 (``classify`` and ``serve``)."""
    return click.option(
        "--model",
        default=str(DEFAULT_MODEL),
        show_default=True,
        help="model.bin, model.ftz, model.tar.gz or a directory holding one, as a path "
        "or s3:// URI",
    )


#: The options of ``training_job_options`` that ``JobDefinition.create`` takes.
JOB_DEFINITION_OPTIONS = (
    "role_arn",
    "bucket",
    "prefix",
    "train_uri",
    "validation_uri",
    "output_uri",
    "instance_type",
    "volume_gb",
    "max_runtime_seconds",
    "image_uri",
)


def training_job_options(*, default_timeout: int) -> Callable[[F], F]:
    """What ``train`` and ``tune`` share besides the job's name.

    The job definition, the BlazingText hyperparameters, the AWS options (with
    role and bucket) and waiting.
    """
    return apply(
        click.option(
            "--train-uri",
            help="S3 prefix (or object) of the train channel "
            "(default: s3://BUCKET/PREFIX/data/train/)",
        ),
        click.option(
            "--validation-uri",
            help="S3 prefix (or object) of the validation channel "
            "(default: s3://BUCKET/PREFIX/data/validation/)",
        ),
        click.option(
            "--output-uri",
            help="where SageMaker writes JOB/output/model.tar.gz "
            "(default: s3://BUCKET/PREFIX/models/)",
        ),
        click.option(
            "--instance-type",
            default=DEFAULT_TRAINING_INSTANCE,
            show_default=True,
            help="training instance type (the tutorial's)",
        ),
        click.option(
            "--volume-gb",
            type=POSITIVE_INT,
            default=DEFAULT_VOLUME_GB,
            show_default=True,
            help="EBS volume per training instance, in GB",
        ),
        click.option(
            "--max-runtime-seconds",
            type=POSITIVE_INT,
            default=DEFAULT_MAX_RUNTIME_SECONDS,
            show_default=True,
            help="stopping condition: SageMaker stops a job (and its bill) after this long",
        ),
        image_option(),
        hyperparameter_options(),
        aws_options(role=True, bucket=True),
        wait_options(default_timeout=default_timeout),
    )
