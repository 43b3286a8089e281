"""The one way the tools load a model for predictions: the Lambda's embedded predictor.

Loaded and verified at once (``EmbeddedPredictor.load``), so a missing or
damaged model fails before any data is read, with one line that says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from training_jobs.errors import CommandError

if TYPE_CHECKING:
    from jira_priority.predictors.embedded import EmbeddedPredictor


def load_model(model_uri: str) -> EmbeddedPredictor:
    """The embedded predictor of a model.bin/.ftz/model.tar.gz path or s3:// URI, loaded now."""
    from jira_priority.errors import ServiceError
    from jira_priority.predictors import embedded

    try:
        predictor = embedded.EmbeddedPredictor(model_uri)
        predictor.load()  # loads and verifies it: one line that says why if it cannot
    except embedded.ModelLoadError as exc:
        raise CommandError(str(exc)) from exc
    except ServiceError as exc:
        raise CommandError(f"cannot load the model {model_uri}: {exc.public_message}") from exc
    return predictor
