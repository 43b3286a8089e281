"""Domain errors and the HTTP status each one maps to.

Every error a client can see is a subclass of ``ServiceError``; the class
carries its status code, a stable machine-readable code and a public message.
The API layer turns any of them into ``{"error": {"code", "message"}}`` in a
single exception handler, so there is one mapping and it lives here. Internal
details travel only in ``__cause__`` and in logs, never in ``public_message``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import ClassVar


class ServiceError(Exception):
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "The service failed to handle the request."
    #: Seconds a client should wait before retrying (sent as Retry-After).
    retry_after: int | None = None

    def __init__(self, public_message: str | None = None, retry_after: int | None = None) -> None:
        self.public_message = public_message or self.default_message
        if retry_after is not None:
            self.retry_after = retry_after  # this instance knows better than its class
        super().__init__(self.public_message)


class ConfigurationError(ServiceError):
    """The function's settings are missing or invalid (raised at start-up)."""

    code = "misconfigured"
    default_message = "The service is not configured correctly."


# --- the client's fault ------------------------------------------------------


class InvalidRequestError(ServiceError):
    status = HTTPStatus.BAD_REQUEST
    code = "invalid_request"
    default_message = "The request is not valid."


class PayloadTooLargeError(ServiceError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaTypeError(ServiceError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"
    default_message = "Send application/json or text/plain."


# --- the model's or the endpoint's fault -------------------------------------


class UpstreamThrottledError(ServiceError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "upstream_throttled"
    default_message = "The model endpoint is throttling requests; retry later."
    retry_after = 2


class UpstreamUnavailableError(ServiceError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "upstream_unavailable"
    default_message = "The model is temporarily unavailable; retry later."
    retry_after = 5


class ModelInvocationError(ServiceError):
    """The endpoint's container failed on our request (SageMaker ModelError)."""

    status = HTTPStatus.BAD_GATEWAY
    code = "model_error"
    default_message = "The model failed to produce a prediction."


class BadModelResponseError(ServiceError):
    """The model answered, but not with something we can read."""

    status = HTTPStatus.BAD_GATEWAY
    code = "bad_model_response"
    default_message = "The model returned an answer that could not be read."


class EndpointRejectedError(ServiceError):
    """SageMaker refused the call (ValidationError, AccessDenied): a deployment mistake."""

    status = HTTPStatus.BAD_GATEWAY
    code = "endpoint_rejected"
    default_message = "The model endpoint rejected the request."


class UpstreamTimeoutError(ServiceError):
    status = HTTPStatus.GATEWAY_TIMEOUT
    code = "upstream_timeout"
    default_message = "The model did not answer in time."
