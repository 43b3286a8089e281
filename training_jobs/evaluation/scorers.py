"""What ``evaluate`` can score with: a local model, a SageMaker endpoint, or the HTTP API.

Each is a ``TicketRanker``: it takes raw tickets (title, description) and
answers a ranking of priorities per ticket, most probable first. Model
backends (``jira_priority.predictors``) get the text through the one
normaliser, exactly as the Lambda sends it; the HTTP API gets the raw ticket
and normalises it itself, so evaluating through it tests that path too.

Failures come out as two kinds: ``RetryableError`` (throttled, unavailable,
timed out: worth another attempt, maybe after ``retry_after`` seconds) and
``PredictionError`` (anything a retry will not fix).
"""

from __future__ import annotations

import functools
import json
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from email.message import Message
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError

from jira_priority import safe_json
from jira_priority.errors import (
    ServiceError,
    UpstreamThrottledError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from jira_priority.labels import DEFAULT_SCHEME, Level, PriorityScheme, UnknownLabelError
from jira_priority.postprocessing import Action, PostProcessingError, post_process
from jira_priority.predictors.base import Predictor, scheme_of
from jira_priority.settings import Settings
from jira_priority.text import normalise_ticket
from training_jobs.console import printable, say
from training_jobs.errors import CommandError
from training_jobs.safe_http import opener as safe_opener
from training_jobs.safe_http import require_secure_transport

#: The HTTP API's batch limit: the deployed function's MAX_BATCH_SIZE default.
HTTP_MAX_BATCH: int = Settings.model_fields["max_batch_size"].default

#: (title, description) of one ticket, as read from the file.
TicketText = tuple[str, str]
Ranking = list[Level]


class PredictionError(CommandError):
    """The predictor failed in a way another attempt will not fix."""


class RetryableError(Exception):
    """The predictor is throttled, unavailable or slow; try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TicketRanker(Protocol):
    #: Describes the predictor in reports: kind and model/endpoint/URL.
    description: dict[str, str]
    #: Most tickets one call may carry, or None for no limit of its own.
    max_batch: int | None
    #: The priority scheme its answers are in.
    scheme: PriorityScheme
    #: Each ranked ticket's urgency, in order (None where the answer has none).
    urgencies: list[float | None]
    #: Each ranked ticket's action (set, keep, triage), in order (None where it has none).
    actions: list[Action | None]

    def rank(self, tickets: Sequence[TicketText], k: int) -> list[Ranking]: ...


# --- model backends (local file, SageMaker endpoint) ------------------------------

_RETRYABLE_SERVICE_ERRORS = (UpstreamThrottledError, UpstreamUnavailableError, UpstreamTimeoutError)


class PredictorRanker:
    """Any ``jira_priority`` predictor, fed and post-processed like the Lambda does it."""

    max_batch: int | None = None
    #: The answers' urgency and action, in the order ranked (None where the model has no
    #: post-processing).
    urgencies: list[float | None]
    actions: list[Action | None]

    def __init__(
        self, predictor: Predictor, kind: str, scheme: PriorityScheme | None = None
    ) -> None:
        """``scheme`` None: the predictor's own (a local model's scheme.json), else apache."""
        self._predictor = predictor
        self.description = {"kind": kind, "backend": predictor.backend}
        self.scheme = scheme if scheme is not None else scheme_of(predictor)
        self.urgencies = []
        self.actions = []

    def rank(self, tickets: Sequence[TicketText], k: int) -> list[Ranking]:
        texts = [normalise_ticket(title, description) for title, description in tickets]
        try:
            postprocessing = self._predictor.postprocessing()
            # Every label: the post-processing needs the whole distribution.
            answers = self._predictor.predict(texts, len(self.scheme))
        except _RETRYABLE_SERVICE_ERRORS as exc:
            raise RetryableError(exc.public_message, retry_after=exc.retry_after) from exc
        except ServiceError as exc:
            raise PredictionError(_with_cause(exc.public_message, exc)) from exc
        if len(answers) != len(texts):
            raise PredictionError(f"the predictor answered {len(answers)} for {len(texts)} tickets")
        self.description["model"] = self._predictor.model_id
        default = self.scheme.default_level
        try:
            processed = [
                post_process(answer, k, postprocessing, default.label if default else None)
                for answer in answers
            ]
            rankings = [
                [self.scheme.from_label(item.label) for item in answer.ranking]
                for answer in processed
            ]
        except (UnknownLabelError, PostProcessingError) as exc:
            raise PredictionError(str(exc)) from exc
        self.urgencies.extend(answer.urgency for answer in processed)
        self.actions.extend(answer.action for answer in processed)
        return rankings


class ClassifierRanker:
    """What ``POST /predict`` answers, without HTTP: the Lambda's classifier over a predictor.

    Its scheme is the predictor's (a local model's scheme.json), as the service's is; each
    answer's action and urgency are recorded exactly as the service gives them.
    """

    max_batch: int | None = None

    def __init__(self, predictor: Predictor, kind: str) -> None:
        from jira_priority.classifier import PriorityClassifier

        self._classifier = PriorityClassifier(predictor, max_batch_size=sys.maxsize)
        self.description = {"kind": kind, "backend": predictor.backend}
        self.scheme = scheme_of(predictor)
        self.urgencies: list[float | None] = []
        self.actions: list[Action | None] = []

    def rank(self, tickets: Sequence[TicketText], k: int) -> list[Ranking]:
        from jira_priority.schemas import Ticket

        try:
            answers = self._classifier.classify(
                [Ticket(title=title, description=description or None)
                 for title, description in tickets],
                k,
            )  # fmt: skip
            rankings = [[self.scheme.from_name(r.priority) for r in a.ranking] for a in answers]
        except _RETRYABLE_SERVICE_ERRORS as exc:
            raise RetryableError(exc.public_message, retry_after=exc.retry_after) from exc
        except ServiceError as exc:
            raise PredictionError(_with_cause(exc.public_message, exc)) from exc
        except UnknownLabelError as exc:
            raise PredictionError(str(exc)) from exc
        self.description["model"] = self._classifier.predictor.model_id
        self.urgencies.extend(answer.urgency for answer in answers)
        self.actions.extend(answer.action for answer in answers)
        return rankings


def _with_cause(message: str, exc: BaseException) -> str:
    """A domain error's public message plus its cause: an operator needs both."""
    cause = exc.__cause__
    return f"{message} ({type(cause).__name__}: {cause})" if cause else message


def local_model_ranker(model_uri: str, scheme: PriorityScheme | None = None) -> PredictorRanker:
    """A model.bin/.ftz/model.tar.gz path or s3:// URI, loaded in-process now (or failing).

    Its scheme is ``scheme``, else the scheme.json that travels with the model, else apache.
    """
    from training_jobs.modelling.loading import load_model

    ranker = PredictorRanker(load_model(model_uri), "local-model", scheme)
    ranker.description["model_uri"] = model_uri
    return ranker


def local_service_ranker(model_uri: str) -> ClassifierRanker:
    """A model.bin/.ftz/model.tar.gz path or s3:// URI, loaded now, answering as the service
    does (its own scheme and post-processing; actions and urgencies recorded)."""
    from training_jobs.modelling.loading import load_model

    ranker = ClassifierRanker(load_model(model_uri), "local-model")
    ranker.description["model_uri"] = model_uri
    return ranker


def sagemaker_ranker(
    endpoint_name: str,
    region: str | None = None,
    client: Any = None,
    scheme: PriorityScheme = DEFAULT_SCHEME,
) -> PredictorRanker:
    """A SageMaker endpoint in ``region``; ``client`` is a sagemaker-runtime client (made
    here if None).

    The client retries once at most: this module's retry loop, with its
    progress messages and Retry-After handling, does the rest.
    """
    from jira_priority.errors import ConfigurationError
    from jira_priority.predictors.sagemaker import SageMakerPredictor, runtime_client

    if client is None:
        if not region:
            raise PredictionError(
                "--endpoint needs a region: pass --region or set AWS_REGION", exit_code=2
            )
        try:
            client = runtime_client(
                connect_timeout=5.0, read_timeout=60.0, max_attempts=1, region=region
            )
        except ConfigurationError as exc:
            raise PredictionError(
                f"cannot make a sagemaker-runtime client: {exc.public_message}"
            ) from exc
        except BotoCoreError as exc:  # unknown profile, ...
            raise PredictionError(f"cannot make a sagemaker-runtime client: {exc}") from exc
    predictor = SageMakerPredictor(endpoint_name, client, scheme)
    ranker = PredictorRanker(predictor, "sagemaker-endpoint")
    ranker.description["endpoint_name"] = endpoint_name
    return ranker


# --- the deployed HTTP API ---------------------------------------------------------

_RETRY_STATUSES = {
    HTTPStatus.TOO_MANY_REQUESTS,
    HTTPStatus.SERVICE_UNAVAILABLE,
    HTTPStatus.GATEWAY_TIMEOUT,
}

Opener = Callable[[urllib.request.Request, float], Any]
#: The most of an answer read (25 predictions are a few kB).
MAX_ANSWER_BYTES = 16 * 1024 * 1024


@functools.cache
def _safe_opener() -> urllib.request.OpenerDirector:
    return safe_opener()


def _urlopen(request: urllib.request.Request, timeout: float) -> Any:
    """urllib's opener, refusing a redirect to another origin (the x-api-key would follow)."""
    # The scheme is checked to be http(s) when the ranker is made.
    return _safe_opener().open(request, timeout=timeout)


def _retry_after(headers: Message | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is treated as absent)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


class HttpApiRanker:
    """``POST {url}/predict`` (with ``x-api-key`` when given), 25 tickets per request at most.

    Only 429, 503 and 504 (and network failures) are retried: the API's 502
    means the model failed or the endpoint refused, which another try won't fix.
    """

    max_batch: int | None = HTTP_MAX_BATCH

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        opener: Opener = _urlopen,
        scheme: PriorityScheme = DEFAULT_SCHEME,
        allow_insecure_http: bool = False,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PredictionError(
                f"--api-url: not an http(s) URL: {printable(repr(url), 120)}", exit_code=2
            )
        if api_key:  # plain http to another machine would show the key to the network
            require_secure_transport(url, "--api-url", allow_insecure=allow_insecure_http, warn=say)
        # Either the API's base URL or the stack's PredictApiUrl output (…/predict).
        self.url = url.rstrip("/").removesuffix("/predict")
        self.api_key = api_key
        self.timeout = timeout
        self.opener = opener
        self.scheme = scheme
        self.description = {"kind": "http-api", "url": self.url}
        self.urgencies: list[float | None] = []
        self.actions: list[Action | None] = []

    def rank(self, tickets: Sequence[TicketText], k: int) -> list[Ranking]:
        if len(tickets) > HTTP_MAX_BATCH:
            raise ValueError(f"the API takes at most {HTTP_MAX_BATCH} tickets per request")
        body = {
            "tickets": [
                {"title": title, "description": description} for title, description in tickets
            ],
            "k": k,
        }
        answer = self._post(json.dumps(body).encode("utf-8"))
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(predictions, list) or len(predictions) != len(tickets):
            raise PredictionError(
                f"the API answered no list of {len(tickets)} predictions: {printable(answer)}"
            )
        models = {str(p.get("model")) for p in predictions if isinstance(p, dict) and "model" in p}
        if models:
            self.description["model"] = ", ".join(sorted(models))
        rankings = [_api_ranking(prediction, self.scheme) for prediction in predictions]
        self.urgencies.extend(_api_urgency(prediction) for prediction in predictions)
        self.actions.extend(_api_action(prediction) for prediction in predictions)
        return rankings

    def _post(self, data: bytes) -> Any:
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            f"{self.url}/predict",
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                # A server without keys (`make serve`, `sam local start-api`) needs none.
                **({"x-api-key": self.api_key} if self.api_key else {}),
            },
        )
        try:
            with self.opener(request, self.timeout) as response:
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code in _RETRY_STATUSES:
                raise RetryableError(
                    f"HTTP {exc.code}{detail}", retry_after=_retry_after(exc.headers)
                ) from exc
            hint = ""
            if exc.code == HTTPStatus.FORBIDDEN and not self.api_key:
                hint = "; the API wants a key: pass --api-key or set JIRA_PRIORITY_API_KEY"
            raise PredictionError(f"HTTP {exc.code}{detail}{hint}") from exc
        except TimeoutError as exc:
            raise RetryableError(f"no answer within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise RetryableError(f"no answer within {self.timeout:g} s") from exc
            raise RetryableError(f"cannot reach {self.url}: {exc.reason}") from exc
        except (ConnectionError, OSError) as exc:
            raise RetryableError(f"connection to {self.url} failed: {exc}") from exc
        if len(raw) > MAX_ANSWER_BYTES:
            raise PredictionError(
                f"the API answered more than {MAX_ANSWER_BYTES // (1 << 20)} MiB for one batch"
            )
        try:
            return safe_json.loads(raw)
        except safe_json.JSONDepthError as exc:
            raise PredictionError(f"the API answered {exc}") from exc
        except ValueError as exc:  # not JSON, not UTF-8, a 5,000-digit number
            raise PredictionError("the API answered something that is not JSON") from exc


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """`` (code: message)`` from the API's error body, if it has one (made printable, short)."""
    try:
        body = safe_json.loads(exc.read(MAX_ANSWER_BYTES))
        error = body["error"]
        return f" ({printable(error['code'], 60)}: {printable(error['message'])})"
    except (ValueError, KeyError, TypeError, OSError):
        return ""


def _api_urgency(prediction: Any) -> float | None:
    """The answer's urgency, if it is a probability (older APIs and models answer none)."""
    value = prediction.get("urgency") if isinstance(prediction, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None


def _api_action(prediction: Any) -> Action | None:
    """The answer's action, if it is one of the three (older APIs and models answer none)."""
    value = prediction.get("action") if isinstance(prediction, dict) else None
    return _ACTIONS.get(value) if isinstance(value, str) else None


_ACTIONS: dict[str, Action] = {"set": "set", "keep": "keep", "triage": "triage"}


def _api_ranking(prediction: Any, scheme: PriorityScheme) -> Ranking:
    if not isinstance(prediction, dict):
        raise PredictionError("a prediction of the API is not an object")
    try:
        ranking = prediction.get("ranking")
        if isinstance(ranking, list) and ranking:
            return [scheme.from_name(str(entry["priority"])) for entry in ranking]
        return [scheme.from_name(str(prediction["priority"]))]
    except (KeyError, TypeError, UnknownLabelError) as exc:
        raise PredictionError(
            f"unreadable prediction from the API: {printable(prediction)}"
        ) from exc
