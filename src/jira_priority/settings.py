"""The function's configuration: one typed object read from the environment.

template.yaml sets these variables; this is the only module that reads
``os.environ``. Invalid or missing values stop the function at start-up with a
message naming the variable, instead of failing on the first request.

A plain pydantic model fed the environment (names case-insensitive, as field
names), not pydantic-settings: that library's sources and their imports cost
~40 ms of every cold start for what ``from_environ`` does in three lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jira_priority.errors import ConfigurationError
from jira_priority.labels import PriorityScheme, SchemeError, parse_scheme

#: API Gateway REST gives up on an integration after 29 s.
API_GATEWAY_TIMEOUT_SECONDS = 29.0
#: The function's Timeout in template.yaml (a test checks they agree): under 29 s,
#: so the client always gets our JSON error and never API Gateway's bare 502/504.
FUNCTION_TIMEOUT_SECONDS = 25.0
#: What the function needs besides the SageMaker call: parsing, logging, the answer.
OWN_WORK_SECONDS = 2.0

Backend = Literal["sagemaker", "embedded"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
#: The variable powertools' Logger reads; ``log_level`` below validates it.
LOG_LEVEL_VARIABLE = "POWERTOOLS_LOG_LEVEL"
DEFAULT_LOG_LEVEL: LogLevel = "INFO"


def _level_name(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    #: Which predictor answers: a SageMaker endpoint or a model loaded in-process.
    predictor_backend: Backend = "embedded"
    #: Name of the SageMaker BlazingText endpoint (backend "sagemaker").
    sagemaker_endpoint_name: str | None = Field(
        default=None, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
    )
    #: model.bin / model.ftz / model.tar.gz as a local path or s3:// URI (backend "embedded").
    #: With backend "sagemaker", optional: the model.tar.gz the endpoint serves, whose
    #: postprocessing.json the function applies to the endpoint's answers.
    #: template.yaml gives it an empty value when there is none: empty means unset.
    model_uri: str | None = Field(default=None, min_length=1)

    #: The priority names answers use: a built-in scheme (apache, jira-cloud) or the
    #: site's names lowest first ("Low,Normal,High,Urgent"). The embedded backend
    #: prefers the scheme.json beside its model; a SageMaker endpoint cannot tell.
    priority_scheme: str = Field(default="apache", min_length=1)

    #: Largest accepted request body. Lambda's own limit is 6 MB; one Jira ticket
    #: is at most ~33 kB of text (a 32,767-character description plus a summary).
    max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=5_000_000)
    #: Most tickets in one batch request; 25 full-size Jira tickets fit in 1 MiB.
    max_batch_size: int = Field(default=25, ge=1, le=100)

    #: Per-attempt limits for InvokeEndpoint. Worst case, all attempts time out:
    #: attempts x (connect + read) + backoff must stay under API Gateway's 29 s.
    sagemaker_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=10)
    sagemaker_read_timeout_seconds: float = Field(default=8.0, gt=0, le=25)
    sagemaker_max_attempts: int = Field(default=2, ge=1, le=5)

    #: X-Ray SDK subsegments for each AWS call (InvokeEndpoint, the model's S3 download).
    #: Lambda's active tracing traces every invocation without them; the SDK adds
    #: ~25 ms to a cold start, so it is loaded only when asked for.
    trace_aws_calls: bool = False

    #: Read by powertools' Logger itself; validated here so a typo stops the start-up.
    log_level: LogLevel = Field(
        default=DEFAULT_LOG_LEVEL, validation_alias=LOG_LEVEL_VARIABLE.lower()
    )

    @field_validator("model_uri", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # CloudFormation cannot omit one variable by condition in a way `sam local`
        # understands (it passes "" for an unresolved `!If ... AWS::NoValue`), so
        # the template sets "" where a backend has no use for the variable.
        return None if value == "" else value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Self:
        """The settings ``environ`` (by default the process environment) gives.

        ``overrides`` (field names) win over the environment, as arguments did
        with pydantic-settings.
        """
        source = os.environ if environ is None else environ
        values: dict[str, object] = {name.lower(): value for name, value in source.items()}
        return cls.model_validate(values | overrides)

    @field_validator("priority_scheme")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        try:
            parse_scheme(value, files=False)  # the function reads no scheme file
        except SchemeError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def scheme(self) -> PriorityScheme:
        """PRIORITY_SCHEME as a scheme (checked when the settings were read)."""
        return parse_scheme(self.priority_scheme, files=False)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return _level_name(value)

    @property
    def sagemaker_worst_case_seconds(self) -> float:
        """Longest an InvokeEndpoint call can take, retries and backoff included."""
        per_attempt = self.sagemaker_connect_timeout_seconds + self.sagemaker_read_timeout_seconds
        # botocore's standard retry mode sleeps at most 2**attempt (capped at 20 s) between tries.
        backoff = sum(min(2.0**attempt, 20.0) for attempt in range(self.sagemaker_max_attempts - 1))
        return self.sagemaker_max_attempts * per_attempt + backoff

    @model_validator(mode="after")
    def _backend_is_complete(self) -> Self:
        if self.predictor_backend == "sagemaker" and not self.sagemaker_endpoint_name:
            raise ValueError(
                "PREDICTOR_BACKEND=sagemaker needs SAGEMAKER_ENDPOINT_NAME (the endpoint to invoke)"
            )
        if self.predictor_backend == "embedded" and not self.model_uri:
            raise ValueError(
                "PREDICTOR_BACKEND=embedded needs MODEL_URI (a model.bin path or an s3:// URI)"
            )
        budget = FUNCTION_TIMEOUT_SECONDS - OWN_WORK_SECONDS
        if self.sagemaker_worst_case_seconds > budget:
            raise ValueError(
                "SAGEMAKER_MAX_ATTEMPTS x (SAGEMAKER_CONNECT_TIMEOUT_SECONDS + "
                "SAGEMAKER_READ_TIMEOUT_SECONDS) plus backoff is "
                f"{self.sagemaker_worst_case_seconds:.0f} s, over the {budget:.0f} s the "
                f"function's {FUNCTION_TIMEOUT_SECONDS:.0f} s timeout leaves for it"
            )
        return self


def configuration_error(error: ValidationError) -> ConfigurationError:
    """The one-line error naming each invalid variable and why."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in found['loc']).upper() or 'settings'}: {found['msg']}"
        for found in error.errors()
    )
    return ConfigurationError(f"invalid configuration: {problems}")


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment, or raise ConfigurationError saying what is wrong."""
    try:
        return Settings.from_environ(None, **overrides)
    except ValidationError as exc:
        raise configuration_error(exc) from exc


def logger_level(environ: Mapping[str, str] | None = None) -> LogLevel:
    """The level powertools' Logger is built with, at import, before the settings are read.

    POWERTOOLS_LOG_LEVEL when it is a valid level; otherwise the default, so that the
    import succeeds and reading the settings (Lambda's init, ``serve``) then stops with
    the one-line error naming the variable, instead of logging's traceback.
    """
    value = _level_name((os.environ if environ is None else environ).get(LOG_LEVEL_VARIABLE))
    levels: tuple[LogLevel, ...] = get_args(LogLevel)
    return next((level for level in levels if level == value), DEFAULT_LOG_LEVEL)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this execution environment, read once."""
    return load_settings()
