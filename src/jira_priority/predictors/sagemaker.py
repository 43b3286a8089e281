"""The SageMaker backend: InvokeEndpoint on a BlazingText endpoint.

BlazingText's JSON protocol: the request is
``{"instances": [...], "configuration": {"k": k}}`` and the answer is a list
with one ``{"label": [...], "prob": [...]}`` per instance. Every SDK failure is
wrapped here into a domain error (``jira_priority.errors``), so nothing above
this module knows botocore.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    NoRegionError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from jira_priority.errors import (
    BadModelResponseError,
    ConfigurationError,
    EndpointRejectedError,
    ModelInvocationError,
    ServiceError,
    UpstreamThrottledError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from jira_priority.labels import DEFAULT_SCHEME, PriorityScheme
from jira_priority.predictors.base import LabelScore, checked_ranking
from jira_priority.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

JSON = "application/json"

# Error codes InvokeEndpoint documents, by what they mean for our client.
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException"}
# ModelNotReadyException: a serverless variant still provisioning, or a multi-model
# endpoint still loading the model; AWS says to wait and retry.
_UNAVAILABLE = {
    "ServiceUnavailable",
    "InternalFailure",
    "InternalDependencyException",
    "ModelNotReadyException",
}


_FIELDS = Settings.model_fields


@lru_cache(maxsize=4)
def runtime_client(
    connect_timeout: float = _FIELDS["sagemaker_connect_timeout_seconds"].default,
    read_timeout: float = _FIELDS["sagemaker_read_timeout_seconds"].default,
    max_attempts: int = _FIELDS["sagemaker_max_attempts"].default,
) -> SageMakerRuntimeClient:
    """One sagemaker-runtime client per execution environment and timeout setting.

    ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` (read by botocore itself) points it
    at a stand-in in tests.
    """
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        tcp_keepalive=True,
    )
    try:
        return boto3.client("sagemaker-runtime", config=config)
    except NoRegionError as exc:
        raise ConfigurationError(
            "invalid configuration: AWS_REGION (or AWS_DEFAULT_REGION) is not set"
        ) from exc


class SageMakerPredictor:
    backend = "sagemaker"

    def __init__(
        self,
        endpoint_name: str,
        client: SageMakerRuntimeClient | None = None,
        scheme: PriorityScheme = DEFAULT_SCHEME,
    ) -> None:
        self._endpoint_name = endpoint_name
        self._client = client if client is not None else runtime_client()
        self._scheme = scheme

    @classmethod
    def from_settings(cls, settings: Settings) -> SageMakerPredictor:
        assert settings.sagemaker_endpoint_name is not None  # guaranteed by Settings
        client = runtime_client(
            settings.sagemaker_connect_timeout_seconds,
            settings.sagemaker_read_timeout_seconds,
            settings.sagemaker_max_attempts,
        )
        return cls(settings.sagemaker_endpoint_name, client, settings.scheme)

    @property
    def model_id(self) -> str:
        return self._endpoint_name

    def scheme(self) -> PriorityScheme:
        """The endpoint's model cannot say; the configuration (PRIORITY_SCHEME) does."""
        return self._scheme

    def is_ready(self) -> bool:
        # Readiness of the endpoint itself would need DescribeEndpoint, which the
        # function is deliberately not allowed to call; configured means ready.
        return True

    def predict(self, texts: Sequence[str], k: int) -> list[list[LabelScore]]:
        payload = json.dumps({"instances": list(texts), "configuration": {"k": k}})
        try:
            response = self._client.invoke_endpoint(
                EndpointName=self._endpoint_name,
                Body=payload.encode("utf-8"),
                ContentType=JSON,
                Accept=JSON,
            )
            raw = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _domain_error(exc) from exc
        return parse_blazingtext_answer(raw, expected=len(texts), k=k)


def _domain_error(exc: ClientError | BotoCoreError) -> ServiceError:
    """The domain error for an SDK failure of InvokeEndpoint."""
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        return UpstreamTimeoutError()
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        # refused, reset, TLS or proxy failures, a stream broken mid-answer: transient
        return UpstreamUnavailableError()
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _THROTTLED:
            return UpstreamThrottledError()
        if code in _UNAVAILABLE:
            return UpstreamUnavailableError()
        if code == "ModelError":
            return ModelInvocationError()
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            return UpstreamUnavailableError()
        # ValidationError (no such endpoint), AccessDenied and other refusals
        return EndpointRejectedError()
    # NoCredentialsError and other local SDK failures: the function is misconfigured
    return EndpointRejectedError("The model endpoint could not be called.")


def parse_blazingtext_answer(raw: bytes, expected: int, k: int) -> list[list[LabelScore]]:
    """Check and convert the endpoint's answer; anything unexpected is a BadModelResponseError."""
    try:
        answer: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadModelResponseError("The model's answer is not JSON.") from exc
    if not isinstance(answer, list) or len(answer) != expected:
        raise BadModelResponseError(
            f"The model answered {_describe(answer)} for {expected} ticket(s)."
        )
    return [_ranking(item, k) for item in answer]


def _ranking(item: Any, k: int) -> list[LabelScore]:
    if not isinstance(item, dict):
        raise BadModelResponseError("A model answer is not an object with label and prob.")
    labels, probs = item.get("label"), item.get("prob")
    if not isinstance(labels, list) or not isinstance(probs, list) or len(labels) != len(probs):
        raise BadModelResponseError("A model answer lacks matching label and prob lists.")
    if not labels or len(labels) > k:
        raise BadModelResponseError(f"A model answer has {len(labels)} labels; asked for {k}.")
    return checked_ranking(zip(labels, probs, strict=True))


def _describe(answer: Any) -> str:
    if isinstance(answer, list):
        return f"{len(answer)} result(s)"
    return f"a JSON {type(answer).__name__}"
