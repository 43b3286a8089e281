"""Prediction backends, chosen by configuration (``PREDICTOR_BACKEND``)."""

from __future__ import annotations

from jira_priority.predictors.base import LabelScore, Predictor
from jira_priority.settings import Settings

__all__ = ["LabelScore", "Predictor", "build_predictor"]


def build_predictor(settings: Settings) -> Predictor:
    """The predictor the settings ask for.

    Each backend is imported only when chosen, to keep it out of the other's cold start.
    """
    if settings.predictor_backend == "sagemaker":
        from jira_priority.predictors.sagemaker import SageMakerPredictor

        return SageMakerPredictor.from_settings(settings)
    from jira_priority.predictors.embedded import EmbeddedPredictor

    return EmbeddedPredictor.from_settings(settings)
