"""The Lambda entry point: resolver, routes, error handlers and observability.

Routes are short typed functions; the work is in ``classifier`` and the
predictors. ``lambda_handler`` is what template.yaml names as the handler: it
is built from the environment (``Settings()``) when first looked up, which the
Lambda runtime does in the init phase, so a bad configuration fails there.
``create_app`` builds the handler from explicit settings instead (the local
server does); either way there is one per process, as one execution
environment: the resolver, logger and metrics are module-level objects.
"""

import gc
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from jira_priority.classifier import PriorityClassifier
from jira_priority.errors import ConfigurationError, ServiceError
from jira_priority.http_edge import (
    JSON_MEDIA_TYPE,
    error_body,
    error_headers,
    error_proxy_response,
    prepare_event,
)
from jira_priority.observability import (
    count_actions,
    count_error,
    count_predictions,
    logger,
    metrics,
    trace_aws_calls,
)
from jira_priority.predictors import build_predictor
from jira_priority.predictors.base import Predictor
from jira_priority.schemas import (
    BatchPrediction,
    ErrorBody,
    HealthStatus,
    Prediction,
    PredictRequest,
)
from jira_priority.settings import Settings, get_settings
from jira_priority.snapstart import register_hooks

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

#: The settings and the one classifier of this execution environment, set by
#: create_app; tests swap the classifier's predictor.
settings: Settings
classifier: PriorityClassifier

app = APIGatewayRestResolver(enable_validation=True)


def _errors(descriptions: dict[HTTPStatus, str]) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for error statuses (``code``: when): all share the one error body."""
    return {
        int(status): {
            "description": f"{status.phrase}: {description}",
            "content": {JSON_MEDIA_TYPE: {"model": ErrorBody}},
        }
        for status, description in descriptions.items()
    }


@app.post(
    "/predict",
    summary="Predict the priority of one ticket or a batch",
    description="JSON as below, or text/plain with the ticket's text as the whole body.",
    responses={
        200: {"description": "One prediction, or {'predictions': [...]} for a batch"},
        **_errors(
            {
                HTTPStatus.BAD_REQUEST: "invalid_request: not JSON, or a wrong, missing or "
                "unknown field (the message names it), more than MAX_BATCH_SIZE tickets, "
                "a ticket without a word to classify",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "payload_too_large: a body over "
                "MAX_BODY_BYTES",
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type: neither "
                "application/json nor text/plain",
                HTTPStatus.TOO_MANY_REQUESTS: "upstream_throttled: SageMaker throttled the "
                "call after retries",
                HTTPStatus.BAD_GATEWAY: "model_error, bad_model_response or "
                "endpoint_rejected: the model failed, answered something unreadable, or "
                "the endpoint refused the call",
                HTTPStatus.SERVICE_UNAVAILABLE: "upstream_unavailable: the model cannot answer now",
                HTTPStatus.GATEWAY_TIMEOUT: "upstream_timeout: the endpoint did not answer in time",
            }
        ),
    },
)
def predict(request: Annotated[PredictRequest, Body()]) -> Prediction | BatchPrediction:
    started = time.perf_counter()
    tickets = request.all_tickets()
    predictions = classifier.classify(tickets, request.k, batch=request.is_batch)
    count_predictions(prediction.priority for prediction in predictions)
    count_actions(prediction.action for prediction in predictions)
    logger.info(
        "classified",
        extra={
            "tickets": len(tickets),
            "k": request.k,
            "priorities": [p.priority for p in predictions],
            "backend": classifier.predictor.backend,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    if request.is_batch:
        return BatchPrediction(predictions=predictions)
    return predictions[0]


@app.get(
    "/health",
    summary="Which backend and model answer, and whether they are ready",
    responses={
        200: {"description": "Ready"},
        503: {
            "description": "The model cannot answer now (same body, ready false)",
            "content": {JSON_MEDIA_TYPE: {"model": HealthStatus}},
        },
    },
)
def health() -> Response[HealthStatus]:
    predictor = classifier.predictor
    ready = predictor.is_ready()
    status = HealthStatus(
        status="ok" if ready else "unavailable",
        backend=predictor.backend,
        model=predictor.model_id,
        ready=ready,
    )
    return Response(
        status_code=HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE,
        content_type=JSON_MEDIA_TYPE,
        body=status,
    )


def _error(status: HTTPStatus, code: str, message: str, headers: dict[str, str]) -> Response[str]:
    count_error(code)
    return Response(status_code=status, body=error_body(code, message), headers=headers)


@app.exception_handler(ServiceError)
def handle_service_error(error: ServiceError) -> Response[str]:
    log = logger.error if error.status >= HTTPStatus.INTERNAL_SERVER_ERROR else logger.info
    log(
        "request failed",
        extra={"code": error.code, "status": int(error.status)},
        exc_info=error.__cause__ is not None,
    )
    return _error(error.status, error.code, error.public_message, error_headers(error))


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response[str]:
    problems = []
    for detail in error.errors():
        location = ".".join(str(part) for part in detail.get("loc", ()) if part != "body")
        message = str(detail.get("msg", "invalid")).removeprefix("Value error, ")
        kind = detail.get("type")
        if kind == "json_invalid":  # its location is a character offset, no help to a client
            location, message = "", "the body is not valid JSON"
        elif not location and kind == "missing":
            message = "the body is empty: send a JSON ticket or plain text"
        elif not location and kind in {"model_attributes_type", "dict_type", "model_type"}:
            message = "the body must be a JSON object"
        problems.append(f"{location}: {message}" if location else message)
    logger.info("invalid request", extra={"problems": problems})
    return _error(
        HTTPStatus.BAD_REQUEST,
        "invalid_request",
        "; ".join(problems) or "The request is not valid.",
        {"Content-Type": JSON_MEDIA_TYPE},
    )


@app.not_found
def handle_not_found(_: Exception) -> Response[str]:
    return _error(
        HTTPStatus.NOT_FOUND,
        "not_found",
        f"No route for {app.current_event.http_method} {app.current_event.path}.",
        {"Content-Type": JSON_MEDIA_TYPE},
    )


@app.exception_handler(Exception)
def handle_unexpected_error(_: Exception) -> Response[str]:
    logger.exception("unexpected error")
    return _error(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "internal_error",
        "The service failed to handle the request.",
        {"Content-Type": JSON_MEDIA_TYPE},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        event = prepare_event(event, settings.max_body_bytes)
    except ServiceError as error:
        logger.info("request refused before routing", extra={"code": error.code})
        count_error(error.code)
        return error_proxy_response(error)
    return app.resolve(event, context)


def create_app(app_settings: Settings, predictor: Predictor | None = None) -> LambdaHandler:
    """The handler of this execution environment for ``app_settings``.

    ``predictor`` replaces the one the settings describe (the local server
    passes the model it has already loaded). A second call replaces the first.
    """
    global settings, classifier
    if app_settings.trace_aws_calls:
        trace_aws_calls()  # before the client is made
    chosen = predictor if predictor is not None else build_predictor(app_settings)
    settings = app_settings
    classifier = PriorityClassifier(chosen, app_settings.max_batch_size)
    register_hooks(chosen)  # SnapStart: model into the snapshot, fresh connections after
    # Everything made so far (modules, pydantic schemas, the client) lives as long as
    # the process: out of the cyclic collector's sight, requests do not pay to scan it.
    gc.freeze()
    handler: LambdaHandler = _handle  # powertools' decorators carry no types
    return handler


def __getattr__(name: str) -> Any:
    """``lambda_handler`` (and ``settings``, ``classifier``) from the environment, on first use."""
    if name not in {"lambda_handler", "settings", "classifier"}:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if "classifier" not in globals():
        try:
            create_app(get_settings())
        except ConfigurationError as exc:  # fail the init phase, loudly and legibly
            logger.critical(exc.public_message)
            raise
    globals()["lambda_handler"] = _handle
    return globals()[name]
