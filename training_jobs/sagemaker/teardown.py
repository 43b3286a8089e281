"""``teardown``: delete what costs money, stop what runs, and list what is left.

An endpoint bills every hour it exists, whether or not anyone calls it.
``--endpoint-name`` deletes the endpoint's autoscaling (policies, then the
scalable target), the endpoint, its endpoint configuration and the models of
that configuration (a model or configuration another endpoint still uses is
kept). Leftovers are deleted by name; running jobs are stopped by name. Every
run ends by listing the endpoints, configurations, models and scalable targets
that exist and the jobs still in progress, so nothing keeps billing unseen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from training_jobs.console import say
from training_jobs.sagemaker import autoscaling
from training_jobs.sagemaker.aws import (
    ApiCall,
    Aws,
    describe_or_none,
    placeholder,
)
from training_jobs.sagemaker.watch import Kind, describe, models_of_config, variants_of

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_sagemaker import SageMakerClient


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str
    status: str = ""
    detail: str = ""

    def line(self) -> str:
        return "\t".join(part for part in (self.kind, self.name, self.status, self.detail) if part)


# --- what exists --------------------------------------------------------------------


def existing_resources(
    sagemaker: SageMakerClient, scaling: ApplicationAutoScalingClient
) -> Iterator[Resource]:
    """Endpoints (any state), endpoint configs, models, scalable targets, jobs in progress."""
    for endpoints in sagemaker.get_paginator("list_endpoints").paginate():
        for endpoint in endpoints["Endpoints"]:
            yield Resource("endpoint", endpoint["EndpointName"], endpoint["EndpointStatus"])
    for configs in sagemaker.get_paginator("list_endpoint_configs").paginate():
        for config in configs["EndpointConfigs"]:
            yield Resource("endpoint-config", config["EndpointConfigName"])
    for models in sagemaker.get_paginator("list_models").paginate():
        for model in models["Models"]:
            yield Resource("model", model["ModelName"])
    for target in autoscaling.scalable_targets(scaling):
        bounds = f"{target['MinCapacity']}-{target['MaxCapacity']} instances"
        yield Resource("scalable-target", target["ResourceId"], detail=bounds)

    for trainings in sagemaker.get_paginator("list_training_jobs").paginate(
        StatusEquals="InProgress"
    ):
        for job in trainings["TrainingJobSummaries"]:
            yield Resource("training-job", job["TrainingJobName"], job["TrainingJobStatus"])
    for tunings in sagemaker.get_paginator("list_hyper_parameter_tuning_jobs").paginate(
        StatusEquals="InProgress"
    ):
        for tuning in tunings["HyperParameterTuningJobSummaries"]:
            yield Resource(
                "tuning-job",
                tuning["HyperParameterTuningJobName"],
                tuning["HyperParameterTuningJobStatus"],
            )
    for transforms in sagemaker.get_paginator("list_transform_jobs").paginate(
        StatusEquals="InProgress"
    ):
        for transform in transforms["TransformJobSummaries"]:
            yield Resource(
                "transform-job", transform["TransformJobName"], transform["TransformJobStatus"]
            )


def print_inventory(aws: Aws) -> list[Resource]:
    resources = list(existing_resources(aws.sagemaker, aws.autoscaling))
    for resource in resources:
        print(resource.line())
    billed = [r for r in resources if r.kind.endswith("endpoint") or r.kind.endswith("-job")]
    if billed:
        say(
            f"{len(billed)} endpoint(s) or job(s) are billed while they exist or run: "
            + ", ".join(f"{r.kind} {r.name}" for r in billed)
        )
    elif resources:
        say(
            "nothing is billed by the hour; what is listed is free to keep "
            "(models, configs, scalable targets)"
        )
    else:
        say("nothing left: no endpoints, endpoint configs, models, scalable targets or jobs")
    return resources


# --- deleting and stopping ----------------------------------------------------------


def _in_use_elsewhere(sagemaker: SageMakerClient, leaving: set[str]) -> tuple[set[str], set[str]]:
    """Configs and models used by endpoints that are not being deleted."""
    configs: set[str] = set()
    models: set[str] = set()
    for page in sagemaker.get_paginator("list_endpoints").paginate():
        for summary in page["Endpoints"]:
            if summary["EndpointName"] in leaving:
                continue
            endpoint = describe(sagemaker, Kind.ENDPOINT, summary["EndpointName"])
            if endpoint is None:
                continue
            configs.add(endpoint["EndpointConfigName"])
            models.update(models_of_config(sagemaker, endpoint["EndpointConfigName"]))
    return configs, models


def delete_endpoints(
    aws: Aws,
    endpoints: Sequence[str],
    configs: Sequence[str],
    models: Sequence[str],
) -> None:
    """Delete the endpoints with their autoscaling, configs and models, then the leftovers."""
    sagemaker = aws.sagemaker
    config_names = list(configs)
    model_names = list(models)
    for name in endpoints:
        endpoint = describe(sagemaker, Kind.ENDPOINT, name)
        if endpoint is None:
            say(f"endpoint {name} does not exist (already deleted?)")
            continue
        config = endpoint["EndpointConfigName"]
        for variant in variants_of(sagemaker, endpoint):
            target = autoscaling.registered(aws.autoscaling, name, variant)
            if target is not None:
                autoscaling.deregister(aws.autoscaling, target)
        sagemaker.delete_endpoint(EndpointName=name)
        say(f"deleted endpoint {name}")
        model_names += models_of_config(sagemaker, config)
        config_names.append(config)
    used_configs, used_models = _in_use_elsewhere(sagemaker, set(endpoints))
    for config in dict.fromkeys(config_names):
        if config in used_configs:
            say(f"kept endpoint config {config}: another endpoint uses it")
        elif (
            describe_or_none(sagemaker.describe_endpoint_config, EndpointConfigName=config) is None
        ):
            say(f"endpoint config {config} does not exist")
        else:
            sagemaker.delete_endpoint_config(EndpointConfigName=config)
            say(f"deleted endpoint config {config}")
    for model in dict.fromkeys(model_names):
        if model in used_models:
            say(f"kept model {model}: another endpoint uses it")
        elif describe_or_none(sagemaker.describe_model, ModelName=model) is None:
            say(f"model {model} does not exist")
        else:
            sagemaker.delete_model(ModelName=model)
            say(f"deleted model {model}")


def stop_jobs(
    sagemaker: SageMakerClient,
    training: Sequence[str],
    tuning: Sequence[str],
    transform: Sequence[str],
) -> None:
    """Stop jobs that are still in progress; a job that already ended is only reported."""
    stop: dict[Kind, Callable[..., Any]] = {
        Kind.TRAINING_JOB: sagemaker.stop_training_job,
        Kind.TUNING_JOB: sagemaker.stop_hyper_parameter_tuning_job,
        Kind.TRANSFORM_JOB: sagemaker.stop_transform_job,
    }
    also = {Kind.TUNING_JOB: " and its training jobs"}
    for kind, names in _jobs_to_stop(training, tuning, transform):
        for name in names:
            job = describe(sagemaker, kind, name)
            status = job[kind.status_field] if job else "missing"
            if status == "InProgress":
                stop[kind](**{kind.name_field: name})
                say(f"stopping {kind.label} {name}{also.get(kind, '')}")
            else:
                say(f"{kind.label} {name} is {status}; nothing to stop")


def _jobs_to_stop(
    training: Sequence[str], tuning: Sequence[str], transform: Sequence[str]
) -> tuple[tuple[Kind, Sequence[str]], ...]:
    return (
        (Kind.TRAINING_JOB, training),
        (Kind.TUNING_JOB, tuning),
        (Kind.TRANSFORM_JOB, transform),
    )


@dataclass(frozen=True)
class Teardown:
    """What one run deletes and stops (each a list of names)."""

    endpoints: Sequence[str] = ()
    endpoint_configs: Sequence[str] = ()
    models: Sequence[str] = ()
    training_jobs: Sequence[str] = ()
    tuning_jobs: Sequence[str] = ()
    transform_jobs: Sequence[str] = ()


def plan(teardown: Teardown) -> list[ApiCall]:
    calls = [
        ApiCall("sagemaker", f"Stop{kind.api_name}", {kind.name_field: name})
        for kind, names in _jobs_to_stop(
            teardown.training_jobs, teardown.tuning_jobs, teardown.transform_jobs
        )
        for name in names
    ]
    for name in teardown.endpoints:
        described = f"DescribeEndpoint({name})"
        variant = placeholder(described, "ProductionVariants[].VariantName")
        calls += autoscaling.plan_deregister(
            name, variant, "for each variant registered for autoscaling"
        )
        calls += [
            ApiCall("sagemaker", "DeleteEndpoint", {"EndpointName": name}),
            ApiCall(
                "sagemaker",
                "DeleteEndpointConfig",
                {"EndpointConfigName": placeholder(described, "EndpointConfigName")},
                note="unless another endpoint uses it",
            ),
            ApiCall(
                "sagemaker",
                "DeleteModel",
                {
                    "ModelName": placeholder(
                        "DescribeEndpointConfig", "ProductionVariants[].ModelName"
                    )
                },
                note="each model of that config, unless another endpoint uses it",
            ),
        ]
    for name in teardown.endpoint_configs:
        calls.append(ApiCall("sagemaker", "DeleteEndpointConfig", {"EndpointConfigName": name}))
    for name in teardown.models:
        calls.append(ApiCall("sagemaker", "DeleteModel", {"ModelName": name}))
    return calls
