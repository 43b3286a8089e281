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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from training_jobs.console import say
from training_jobs.errors import CommandError
from training_jobs.sagemaker.aws import (
    ApiCall,
    Request,
    describe_or_none,
    placeholder,
)
from training_jobs.sagemaker.job_definition import tags
from training_jobs.sagemaker.watch import (
    Kind,
    best_training_job,
    describe,
    describe_completed,
    models_of_config,
    wait_until_finished,
)

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

DEFAULT_INSTANCE_TYPE = "ml.m5.large"
VARIANT_NAME = "AllTraffic"


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


@dataclass(frozen=True)
class ModelSource:
    """Where the model comes from: exactly one of the three is set."""

    training_job: str | None = None
    tuning_job: str | None = None
    model_data_url: str | None = None


def resolve_model_data(sagemaker: SageMakerClient, source: ModelSource) -> tuple[str, str]:
    """``(model data URL, where it came from)`` for the chosen source."""
    if source.model_data_url:
        return source.model_data_url, source.model_data_url
    if source.training_job:
        return artifact_of_training_job(sagemaker, source.training_job), source.training_job
    tuning = describe(sagemaker, Kind.TUNING_JOB, str(source.tuning_job))
    if tuning is None:
        raise CommandError(f"tuning job {source.tuning_job} does not exist")
    best_name = best_training_job(tuning)["TrainingJobName"]
    say(f"best training job of tuning job {source.tuning_job}: {best_name}")
    return artifact_of_training_job(sagemaker, best_name), best_name


def planned_model_data(source: ModelSource) -> str:
    """What a dry run shows for ModelDataUrl: the URI, or the read that supplies it."""
    if source.model_data_url:
        return source.model_data_url
    job = source.training_job or f"best training job of {source.tuning_job}"
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
        raise CommandError(
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
        raise CommandError(f"endpoint {name} does not exist; drop --update to create it")
    if endpoint is None:
        return
    if not deployment.update:
        raise CommandError(
            f"endpoint {name} already exists (config {endpoint['EndpointConfigName']}, "
            f"{endpoint['EndpointStatus']}); pass --update to move it to the new model"
        )
    if endpoint["EndpointStatus"] not in {"InService", "Failed"}:
        raise CommandError(
            f"endpoint {name} is {endpoint['EndpointStatus']}; wait until it settles "
            f"(`python -m training_jobs status --endpoint {name} --wait`)"
        )


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
        raise CommandError(
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
        raise CommandError(f"endpoint {deployment.endpoint_name} rolled back to {in_use}: {reason}")
    if previous_config and not deployment.keep_previous:
        old_models = [
            m for m in models_of_config(sagemaker, previous_config) if m != deployment.model_name
        ]
        sagemaker.delete_endpoint_config(EndpointConfigName=previous_config)
        say(f"deleted previous endpoint config {previous_config}")
        for model in old_models:
            sagemaker.delete_model(ModelName=model)
            say(f"deleted previous model {model}")


def choose_hosting(
    *,
    instance_type: str | None,
    instance_count: int | None,
    serverless_memory_mb: int | None,
    serverless_max_concurrency: int,
) -> Hosting:
    """Real-time instances (the default) or serverless; CommandError if both are asked for."""
    if serverless_memory_mb is not None:
        if instance_type is not None or instance_count is not None:
            raise CommandError(
                "choose real-time (--instance-type/--instance-count) or serverless "
                "(--serverless-memory-mb), not both"
            )
        return Hosting(
            instance_type=None,
            serverless_memory_mb=serverless_memory_mb,
            serverless_max_concurrency=serverless_max_concurrency,
        )
    return Hosting(
        instance_type=instance_type or DEFAULT_INSTANCE_TYPE,
        instance_count=instance_count or 1,
    )
