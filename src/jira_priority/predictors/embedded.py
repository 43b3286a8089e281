"""The embedded backend: a BlazingText/fastText model loaded in-process.

BlazingText's supervised ``model.bin`` is a fastText model (AWS documents that
the two cross-load), so the same file a SageMaker training job writes is
served here. The model comes from a local path or an ``s3://`` URI (a model
file, or the ``model.tar.gz`` of a training job) and is loaded once per
execution environment, on first use, under a lock.

Only ``fasttext.load_model`` and ``model.predict`` are used: the Lambda zip
ships the predict-only ``fasttext-predict`` build, the training tools the full
``fasttext-community``; both provide these two calls.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jira_priority.errors import (
    BadModelResponseError,
    ConfigurationError,
    UpstreamUnavailableError,
)
from jira_priority.model_files import ModelFileError, file_digest, locate_model
from jira_priority.model_source import (
    MODEL_CACHE_DIR,
    artifact_name,
    cache_dir_for,
    local_source,
    s3_client,
    split_s3_uri,
)
from jira_priority.postprocessing import PostProcessing, read_postprocessing
from jira_priority.predictors.base import LabelScore, checked_ranking
from jira_priority.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["MODEL_CACHE_DIR", "EmbeddedPredictor", "s3_client"]

#: After a failed load, requests fail fast for this long before loading is retried,
#: so a missing model does not turn every request into an S3 download.
RETRY_LOAD_AFTER_SECONDS = 30.0


def _import_fasttext() -> Any:
    import fasttext  # deferred: the sagemaker backend's cold start never pays for it

    return fasttext


class EmbeddedPredictor:
    """Predictor over a fastText model file; thread-safe, loads at most once at a time."""

    backend = "embedded"

    def __init__(self, model_uri: str, s3_client: S3Client | None = None) -> None:
        self._model_uri = model_uri
        self._is_s3 = model_uri.startswith("s3://")
        if self._is_s3:
            try:
                split_s3_uri(model_uri)
            except ValueError as exc:  # fail at start-up on a malformed URI
                raise ConfigurationError(f"MODEL_URI: {exc}") from exc
        self._s3 = s3_client
        self._lock = threading.Lock()
        self._model: Any = None
        self._digest: str | None = None
        self._postprocessing: PostProcessing | None = None
        self._failed_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedPredictor:
        assert settings.model_uri is not None  # guaranteed by Settings
        return cls(settings.model_uri)

    @property
    def model_id(self) -> str:
        """The model file's name and, once loaded, its digest; never the bucket or the path."""
        name = artifact_name(self._model_uri)
        if self._digest is None:
            return name
        return f"{name}@sha256:{self._digest[:12]}"

    def is_ready(self) -> bool:
        """Whether the model is loaded, loading it now if it is not (no prediction is made)."""
        try:
            self._loaded_model()
        except UpstreamUnavailableError:
            return False
        return True

    def postprocessing(self) -> PostProcessing | None:
        """The model's postprocessing.json (loaded with the model), or None if it has none."""
        self._loaded_model()
        return self._postprocessing

    def predict(self, texts: Sequence[str], k: int) -> list[list[LabelScore]]:
        model = self._loaded_model()
        # One call per text: fasttext-predict's list form returns labels without
        # probabilities, so only the single-line form behaves the same in both builds.
        # fastText reads one line per call; a newline inside a text would cut it short.
        rankings: list[list[LabelScore]] = []
        for text in texts:
            try:
                labels, probs = model.predict(" ".join(text.split()), k=k)
            except (ValueError, RuntimeError, UnicodeError) as exc:
                raise BadModelResponseError("The model could not score the ticket.") from exc
            if len(labels) != len(probs):
                raise BadModelResponseError("The model answered labels without probabilities.")
            rankings.append(checked_ranking(zip(labels, probs, strict=True)))
        return rankings

    # --- loading -------------------------------------------------------------

    def _loaded_model(self) -> Any:
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is not None:
                return self._model
            if (
                self._failed_at is not None
                and time.monotonic() - self._failed_at < RETRY_LOAD_AFTER_SECONDS
            ):
                waited = time.monotonic() - self._failed_at
                raise UpstreamUnavailableError(
                    retry_after=math.ceil(RETRY_LOAD_AFTER_SECONDS - waited)
                )
            try:
                cache = cache_dir_for(self._model_uri, MODEL_CACHE_DIR)
                source = local_source(self._model_uri, cache, self._s3)
                path = locate_model(source, cache / "extracted")
                postprocessing = read_postprocessing(source)
                model = _import_fasttext().load_model(str(path))
                digest = file_digest(path)
            except (ModelFileError, ImportError, ValueError, RuntimeError, OSError) as exc:
                # PostProcessingError is a ValueError: a damaged sidecar is a damaged model.
                self._failed_at = time.monotonic()
                raise UpstreamUnavailableError(retry_after=int(RETRY_LOAD_AFTER_SECONDS)) from exc
            self._digest = digest
            self._postprocessing = postprocessing
            self._model = model
            self._failed_at = None
            return model
