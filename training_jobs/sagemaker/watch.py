"""The state of jobs and endpoints, and waiting on them with visible progress.

SageMaker jobs take minutes to hours. Waiting prints one line per check to
stderr (elapsed time, state, secondary status or job counters; an endpoint's
rollout stage) instead of sitting silent, and a job that fails ends the wait
with its FailureReason. An endpoint update that SageMaker rolled back (an alarm
fired, or the new fleet did not start) ends InService on the configuration it
had: waiting on the update reports that as a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from training_jobs.console import say
from training_jobs.errors import CommandError
from training_jobs.sagemaker.aws import describe_or_none
from training_jobs.sagemaker.rollout import pending_config, rollout_progress

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient


class Kind(StrEnum):
    """What can be watched; the value is also the option of ``status`` (``--training-job``)."""

    TRAINING_JOB = "training-job"
    TUNING_JOB = "tuning-job"
    TRANSFORM_JOB = "transform-job"
    ENDPOINT = "endpoint"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")

    @property
    def api_name(self) -> str:
        """Its noun in the SageMaker API: ``Describe<api_name>``, ``Stop<api_name>``."""
        return _API_NAMES[self]

    @property
    def name_field(self) -> str:
        """The request field naming one (``TrainingJobName``)."""
        return f"{self.api_name}Name"

    @property
    def status_field(self) -> str:
        """The Describe* answer's state (``TrainingJobStatus``)."""
        return f"{self.api_name}Status"


_API_NAMES = {
    Kind.TRAINING_JOB: "TrainingJob",
    Kind.TUNING_JOB: "HyperParameterTuningJob",
    Kind.TRANSFORM_JOB: "TransformJob",
    Kind.ENDPOINT: "Endpoint",
}


def describe(sagemaker: SageMakerClient, kind: Kind, name: str) -> Any | None:
    """The Describe* answer for the job or endpoint, or None if it does not exist."""
    operations: dict[Kind, Callable[..., Any]] = {
        Kind.TRAINING_JOB: sagemaker.describe_training_job,
        Kind.TUNING_JOB: sagemaker.describe_hyper_parameter_tuning_job,
        Kind.TRANSFORM_JOB: sagemaker.describe_transform_job,
        Kind.ENDPOINT: sagemaker.describe_endpoint,
    }
    return describe_or_none(operations[kind], **{kind.name_field: name})


def describe_completed(sagemaker: SageMakerClient, kind: Kind, name: str) -> Any:
    """The Describe* answer of a Completed job; CommandError if it is missing or not Completed."""
    description = describe(sagemaker, kind, name)
    if description is None:
        raise CommandError(f"{kind.label} {name} does not exist")
    status = description[kind.status_field]
    if status != "Completed":
        reason = description.get("FailureReason")
        raise CommandError(
            f"{kind.label} {name} is {status}, not Completed" + (f": {reason}" if reason else "")
        )
    return description


@dataclass(frozen=True)
class State:
    kind: Kind
    name: str
    status: str
    #: Secondary status, counters or the latest status message: what moves while waiting.
    detail: str = ""
    finished: bool = False
    succeeded: bool = False
    failure_reason: str | None = None
    description: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: An endpoint update ended back on the configuration it started from.
    rolled_back: bool = False

    def line(self) -> str:
        text = f"{self.kind.label} {self.name}: {self.status}"
        return f"{text} ({self.detail})" if self.detail else text

    @property
    def rollout_failed(self) -> bool:
        """An endpoint update ended rolled back, or its rollback failed too."""
        return self.rolled_back or self.status == "UpdateRollbackFailed"

    def failure_line(self) -> str:
        """What went wrong, in one line, once it finished without success."""
        reason = self.failure_reason or "no reason given"
        if self.rolled_back:
            config = self.description.get("EndpointConfigName")
            return f"{self.kind.label} {self.name} rolled back to {config}: {reason}"
        return f"{self.kind.label} {self.name} {self.status}: {reason}"


def _job_state(
    kind: Kind, name: str, status: str, detail: str, description: Mapping[str, Any]
) -> State:
    finished = status in {"Completed", "Failed", "Stopped"}
    reason = description.get("FailureReason") or None
    if status == "Stopped" and not reason:
        reason = "stopped before it completed"
    return State(
        kind=kind,
        name=name,
        status=status,
        detail=detail,
        finished=finished,
        succeeded=status == "Completed",
        failure_reason=reason if finished and status != "Completed" else None,
        description=description,
    )


def training_job_state(sagemaker: SageMakerClient, name: str) -> State:
    job = sagemaker.describe_training_job(TrainingJobName=name)
    detail: str = job.get("SecondaryStatus", "")
    transitions = job.get("SecondaryStatusTransitions") or []
    if transitions and transitions[-1].get("StatusMessage"):
        detail = f"{detail}: {transitions[-1]['StatusMessage']}"
    return _job_state(Kind.TRAINING_JOB, name, job["TrainingJobStatus"], detail, dict(job))


def tuning_job_state(sagemaker: SageMakerClient, name: str) -> State:
    job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    counters = job.get("TrainingJobStatusCounters", {})
    limits = job["HyperParameterTuningJobConfig"].get("ResourceLimits", {})
    parts = [
        f"{counters.get('Completed', 0)}/{limits.get('MaxNumberOfTrainingJobs', '?')} completed",
        f"{counters.get('InProgress', 0)} running",
        f"{counters.get('NonRetryableError', 0) + counters.get('RetryableError', 0)} failed",
        f"{counters.get('Stopped', 0)} stopped early",
    ]
    best = job.get("BestTrainingJob")
    if best and "FinalHyperParameterTuningJobObjectiveMetric" in best:
        metric = best["FinalHyperParameterTuningJobObjectiveMetric"]
        parts.append(
            f"best {metric['MetricName']} {metric['Value']:.4f} ({best['TrainingJobName']})"
        )
    status = job["HyperParameterTuningJobStatus"]
    return _job_state(Kind.TUNING_JOB, name, status, ", ".join(parts), dict(job))


def transform_job_state(sagemaker: SageMakerClient, name: str) -> State:
    job = sagemaker.describe_transform_job(TransformJobName=name)
    return _job_state(Kind.TRANSFORM_JOB, name, job["TransformJobStatus"], "", dict(job))


#: Where an endpoint stops changing: InService (after an update, possibly on the old
#: configuration), or failed. UpdateRollbackFailed: the update and its rollback both failed.
_ENDPOINT_SETTLED = {"InService", "Failed", "OutOfService", "UpdateRollbackFailed"}


def endpoint_state(
    sagemaker: SageMakerClient, name: str, target_config: str | None = None
) -> State:
    """The endpoint's state; with ``target_config``, InService on another config is a rollback."""
    endpoint = sagemaker.describe_endpoint(EndpointName=name)
    status = endpoint["EndpointStatus"]
    config = endpoint.get("EndpointConfigName", "?")
    finished = status in _ENDPOINT_SETTLED
    rolled_back = finished and status == "InService" and target_config not in (None, config)
    succeeded = status == "InService" and not rolled_back
    reason = endpoint.get("FailureReason") or None
    if status == "UpdateRollbackFailed" and not reason:
        reason = "the update and its rollback failed: it serves a mix of old and new configurations"
    progress = rollout_progress(endpoint)
    return State(
        kind=Kind.ENDPOINT,
        name=name,
        status=status,
        detail=f"config {config}" + (f"; {progress}" if progress else ""),
        finished=finished,
        succeeded=succeeded,
        failure_reason=(reason or (None if rolled_back else f"endpoint is {status}"))
        if finished and not succeeded
        else None,
        description=dict(endpoint),
        rolled_back=rolled_back,
    )


READERS: dict[Kind, Callable[[SageMakerClient, str], State]] = {
    Kind.TRAINING_JOB: training_job_state,
    Kind.TUNING_JOB: tuning_job_state,
    Kind.TRANSFORM_JOB: transform_job_state,
    Kind.ENDPOINT: endpoint_state,
}

#: How to stop each kind of job if the user gives up waiting on it.
_STOP_OPTION = {
    Kind.TRAINING_JOB: "--stop-training-job",
    Kind.TUNING_JOB: "--stop-tuning-job",
    Kind.TRANSFORM_JOB: "--stop-transform-job",
    Kind.ENDPOINT: "--endpoint-name",
}


def elapsed_text(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _follow_up(kind: Kind, name: str) -> str:
    return (
        f"follow it with `python -m training_jobs status --{kind.value} {name} --wait`, "
        f"or end it with `python -m training_jobs teardown {_STOP_OPTION[kind]} {name}`"
    )


def wait_until_finished(
    sagemaker: SageMakerClient,
    kind: Kind,
    name: str,
    *,
    poll_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    target_config: str | None = None,
    explain: Callable[[State], str | None] | None = None,
) -> State:
    """Poll until the job or endpoint settles; raise CommandError if it failed or time ran out.

    An endpoint update's target configuration is ``target_config`` or, once seen, the
    one DescribeEndpoint says it is rolling out: ending InService on another one is a
    rollback. ``explain`` may add to the failure (which alarm fired).
    """
    read = READERS[kind]
    started = clock()
    try:
        while True:
            if kind is Kind.ENDPOINT:
                state = endpoint_state(sagemaker, name, target_config)
                target_config = target_config or pending_config(state.description)
            else:
                state = read(sagemaker, name)
            elapsed = clock() - started
            say(f"[{elapsed_text(elapsed)}] {state.line()}")
            if state.finished:
                if not state.succeeded:
                    extra = explain(state) if explain else None
                    message = state.failure_line()
                    raise CommandError(f"{message}; {extra}" if extra else message)
                return state
            if elapsed + poll_seconds > timeout_seconds:
                raise CommandError(
                    f"stopped waiting after {elapsed_text(elapsed)}; {kind.label} {name} is still "
                    f"{state.status}: {_follow_up(kind, name)}"
                )
            sleep(poll_seconds)
    except KeyboardInterrupt:
        say(f"{kind.label} {name} carries on without us: {_follow_up(kind, name)}")
        raise


def best_training_job(description: Any) -> dict[str, Any]:
    """The tuning job's best training job, or CommandError if none succeeded."""
    best = description.get("BestTrainingJob")
    if not best:
        raise CommandError(
            f"tuning job {description['HyperParameterTuningJobName']} has no successful "
            "training job yet"
        )
    return dict(best)


def models_of_config(sagemaker: SageMakerClient, config_name: str) -> list[str]:
    """The models an endpoint config serves (none if the config does not exist)."""
    config = describe_or_none(sagemaker.describe_endpoint_config, EndpointConfigName=config_name)
    if config is None:
        return []
    return [v["ModelName"] for v in config["ProductionVariants"] if v.get("ModelName")]


def variants_of(sagemaker: SageMakerClient, endpoint: Mapping[str, Any]) -> list[str]:
    """An endpoint's variant names (from its config when DescribeEndpoint does not list them)."""
    variants = [v["VariantName"] for v in endpoint.get("ProductionVariants") or []]
    if variants:
        return variants
    config = describe_or_none(
        sagemaker.describe_endpoint_config, EndpointConfigName=endpoint["EndpointConfigName"]
    )
    return [v["VariantName"] for v in (config or {}).get("ProductionVariants", [])]
