"""The function behind the local server: one Lambda execution environment per process.

The handler is built with ``jira_priority.app.create_app`` for the embedded
backend and the model given, and runs one request at a time on one thread, as
in one execution environment (the powertools resolver and metrics keep
per-request state on module-level objects). An invocation that does not finish
within the function's timeout is answered as API Gateway answers a function
that timed out; like a real environment, this one stays busy until the call
returns.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from training_jobs.local_api.gateway import LocalLambdaContext

if TYPE_CHECKING:
    from jira_priority.app import LambdaHandler
    from jira_priority.predictors.base import Predictor

#: The function's environment in template.yaml that powertools reads (Metrics refuses
#: to flush without a namespace); a value the caller's environment already has wins.
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "jira-priority",
    "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
    "POWERTOOLS_TRACE_DISABLED": "1",
}


class FunctionLoadError(Exception):
    """The function cannot start: the configuration or the model is not usable (one line)."""


class FunctionTimeoutError(Exception):
    """The function did not answer within its timeout."""


class ExecutionEnvironment:
    """One handler, one request at a time, each within the function's timeout."""

    def __init__(
        self,
        handler: LambdaHandler,
        predictor: Predictor,
        timeout: float,
        max_body_bytes: int | None = None,
    ) -> None:
        self.handler = handler
        self.predictor = predictor
        self.timeout = timeout
        #: The function's own body limit (its settings' MAX_BODY_BYTES), if it has one.
        self.max_body_bytes = max_body_bytes
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="function")

    async def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's result; FunctionTimeoutError after ``timeout`` s, waiting included."""
        call = asyncio.get_running_loop().run_in_executor(self._executor, self._call, event)
        try:
            return await asyncio.wait_for(call, self.timeout)
        except TimeoutError as exc:
            raise FunctionTimeoutError from exc

    def _call(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler(event, LocalLambdaContext())  # type: ignore[arg-type]

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def load_function(model_uri: str, timeout: float) -> ExecutionEnvironment:
    """The handler for the embedded backend with ``model_uri``, its model loaded and tried once."""
    for name, value in POWERTOOLS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    from jira_priority.app import create_app
    from jira_priority.errors import ServiceError
    from jira_priority.predictors.embedded import EmbeddedPredictor, ModelLoadError
    from jira_priority.settings import load_settings

    try:
        settings = load_settings(predictor_backend="embedded", model_uri=model_uri)
        predictor = EmbeddedPredictor.from_settings(settings)
        predictor.load()  # checks and verifies the model: a damaged one is one line
    except ModelLoadError as exc:
        raise FunctionLoadError(str(exc)) from exc
    except ServiceError as exc:
        raise FunctionLoadError(exc.public_message) from exc
    return ExecutionEnvironment(
        create_app(settings, predictor), predictor, timeout, settings.max_body_bytes
    )
