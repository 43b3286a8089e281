"""``deploy``: a trained model behind a SageMaker endpoint the Lambda can invoke.

From a training job (or the best job of a tuning job, or a ``model.tar.gz``
URI) this creates a model and an endpoint configuration (real-time instances
or serverless), then either creates the endpoint or, with ``--update``, moves
an existing endpoint to the new configuration without downtime. It waits until
the endpoint is InService and prints its name: the value for the stack's
SageMaker endpoint parameter in samconfig.toml.

``--update`` is gated: the candidate and the live model are both scored,
each with its own postprocessing.json, on a held-out prepared file
(``--gate-data``), and the update is refused when the candidate's macro-F1 is
lower (``--ignore-gate`` deploys anyway), or when the candidate's priority scheme
differs from the live model's (``--allow-scheme-change`` deploys anyway; ``--ignore-gate``
does not skip that check). ``--rollout`` moves the traffic in steps watched by alarms,
and SageMaker rolls back if one fires (rollout.py).

With a minimum and maximum instance count the variant is registered for
autoscaling once it is InService (autoscaling.py); an update keeps a variant's
registration and its instance count, or replaces the registration when new
bounds are given.

An endpoint is billed for every hour it exists, used or not: ``teardown``
deletes it. After a successful ``--update`` the previous configuration and
its model are deleted (``--keep-previous`` keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training_jobs.console import say
from training_jobs.errors import CommandError
from training_jobs.sagemaker import autoscaling
from training_jobs.sagemaker.aws import (
    ApiCall,
    Aws,
    Request,
    describe_or_none,
    placeholder,
)
from training_jobs.sagemaker.job_definition import tags
from training_jobs.sagemaker.rollout import (
    MAX_ALARMS,
    Rollout,
    endpoint_alarms,
    planned_alarms,
    rollback_explainer,
)
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


def endpoint_request(
    endpoint_name: str,
    config_name: str,
    *,
    update: bool,
    deployment_config: Request | None = None,
    retain_variant_properties: bool = False,
) -> Request:
    request: Request = {"EndpointName": endpoint_name, "EndpointConfigName": config_name}
    if not update:
        request["Tags"] = tags()
    if deployment_config:
        request["DeploymentConfig"] = deployment_config
    if retain_variant_properties:
        # Keep the instance count autoscaling gave the variant, not the new config's initial one.
        request["RetainAllVariantProperties"] = True
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
    rollout: Rollout | None = None
    scaling: autoscaling.Scaling | None = None

    def __post_init__(self) -> None:
        if self.rollout is not None and not self.update:
            raise CommandError("--rollout moves an endpoint's traffic: it needs --update")
        scaling = self.scaling
        if scaling is None:
            return
        if self.hosting.serverless:
            raise CommandError(
                "a serverless endpoint scales by itself, up to --serverless-max-concurrency: "
                "--min-instances/--max-instances need real-time instances"
            )
        if not 1 <= scaling.min_instances <= scaling.max_instances:
            raise CommandError("--min-instances must be at least 1 and at most --max-instances")
        if not scaling.min_instances <= self.hosting.instance_count <= scaling.max_instances:
            raise CommandError(
                f"--instance-count {self.hosting.instance_count} is outside --min-instances "
                f"{scaling.min_instances} .. --max-instances {scaling.max_instances}"
            )

    def model_request(self, model_data_url: str) -> Request:
        return model_request(self.model_name, self.image_uri, model_data_url, self.role_arn)

    def config_request(self) -> Request:
        return endpoint_config_request(self.config_name, self.model_name, self.hosting)

    def endpoint_request(
        self, alarms: list[str] | None = None, *, retain_variant_properties: bool = False
    ) -> Request:
        """CreateEndpoint's or UpdateEndpoint's request; a rollout rolls back on ``alarms``."""
        return endpoint_request(
            self.endpoint_name,
            self.config_name,
            update=self.update,
            deployment_config=self.rollout.deployment_config(alarms or [])
            if self.rollout
            else None,
            retain_variant_properties=retain_variant_properties,
        )

    def _deregisters(self) -> bool:
        """Whether an update may deregister the variant's autoscaling before UpdateEndpoint."""
        return self.update and (self.scaling is not None or self.hosting.serverless)

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
        ]
        if self._deregisters():
            calls += autoscaling.plan_deregister(
                self.endpoint_name,
                VARIANT_NAME,
                "only if the variant is registered for autoscaling and the new config changes "
                "its instance type (UpdateEndpoint refuses that on a registered variant)",
            )
        if self.update:
            alarms = None
            if self.rollout:
                alarms = list(self.rollout.alarms) or planned_alarms()
            calls.append(
                ApiCall(
                    "sagemaker",
                    "UpdateEndpoint",
                    self.endpoint_request(alarms),
                    note="with RetainAllVariantProperties true if the variant stays registered "
                    "for autoscaling (it keeps the instance count autoscaling gave it)",
                )
            )
        else:
            calls.append(ApiCall("sagemaker", "CreateEndpoint", self.endpoint_request()))
        if self.scaling:
            calls += self.scaling.plan(self.endpoint_name, VARIANT_NAME)
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


def live_model_data_url(sagemaker: SageMakerClient, endpoint_name: str) -> str:
    """The model.tar.gz the endpoint serves now (its config's first variant's model)."""
    endpoint = describe(sagemaker, Kind.ENDPOINT, endpoint_name)
    if endpoint is None:
        raise CommandError(f"endpoint {endpoint_name} does not exist; drop --update to create it")
    models = models_of_config(sagemaker, endpoint["EndpointConfigName"])
    if not models:
        raise CommandError(f"endpoint {endpoint_name}: its config serves no model")
    model = sagemaker.describe_model(ModelName=models[0])
    url: str = model["PrimaryContainer"]["ModelDataUrl"]
    return url


def check_gate(
    sagemaker: SageMakerClient,
    endpoint_name: str,
    candidate_url: str,
    held_out: Path,
    tolerance: float,
    *,
    score: bool = True,
    allow_scheme_change: bool = False,
) -> None:
    """CommandError if the candidate's priority scheme differs from the live model's (unless
    ``allow_scheme_change``) or, when ``score``, its macro-F1 on ``held_out`` is below the live
    model's."""
    from training_jobs.evaluation.gate import GateError, compare_schemes, evaluate_gate

    live_url = live_model_data_url(sagemaker, endpoint_name)
    try:
        if not score:
            change = compare_schemes(candidate_url, live_url, allow_scheme_change)
            if change:
                say(f"gate: {change} (allowed by --allow-scheme-change)")
            return
        say(f"gate: scoring {candidate_url} and the live {live_url} on {held_out}")
        result = evaluate_gate(
            candidate_url, live_url, held_out, tolerance, allow_scheme_change=allow_scheme_change
        )
    except GateError as exc:
        raise CommandError(f"gate: {exc}") from None
    if result.scheme_change:
        say(f"gate: {result.scheme_change} (allowed by --allow-scheme-change)")
    if not result.passed:
        raise CommandError(f"gate: {result.describe()}; --ignore-gate deploys it anyway")
    say(f"gate: {result.describe()}")


def live_variant(sagemaker: SageMakerClient, config_name: str) -> Any:
    """The variant an endpoint config serves (None if the config is gone)."""
    config = describe_or_none(sagemaker.describe_endpoint_config, EndpointConfigName=config_name)
    variants = [] if config is None else config["ProductionVariants"]
    return next((v for v in variants if v["VariantName"] == VARIANT_NAME), None)


def check_wait(deployment: Deployment, wait: bool) -> None:
    """Autoscaling is registered once the endpoint is InService: that needs the wait."""
    if deployment.scaling is not None and not wait:
        raise CommandError(
            "autoscaling is registered once the endpoint is InService: drop --no-wait"
        )


@dataclass(frozen=True)
class _Scaled:
    """The variant's autoscaling before an update, and whether the update must remove it."""

    registered: autoscaling.Registered | None
    deregister_first: bool


def _scaled_before_update(
    aws: Aws, deployment: Deployment, endpoint: Any, *, wait: bool
) -> _Scaled:
    target = autoscaling.registered(aws.autoscaling, deployment.endpoint_name, VARIANT_NAME)
    if target is None:
        return _Scaled(None, deregister_first=False)
    live = live_variant(aws.sagemaker, endpoint["EndpointConfigName"]) or {}
    hosting = deployment.hosting
    if not hosting.serverless and live.get("InstanceType") == hosting.instance_type:
        return _Scaled(target, deregister_first=False)
    if deployment.scaling is None and not hosting.serverless:
        raise CommandError(
            f"endpoint {deployment.endpoint_name} autoscales {live.get('InstanceType')} between "
            f"{target.min_capacity} and {target.max_capacity} instances; UpdateEndpoint refuses "
            "another instance type on it, and the target per instance changes with the type: "
            "give --min-instances, --max-instances and --target-invocations for the new one"
        )
    if not wait:
        raise CommandError(
            "the update replaces the endpoint's autoscaling, registered again once the "
            "endpoint is InService: drop --no-wait"
        )
    return _Scaled(target, deregister_first=True)


def _rollback_alarms(aws: Aws, deployment: Deployment) -> list[str]:
    """The alarms the rollout rolls back on: --rollback-alarm's, else the endpoint's."""
    rollout = deployment.rollout
    if rollout is None:
        return []
    if rollout.alarms:
        answer = aws.cloudwatch.describe_alarms(AlarmNames=list(rollout.alarms))
        found = {
            a["AlarmName"]
            for a in [*answer.get("MetricAlarms", []), *answer.get("CompositeAlarms", [])]
        }
        missing = [name for name in rollout.alarms if name not in found]
        if missing:
            raise CommandError(f"no CloudWatch alarm named {', '.join(missing)} in {aws.region}")
        alarms = list(rollout.alarms)
    else:
        alarms = endpoint_alarms(aws.cloudwatch, deployment.endpoint_name, VARIANT_NAME)
    if len(alarms) > MAX_ALARMS:
        raise CommandError(
            f"{len(alarms)} alarms watch endpoint {deployment.endpoint_name}; a rollout takes "
            f"at most {MAX_ALARMS}: choose them with --rollback-alarm"
        )
    if alarms:
        say(f"rollout: {rollout.describe()}; rolls back if one fires: {', '.join(alarms)}")
    else:
        say(
            f"rollout: {rollout.describe()}; no alarm watches endpoint "
            f"{deployment.endpoint_name}'s ModelLatency or Invocation5XXErrors, so it cannot "
            "roll back by itself (deploy the stack with the sagemaker backend, or pass "
            "--rollback-alarm)"
        )
    return alarms


def deploy(
    aws: Aws,
    deployment: Deployment,
    model_data_url: str,
    *,
    wait: bool,
    poll_seconds: float,
    timeout_seconds: float,
) -> None:
    """Create model and config, then create or update the endpoint; clean up after an update.

    Autoscaling is registered once the endpoint is InService; an update that has to
    remove it first puts it back if SageMaker rolls the update back.
    """
    check_wait(deployment, wait)
    sagemaker = aws.sagemaker
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
    scaled = _Scaled(None, deregister_first=False)
    if deployment.update:
        scaled = _scaled_before_update(aws, deployment, endpoint, wait=wait)
    alarms = _rollback_alarms(aws, deployment)
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
        if scaled.registered is not None and scaled.deregister_first:
            autoscaling.deregister(aws.autoscaling, scaled.registered)
        retain = scaled.registered is not None and not scaled.deregister_first
        sagemaker.update_endpoint(
            **deployment.endpoint_request(alarms, retain_variant_properties=retain)
        )
        say(f"updating endpoint {deployment.endpoint_name} to {deployment.config_name}")
        if retain:
            say("its autoscaling stays, and so does the instance count autoscaling gave it")
        elif scaled.deregister_first and deployment.hosting.serverless:
            say("serverless: SageMaker scales it up to its MaxConcurrency, without autoscaling")
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
    try:
        wait_until_finished(
            sagemaker,
            Kind.ENDPOINT,
            deployment.endpoint_name,
            poll_seconds=poll_seconds,
            timeout_seconds=timeout_seconds,
            target_config=deployment.config_name if deployment.update else None,
            explain=rollback_explainer(aws),
        )
    except CommandError:
        if scaled.registered is not None and scaled.deregister_first:
            _restore_after_rollback(aws, deployment, scaled.registered, previous_config)
        raise
    if deployment.scaling is not None:
        deployment.scaling.apply(aws.autoscaling, deployment.endpoint_name, VARIANT_NAME)
    if previous_config and not deployment.keep_previous:
        old_models = [
            m for m in models_of_config(sagemaker, previous_config) if m != deployment.model_name
        ]
        sagemaker.delete_endpoint_config(EndpointConfigName=previous_config)
        say(f"deleted previous endpoint config {previous_config}")
        for model in old_models:
            sagemaker.delete_model(ModelName=model)
            say(f"deleted previous model {model}")


def _restore_after_rollback(
    aws: Aws, deployment: Deployment, target: autoscaling.Registered, previous_config: str | None
) -> None:
    """The update removed the variant's autoscaling: put it back if the old config serves again."""
    endpoint = describe(aws.sagemaker, Kind.ENDPOINT, deployment.endpoint_name) or {}
    if endpoint.get("EndpointStatus") == "InService" and (
        endpoint.get("EndpointConfigName") == previous_config
    ):
        autoscaling.restore(aws.autoscaling, target)
    else:
        say(
            f"{target.resource_id} is not registered for autoscaling any more (it was "
            f"{target.min_capacity}-{target.max_capacity} instances); register it again once "
            "the endpoint is InService"
        )


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
