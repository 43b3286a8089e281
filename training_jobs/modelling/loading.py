"""The one way the tools load a model for predictions: the Lambda's embedded predictor.

Loaded and warmed up at once, so a missing or damaged model fails before any
data is read or any request served, with one line that says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from training_jobs.errors import CommandError

if TYPE_CHECKING:
    from jira_priority.predictors.embedded import EmbeddedPredictor


class ModelLoadError(CommandError):
    """The model file is missing, unreadable or not a fastText/BlazingText model."""


def load_model(model_uri: str) -> EmbeddedPredictor:
    """The embedded predictor of a model.bin/.ftz/model.tar.gz path or s3:// URI, loaded now."""
    from jira_priority.errors import ServiceError
    from jira_priority.predictors.embedded import EmbeddedPredictor

    try:
        predictor = EmbeddedPredictor(model_uri)
        predictor.predict(["warm up"], 1)
    except ServiceError as exc:
        cause = exc.__cause__
        reason = str(cause) if cause is not None else exc.public_message
        raise ModelLoadError(f"cannot load the model {model_uri}: {reason}") from exc
    return predictor
