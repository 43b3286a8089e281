"""The SageMaker backend: InvokeEndpoint on a BlazingText endpoint.

The request and answer are BlazingText's JSON protocol
(``jira_priority.blazingtext``). Every SDK failure is
wrapped here into a domain error (``jira_priority.errors``), so nothing above
this module knows botocore.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

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

from jira_priority.aws_clients import create_client
from jira_priority.blazingtext import JSON, decode_answer, encode_request
from jira_priority.errors import (
    ConfigurationError,
    EndpointRejectedError,
    ModelInvocationError,
    ServiceError,
    UpstreamThrottledError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from jira_priority.labels import DEFAULT_SCHEME, PriorityScheme
from jira_priority.postprocessing import PostProcessing, PostProcessingError, read_postprocessing
from jira_priority.predictors.base import LabelScore
from jira_priority.settings import Settings
from jira_priority.snapstart import close_connections

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

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
#: After a failed read of the model's sidecars, requests fail fast for this long.
RETRY_SIDECARS_AFTER_SECONDS = 30.0


@lru_cache(maxsize=4)
def runtime_client(
    connect_timeout: float = _FIELDS["sagemaker_connect_timeout_seconds"].default,
    read_timeout: float = _FIELDS["sagemaker_read_timeout_seconds"].default,
    max_attempts: int = _FIELDS["sagemaker_max_attempts"].default,
    region: str | None = None,
) -> SageMakerRuntimeClient:
    """One sagemaker-runtime client per execution environment and timeout setting.

    ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` (read by botocore itself) points it
    at a stand-in in tests. ``region`` None is botocore's own lookup
    (``AWS_DEFAULT_REGION``, the profile), which the Lambda runtime always sets.
    """
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        tcp_keepalive=True,
    )
    try:
        client: SageMakerRuntimeClient = create_client("sagemaker-runtime", config, region)
        return client
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
        model_uri: str | None = None,
        s3_client: S3Client | None = None,
    ) -> None:
        """``scheme``: PRIORITY_SCHEME (the endpoint cannot say); ``model_uri``: the
        model.tar.gz the endpoint serves, read for its postprocessing.json."""
        self._endpoint_name = endpoint_name
        self._client = client if client is not None else runtime_client()
        self._scheme = scheme
        if model_uri is not None and model_uri.startswith("s3://"):
            from jira_priority.predictors.embedded import _split_s3_uri

            try:
                _split_s3_uri(model_uri)
            except ValueError as exc:  # fail at start-up on a malformed URI
                raise ConfigurationError(f"MODEL_URI: {exc}") from exc
        self._model_uri = model_uri
        self._s3 = s3_client
        self._lock = threading.Lock()
        self._postprocessing: PostProcessing | None = None
        self._sidecars_read = model_uri is None
        self._failed_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SageMakerPredictor:
        assert settings.sagemaker_endpoint_name is not None  # guaranteed by Settings
        client = runtime_client(
            settings.sagemaker_connect_timeout_seconds,
            settings.sagemaker_read_timeout_seconds,
            settings.sagemaker_max_attempts,
        )
        return cls(
            settings.sagemaker_endpoint_name,
            client,
            settings.scheme,
            model_uri=settings.model_uri,
        )

    # --- SnapStart (jira_priority.snapstart) ----------------------------------

    def before_snapshot(self) -> None:
        """Nothing to prepare: init opens no connection and the endpoint is not called."""

    def after_restore(self) -> None:
        """Drop pooled connections: their sockets belong to the snapshotted machine."""
        close_connections(self._client)

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

    def postprocessing(self) -> PostProcessing | None:
        """The postprocessing.json of MODEL_URI, read once; None without MODEL_URI or the file."""
        if self._sidecars_read:
            return self._postprocessing
        with self._lock:
            if self._sidecars_read:
                return self._postprocessing
            if self._failed_at is not None:
                waited = time.monotonic() - self._failed_at
                if waited < RETRY_SIDECARS_AFTER_SECONDS:
                    raise UpstreamUnavailableError(
                        retry_after=math.ceil(RETRY_SIDECARS_AFTER_SECONDS - waited)
                    )
            assert self._model_uri is not None  # _sidecars_read is True without one
            from jira_priority.model_files import ModelFileError  # tarfile: only with MODEL_URI

            try:
                postprocessing = read_postprocessing(self._local_model_source())
                if postprocessing is not None:
                    _check_labels_named(postprocessing, self._scheme)
                self._postprocessing = postprocessing
            except (ModelFileError, ValueError, OSError, ClientError, BotoCoreError) as exc:
                self._failed_at = time.monotonic()
                raise UpstreamUnavailableError(
                    retry_after=int(RETRY_SIDECARS_AFTER_SECONDS)
                ) from exc
            self._sidecars_read = True
            return self._postprocessing

    def _local_model_source(self) -> Path:
        """MODEL_URI on local disk: the path, or the S3 object downloaded into the private cache."""
        assert self._model_uri is not None
        if not self._model_uri.startswith("s3://"):
            return Path(self._model_uri).expanduser()
        # The embedded backend's S3 client and private cache directory: one of each per process.
        from jira_priority.predictors.embedded import _split_s3_uri, model_cache_dir, s3_client

        bucket, key = _split_s3_uri(self._model_uri)
        name = hashlib.sha256(self._model_uri.encode()).hexdigest()[:16]
        download = model_cache_dir() / f"sidecars-{name}"
        client = self._s3 if self._s3 is not None else s3_client()
        client.download_file(bucket, key, str(download))
        return download

    def predict(self, texts: Sequence[str], k: int) -> list[list[LabelScore]]:
        try:
            response = self._client.invoke_endpoint(
                EndpointName=self._endpoint_name,
                Body=encode_request(texts, k),
                ContentType=JSON,
                Accept=JSON,
            )
            raw = response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _domain_error(exc) from exc
        return decode_answer(raw, expected=len(texts), k=k)


def _check_labels_named(postprocessing: PostProcessing, scheme: PriorityScheme) -> None:
    """PostProcessingError for labels the scheme has no name for: the endpoint's model
    cannot be asked for its labels, but it can only answer the scheme's."""
    outside = sorted(set(postprocessing.labels) - set(scheme.labels))
    if outside:
        raise PostProcessingError(
            f"postprocessing.json has labels outside the {scheme.name} scheme: "
            + ", ".join(outside)
        )


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
