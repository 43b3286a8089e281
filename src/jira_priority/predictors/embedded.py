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

import hashlib
import math
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

# Without boto3-stubs installed these imports are untyped; with them the ignore is unused.
import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from jira_priority.errors import (
    BadModelResponseError,
    ConfigurationError,
    UpstreamUnavailableError,
)
from jira_priority.labels import DEFAULT_SCHEME, PriorityScheme
from jira_priority.model_files import (
    ModelFileError,
    file_digest,
    locate_model,
    read_model_scheme,
)
from jira_priority.predictors.base import LabelScore, checked_ranking
from jira_priority.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: After a failed load, requests fail fast for this long before loading is retried,
#: so a missing model does not turn every request into an S3 download.
RETRY_LOAD_AFTER_SECONDS = 30.0
#: Where downloaded and extracted models go: /tmp is the only writable place in Lambda.
MODEL_CACHE_DIR = Path(tempfile.gettempdir()) / "jira-priority-models"


@lru_cache(maxsize=1)
def s3_client() -> S3Client:
    """One S3 client per execution environment.

    The model is fetched during the first request, so the download shares the
    SageMaker call's budget: 2 attempts x (2 s connect + 8 s without a byte)
    + 1 s backoff = 21 s at worst, inside the function's 25 s. read_timeout
    bounds the wait for each chunk, not the whole transfer.
    """
    config = Config(
        connect_timeout=2,
        read_timeout=8,
        retries={"mode": "standard", "total_max_attempts": 2},
    )
    client: S3Client = boto3.client("s3", config=config)
    return client


def _split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key or key.endswith("/"):
        raise ValueError(f"not an s3://bucket/key URI of a file: {uri!r}")
    return parts.netloc, key


def _import_fasttext() -> Any:
    import fasttext  # deferred: the sagemaker backend's cold start never pays for it

    return fasttext


class EmbeddedPredictor:
    """Predictor over a fastText model file; thread-safe, loads at most once at a time."""

    backend = "embedded"

    def __init__(
        self,
        model_uri: str,
        s3_client: S3Client | None = None,
        default_scheme: PriorityScheme = DEFAULT_SCHEME,
    ) -> None:
        self._model_uri = model_uri
        self._default_scheme = default_scheme
        self._scheme = default_scheme
        self._is_s3 = model_uri.startswith("s3://")
        if self._is_s3:
            try:
                _split_s3_uri(model_uri)
            except ValueError as exc:  # fail at start-up on a malformed URI
                raise ConfigurationError(f"MODEL_URI: {exc}") from exc
        self._s3 = s3_client
        self._lock = threading.Lock()
        self._model: Any = None
        self._digest: str | None = None
        self._failed_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedPredictor:
        assert settings.model_uri is not None  # guaranteed by Settings
        return cls(settings.model_uri, default_scheme=settings.scheme)

    @property
    def model_id(self) -> str:
        """The model file's name and, once loaded, its digest; never the bucket or the path."""
        name = Path(urlsplit(self._model_uri).path if self._is_s3 else self._model_uri).name
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

    def scheme(self) -> PriorityScheme:
        """The scheme.json beside the model (or in its archive), else PRIORITY_SCHEME."""
        self._loaded_model()
        return self._scheme

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
                cache = MODEL_CACHE_DIR / hashlib.sha256(self._model_uri.encode()).hexdigest()[:16]
                source = self._local_source(cache)
                path = locate_model(source, cache / "extracted")
                scheme = read_model_scheme(source, self._default_scheme)
                model = _import_fasttext().load_model(str(path))
                digest = file_digest(path)
            except (ModelFileError, ImportError, ValueError, RuntimeError, OSError) as exc:
                self._failed_at = time.monotonic()
                raise UpstreamUnavailableError(retry_after=int(RETRY_LOAD_AFTER_SECONDS)) from exc
            self._digest = digest
            self._scheme = scheme
            self._model = model
            self._failed_at = None
            return model

    def _local_source(self, cache: Path) -> Path:
        """The model artifact (file, directory or archive) on local disk, downloaded if need be."""
        if not self._is_s3:
            return Path(self._model_uri).expanduser()
        bucket, key = _split_s3_uri(self._model_uri)
        cache.mkdir(parents=True, exist_ok=True)
        download = cache / "download"
        client = self._s3 if self._s3 is not None else s3_client()
        try:
            client.download_file(bucket, key, str(download))
        except (ClientError, BotoCoreError) as exc:
            raise ModelFileError(f"cannot download {self._model_uri}: {exc}") from exc
        return download
