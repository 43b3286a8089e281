"""``deploy``: a trained model behind a SageMaker endpoint the Lambda can invoke.

From a training job (or the best job of a tuning job, or a ``model.tar.gz``
URI) this creates a model and an endpoint configuration (real-time instances
or serverless), then either creates the endpoint or, with ``--update``, moves
an existing endpoint to the new configuration without downtime. It waits until
the endpoint is InService and prints its name: the value for the stack's
SageMaker endpoint parameter in samconfig.toml.

An endpoint is billed for every hour it exists, used or not: ``teardown``
deletes it. After a successful ``--update`` the previous configuration and
its model are deleted (``--keep-previous`` keeps them).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from training_jobs.console import say
from training_jobs.sagemaker.aws import (
    ApiCall,
    Aws,
    Request,
    ToolError,
    add_aws_arguments,
    add_wait_arguments,
    describe_or_none,
    one_line_errors,
    placeholder,
    positive_int,
    print_plan,
    require_region,
    require_role_arn,
    resource_name,
    timestamped_name,
)
from training_jobs.sagemaker.images import add_image_argument, blazingtext_image_uri
from training_jobs.sagemaker.job_definition import tags
from training_jobs.sagemaker.tune import best_training_job
from training_jobs.sagemaker.watch import Kind, describe, describe_completed, wait_until_finished

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

DEFAULT_ENDPOINT_NAME = "jira-priority"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
VARIANT_NAME = "AllTraffic"
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
DEFAULT_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class Hosting:
    """Real-time instances, or serverless memory and concurrency."""

    instance_type: str | None = DEFAULT_INSTANCE_TYPE
    instance_count: int = 1
    serverless_memory_mb: int | None = None
    serverless_max_concurrency: int = 5

    @property
    def serverless(self) -> bool:
        return self.serverless_memory_mb is not None

    def variant(self, model_name: str) -> Request:
        variant: Request = {"VariantName": VARIANT_NAME, "ModelName": model_name}
        if self.serverless:
            variant["ServerlessConfig"] = {
                "MemorySizeInMB": self.serverless_memory_mb,
                "MaxConcurrency": self.serverless_max_concurrency,
            }
        else:
            variant["InstanceType"] = self.instance_type
            variant["InitialInstanceCount"] = self.instance_count
            variant["InitialVariantWeight"] = 1.0
        return variant

    def describe(self) -> str:
        if self.serverless:
            return (
                f"serverless, {self.serverless_memory_mb} MB, "
                f"{self.serverless_max_concurrency} concurrent"
            )
        return f"{self.instance_count} x {self.instance_type}"


def model_request(name: str, image_uri: str, model_data_url: str, role_arn: str) -> Request:
    return {
        "ModelName": name,
        "PrimaryContainer": {"Image": image_uri, "ModelDataUrl": model_data_url},
        "ExecutionRoleArn": role_arn,
        "Tags": tags(),
    }


def endpoint_config_request(name: str, model_name: str, hosting: Hosting) -> Request:
    return {
        "EndpointConfigName": name,
        "ProductionVariants": [hosting.variant(model_name)],
        "Tags": tags(),
    }


def endpoint_request(endpoint_name: str, config_name: str, *, update: bool) -> Request:
    request: Request = {"EndpointName": endpoint_name, "EndpointConfigName": config_name}
    if not update:
        request["Tags"] = tags()
    return request


# --- where the model comes from ---------------------------------------------------


def artifact_of_training_job(sagemaker: SageMakerClient, job_name: str) -> str:
    job = describe_completed(sagemaker, Kind.TRAINING_JOB, job_name)
    artifact: str = job["ModelArtifacts"]["S3ModelArtifacts"]
    return artifact


def resolve_model_data(sagemaker: SageMakerClient, args: argparse.Namespace) -> tuple[str, str]:
    """``(model data URL, where it came from)`` for the chosen source."""
    if args.model_data_url:
        return args.model_data_url, args.model_data_url
    if args.training_job:
        return artifact_of_training_job(sagemaker, args.training_job), args.training_job
    tuning = describe(sagemaker, Kind.TUNING_JOB, args.tuning_job)
    if tuning is None:
        raise ToolError(f"tuning job {args.tuning_job} does not exist")
    best_name = best_training_job(tuning)["TrainingJobName"]
    say(f"best training job of tuning job {args.tuning_job}: {best_name}")
    return artifact_of_training_job(sagemaker, best_name), best_name


def planned_model_data(args: argparse.Namespace) -> str:
    """What a dry run shows for ModelDataUrl: the URI, or the read that supplies it."""
    if args.model_data_url:
        return str(args.model_data_url)
    job = args.training_job or f"best training job of {args.tuning_job}"
    return placeholder(f"DescribeTrainingJob({job})", "ModelArtifacts.S3ModelArtifacts")


# --- the deployment ---------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    endpoint_name: str
    model_name: str
    config_name: str
    image_uri: str
    role_arn: str
    hosting: Hosting
    update: bool
    keep_previous: bool
    force: bool

    def model_request(self, model_data_url: str) -> Request:
        return model_request(self.model_name, self.image_uri, model_data_url, self.role_arn)

    def config_request(self) -> Request:
        return endpoint_config_request(self.config_name, self.model_name, self.hosting)

    def endpoint_request(self) -> Request:
        return endpoint_request(self.endpoint_name, self.config_name, update=self.update)

    def plan(self, model_data_url: str) -> list[ApiCall]:
        """Every request a run sends, in order (reads left out; their results as placeholders)."""
        only_if = "only if one of this name exists (--force)"
        calls: list[ApiCall] = []
        if self.force:
            calls += [
                ApiCall("sagemaker", "DeleteModel", {"ModelName": self.model_name}, note=only_if),
                ApiCall(
                    "sagemaker",
                    "DeleteEndpointConfig",
                    {"EndpointConfigName": self.config_name},
                    note=only_if,
                ),
            ]
        calls += [
            ApiCall("sagemaker", "CreateModel", self.model_request(model_data_url)),
            ApiCall("sagemaker", "CreateEndpointConfig", self.config_request()),
            ApiCall(
                "sagemaker",
                "UpdateEndpoint" if self.update else "CreateEndpoint",
                self.endpoint_request(),
            ),
        ]
        if self.update and not self.keep_previous:
            calls += [
                ApiCall(
                    "sagemaker",
                    "DeleteEndpointConfig",
                    {"EndpointConfigName": placeholder("DescribeEndpoint", "EndpointConfigName")},
                    note="the configuration the endpoint used before, once the update succeeded",
                ),
                ApiCall(
                    "sagemaker",
                    "DeleteModel",
                    {
                        "ModelName": placeholder(
                            "DescribeEndpointConfig", "ProductionVariants[].ModelName"
                        )
                    },
                    note="each model of that previous configuration",
                ),
            ]
        return calls


def _replace_or_refuse(
    sagemaker: SageMakerClient, kind: str, name: str, exists: bool, force: bool
) -> None:
    if not exists:
        return
    if not force:
        raise ToolError(
            f"{kind} {name} already exists; pass --force to replace it, or another name"
        )
    if kind == "model":
        sagemaker.delete_model(ModelName=name)
    else:
        sagemaker.delete_endpoint_config(EndpointConfigName=name)
    say(f"deleted the existing {kind} {name} (--force)")


def _check_endpoint(deployment: Deployment, endpoint: Any | None) -> None:
    name = deployment.endpoint_name
    if endpoint is None and deployment.update:
        raise ToolError(f"endpoint {name} does not exist; drop --update to create it")
    if endpoint is None:
        return
    if not deployment.update:
        raise ToolError(
            f"endpoint {name} already exists (config {endpoint['EndpointConfigName']}, "
            f"{endpoint['EndpointStatus']}); pass --update to move it to the new model"
        )
    if endpoint["EndpointStatus"] not in {"InService", "Failed"}:
        raise ToolError(
            f"endpoint {name} is {endpoint['EndpointStatus']}; wait until it settles "
            f"(`python -m training_jobs status --endpoint {name} --wait`)"
        )


def models_of_config(sagemaker: SageMakerClient, config_name: str) -> list[str]:
    """The models an endpoint config serves (none if the config does not exist)."""
    config = describe_or_none(sagemaker.describe_endpoint_config, EndpointConfigName=config_name)
    if config is None:
        return []
    return [v["ModelName"] for v in config["ProductionVariants"] if v.get("ModelName")]


def deploy(
    sagemaker: SageMakerClient,
    deployment: Deployment,
    model_data_url: str,
    *,
    wait: bool,
    poll_seconds: float,
    timeout_seconds: float,
) -> None:
    """Create model and config, then create or update the endpoint; clean up after an update."""
    endpoint = describe(sagemaker, Kind.ENDPOINT, deployment.endpoint_name)
    _check_endpoint(deployment, endpoint)
    model_exists = (
        describe_or_none(sagemaker.describe_model, ModelName=deployment.model_name) is not None
    )
    config_exists = (
        describe_or_none(
            sagemaker.describe_endpoint_config, EndpointConfigName=deployment.config_name
        )
        is not None
    )
    if endpoint is not None and deployment.config_name == endpoint["EndpointConfigName"]:
        raise ToolError(
            f"endpoint {deployment.endpoint_name} already uses {deployment.config_name}"
        )
    _replace_or_refuse(sagemaker, "model", deployment.model_name, model_exists, deployment.force)
    _replace_or_refuse(
        sagemaker, "endpoint config", deployment.config_name, config_exists, deployment.force
    )

    sagemaker.create_model(**deployment.model_request(model_data_url))
    say(f"created model {deployment.model_name} from {model_data_url}")
    sagemaker.create_endpoint_config(**deployment.config_request())
    say(f"created endpoint config {deployment.config_name}: {deployment.hosting.describe()}")
    previous_config = endpoint["EndpointConfigName"] if endpoint is not None else None
    if deployment.update:
        sagemaker.update_endpoint(**deployment.endpoint_request())
        say(f"updating endpoint {deployment.endpoint_name} to {deployment.config_name}")
    else:
        sagemaker.create_endpoint(**deployment.endpoint_request())
        say(f"creating endpoint {deployment.endpoint_name} (billed per hour until teardown)")
    if not wait:
        if previous_config:
            say(
                f"not waiting, so the previous config {previous_config} is kept; delete it later "
                f"with `python -m training_jobs teardown --endpoint-config-name {previous_config}`"
            )
        return
    state = wait_until_finished(
        sagemaker,
        Kind.ENDPOINT,
        deployment.endpoint_name,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    in_use = state.description.get("EndpointConfigName")
    if in_use != deployment.config_name:
        reason = state.description.get("FailureReason") or "no reason given"
        raise ToolError(f"endpoint {deployment.endpoint_name} rolled back to {in_use}: {reason}")
    if previous_config and not deployment.keep_previous:
        old_models = [
            m for m in models_of_config(sagemaker, previous_config) if m != deployment.model_name
        ]
        sagemaker.delete_endpoint_config(EndpointConfigName=previous_config)
        say(f"deleted previous endpoint config {previous_config}")
        for model in old_models:
            sagemaker.delete_model(ModelName=model)
            say(f"deleted previous model {model}")


def endpoint_name(text: str) -> str:
    """An argparse type: the stack takes the endpoint name in lower case (as its ARN is)."""
    name = resource_name(text)
    if name != name.lower():
        raise argparse.ArgumentTypeError(
            f"{text!r}: use lower case, as the stack's SageMakerEndpointName parameter does"
        )
    return name


def hosting_from_args(args: argparse.Namespace) -> Hosting:
    if args.serverless_memory_mb is not None:
        if args.instance_type is not None or args.instance_count is not None:
            raise ToolError(
                "choose real-time (--instance-type/--instance-count) or serverless "
                "(--serverless-memory-mb), not both"
            )
        return Hosting(
            instance_type=None,
            serverless_memory_mb=args.serverless_memory_mb,
            serverless_max_concurrency=args.serverless_max_concurrency,
        )
    return Hosting(
        instance_type=args.instance_type or DEFAULT_INSTANCE_TYPE,
        instance_count=args.instance_count or 1,
    )


@one_line_errors
def handle(args: argparse.Namespace) -> int:
    region = require_region(args)
    now = datetime.now(UTC)
    deployment = Deployment(
        endpoint_name=args.endpoint_name,
        model_name=args.model_name or timestamped_name(args.endpoint_name, now=now),
        config_name=args.endpoint_config_name or timestamped_name(args.endpoint_name, now=now),
        image_uri=blazingtext_image_uri(region, args.image_uri),
        role_arn=require_role_arn(args),
        hosting=hosting_from_args(args),
        update=args.update,
        keep_previous=args.keep_previous,
        force=args.force,
    )
    if args.dry_run:
        return print_plan(deployment.plan(planned_model_data(args)))

    sagemaker = Aws(region).sagemaker
    model_data_url, source = resolve_model_data(sagemaker, args)
    say(f"deploying {source}")
    deploy(
        sagemaker,
        deployment,
        model_data_url,
        wait=args.wait,
        poll_seconds=args.poll_seconds,
        timeout_seconds=args.timeout_seconds,
    )
    if args.wait:
        say(
            f"endpoint {deployment.endpoint_name} is InService; in samconfig.toml set "
            f'parameter_overrides = "SageMakerEndpointName=\\"{deployment.endpoint_name}\\"" '
            "and run `sam deploy`"
        )
    print(deployment.endpoint_name)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="create a model, endpoint config and endpoint (or update an endpoint)",
        description="Create a SageMaker model from a training job's model.tar.gz (or the best job "
        "of a tuning job), an endpoint configuration (real-time instances or serverless) and "
        "the endpoint, or with --update move an existing endpoint to the new configuration. "
        "Waits until InService and prints the endpoint name. Existing resources are refused "
        "unless --update (endpoint) or --force (model, config of the same name) says otherwise.",
    )
    source = parser.add_argument_group("model source (one of)").add_mutually_exclusive_group(
        required=True
    )
    source.add_argument("--training-job", type=resource_name, help="a Completed training job")
    source.add_argument(
        "--tuning-job", type=resource_name, help="a tuning job: deploys its best training job"
    )
    source.add_argument("--model-data-url", help="an s3:// URI of a BlazingText model.tar.gz")

    names = parser.add_argument_group("names")
    names.add_argument(
        "--endpoint-name",
        type=endpoint_name,
        default=DEFAULT_ENDPOINT_NAME,
        help=f"endpoint to create or update (default: {DEFAULT_ENDPOINT_NAME})",
    )
    names.add_argument(
        "--model-name",
        type=resource_name,
        help="model name (default: ENDPOINT-NAME-YYYYMMDD-HHMMSS)",
    )
    names.add_argument(
        "--endpoint-config-name",
        type=resource_name,
        help="endpoint configuration name (default: ENDPOINT-NAME-YYYYMMDD-HHMMSS)",
    )

    hosting = parser.add_argument_group(
        "hosting (real-time instances by default, or serverless with --serverless-memory-mb)"
    )
    hosting.add_argument(
        "--instance-type",
        help=f"real-time instance type (default: {DEFAULT_INSTANCE_TYPE})",
    )
    hosting.add_argument(
        "--instance-count", type=positive_int, help="real-time instances (default: 1)"
    )
    hosting.add_argument(
        "--serverless-memory-mb",
        type=int,
        choices=SERVERLESS_MEMORY_MB,
        help="serverless endpoint memory in MB (billed per request, not per hour)",
    )
    hosting.add_argument(
        "--serverless-max-concurrency",
        type=positive_int,
        default=5,
        help="serverless: concurrent invocations at most (default: 5)",
    )
    add_image_argument(hosting)

    safety = parser.add_argument_group("existing resources")
    safety.add_argument(
        "--update",
        action="store_true",
        help="the endpoint exists: move it to the new configuration (UpdateEndpoint)",
    )
    safety.add_argument(
        "--keep-previous",
        action="store_true",
        help="after --update, keep the previous endpoint config and model (default: delete them)",
    )
    safety.add_argument(
        "--force",
        action="store_true",
        help="replace a model or endpoint config that already has the requested name",
    )
    add_aws_arguments(parser, role=True)
    add_wait_arguments(parser, default_timeout=DEFAULT_TIMEOUT_SECONDS)
    parser.set_defaults(handler=handle)
