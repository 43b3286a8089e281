"""The embedded backend: a BlazingText/fastText model loaded in-process.

BlazingText's supervised ``model.bin`` is a fastText model (AWS documents that
the two cross-load), so the same file a SageMaker training job writes is
served here. The model comes from a local path or an ``s3://`` URI (a model
file, or the ``model.tar.gz`` of a training job) and is loaded once per
execution environment, on first use, under a lock.

Only ``fasttext.load_model`` and ``model.predict`` are used: the Lambda zip
ships the predict-only ``fasttext-predict-v2`` build, the training tools the full
``fasttext-community``; both provide these two calls, with the same answers.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

# Without botocore-stubs installed these imports are untyped; with them the ignore is unused.
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
    EXTRACTION_RESERVE_BYTES,
    MAX_MODEL_BYTES,
    CheckedModel,
    ModelFileError,
    check_model,
    file_digest,
)
from jira_priority.postprocessing import PostProcessing
from jira_priority.predictors.base import LabelScore, checked_ranking
from jira_priority.settings import Settings
from jira_priority.snapstart import close_connections

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: After a failed load, requests fail fast for this long before loading is retried,
#: so a missing model does not turn every request into an S3 download.
RETRY_LOAD_AFTER_SECONDS = 30.0
#: Errors that mean the model cannot be served now (after the download, the model's fault).
LOAD_ERRORS = (
    ModelFileError,
    ImportError,
    ValueError,
    RuntimeError,
    OSError,
    MemoryError,
    BadModelResponseError,
)


@lru_cache(maxsize=1)
def model_cache_dir() -> Path:
    """This process's own directory for downloaded and extracted models.

    /tmp is the only writable place in Lambda, and other local users share it:
    a fixed name there could be created first by one of them, who would then
    choose what we load or, with a symlink, what we overwrite. mkdtemp makes an
    unpredictable directory only we can enter (0700); it is checked all the same.
    """
    path = Path(tempfile.mkdtemp(prefix="jira-priority-models-"))
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ModelFileError(f"the model cache {path} is not a private directory")
    return path


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
    # boto3 (not jira_priority.aws_clients) for its download_file: s3transfer's ranged,
    # retried download. Imported here, so only a MODEL_URI on S3 pays for it.
    import boto3  # type: ignore[import-untyped, unused-ignore]

    client: S3Client = boto3.client("s3", config=config)
    return client


def _split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key or key.endswith("/"):
        raise ValueError(f"not an s3://bucket/key URI of a file: {uri!r}")
    return parts.netloc, key


#: The text of the prediction that proves a freshly loaded model answers.
VERIFY_TEXT = "the server crashes after the upgrade"


class ModelLoadError(Exception):
    """The model cannot be loaded or does not answer; the message is one line for a terminal."""


def _import_fasttext() -> Any:
    import fasttext  # deferred: the sagemaker backend's cold start never pays for it

    return fasttext


def _verify(model: Any, scheme: PriorityScheme) -> None:
    """A real prediction over every label: a model that cannot answer it is refused at load."""
    try:
        labels, probs = model.predict(VERIFY_TEXT, k=len(scheme))
    except (ValueError, RuntimeError, UnicodeError) as exc:
        raise BadModelResponseError("the model failed its test prediction") from exc
    try:
        ranking = checked_ranking(zip(labels, probs, strict=True))
    except (BadModelResponseError, ValueError) as exc:
        raise BadModelResponseError("the model's test prediction is not usable") from exc
    if not ranking or any(label not in scheme.labels for label, _ in ranking):
        raise BadModelResponseError("the model's test prediction is not usable")


def describe_load_error(error: BaseException) -> str:
    """Why loading failed (one of LOAD_ERRORS), on one line: the error's message."""
    if isinstance(error, BadModelResponseError):
        return error.public_message
    if isinstance(error, MemoryError):
        return "not enough memory to load it"
    text = " ".join(str(error).split())
    return text or type(error).__name__


def load_checked(checked: CheckedModel) -> Any:
    """fastText's model of a file ``model_files.check_model`` passed, proven to answer.

    The one place the project hands a model file to fastText: its loader trusts the
    file (a damaged one could crash the process), so only a checked file gets here.
    """
    model = _import_fasttext().load_model(str(checked.path))
    _verify(model, checked.scheme)
    return model


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
        #: The model's postprocessing.json, read with the model (None if it has none).
        self._postprocessing: PostProcessing | None = None
        self._failed_at: float | None = None
        self._failure: str | None = None
        #: (fingerprint of the file or object, why it failed): not fetched or extracted again
        self._bad_source: tuple[str, str] | None = None

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

    def load(self) -> None:
        """Load and verify the model now, as ``serve`` and ``classify`` do before anything else.

        Raises ModelLoadError with a one-line reason the commands print as is.
        """
        try:
            self._loaded_model()
        except UpstreamUnavailableError as exc:
            reason = self._failure or exc.public_message
            raise ModelLoadError(f"cannot load the model {self._model_uri}: {reason}") from exc

    def postprocessing(self) -> PostProcessing | None:
        """The model's postprocessing.json (loaded with the model), or None if it has none."""
        self._loaded_model()
        return self._postprocessing

    def scheme(self) -> PriorityScheme:
        """The scheme.json beside the model (or in its archive), else PRIORITY_SCHEME."""
        self._loaded_model()
        return self._scheme

    def predict(self, texts: Sequence[str], k: int) -> list[list[LabelScore]]:
        model = self._loaded_model()
        # One call per text: fasttext-predict-v2's list form returns labels without
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

    # --- SnapStart (jira_priority.snapstart) ----------------------------------

    def before_snapshot(self) -> None:
        """Load the model into the snapshot; a failure is retried on the first request."""
        self.is_ready()

    def after_restore(self) -> None:
        """Renew what the snapshot made stale: S3 connections and the retry timer."""
        with self._lock:
            # monotonic time from before the snapshot does not count in this environment
            self._failed_at = None
        if self._s3 is not None:
            close_connections(self._s3)
        elif s3_client.cache_info().currsize:
            close_connections(s3_client())

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
                model, digest, scheme, postprocessing = self._load()
            except LOAD_ERRORS as exc:
                self._failed_at = time.monotonic()
                self._failure = describe_load_error(exc)
                raise UpstreamUnavailableError(retry_after=int(RETRY_LOAD_AFTER_SECONDS)) from exc
            self._digest = digest
            self._scheme = scheme
            self._postprocessing = postprocessing
            self._model = model
            self._failed_at = self._failure = None
            return model

    def _load(self) -> tuple[Any, str, PriorityScheme, PostProcessing | None]:
        """Fetch, extract, check, load and verify the model; return it, its file's digest,
        its priority scheme (the scheme.json that travels with it, else PRIORITY_SCHEME)
        and its post-processing (a damaged postprocessing.json is a damaged model).

        A source that fails is remembered by its fingerprint and not extracted
        (nor downloaded) again until it changes, and what was written for it is removed.
        """
        cache = model_cache_dir() / hashlib.sha256(self._model_uri.encode()).hexdigest()[:16]
        cache.mkdir(mode=0o700, exist_ok=True)
        source, fingerprint = self._fetch(cache)
        try:
            # fastText's loader trusts the file: check it and its sidecars first (a
            # damaged file could crash the process), then prove it answers.
            checked = check_model(source, cache / "extracted", self._default_scheme)
            model = load_checked(checked)
            digest = file_digest(checked.path)
        except LOAD_ERRORS as exc:
            self._bad_source = (fingerprint, describe_load_error(exc))
            shutil.rmtree(cache, ignore_errors=True)
            raise
        if self._is_s3 and checked.path != source:
            source.unlink(missing_ok=True)  # the archive, once its model is out
        self._bad_source = None
        return model, digest, checked.scheme, checked.postprocessing

    def _fetch(self, cache: Path) -> tuple[Path, str]:
        """The model's source on local disk (downloaded into ``cache`` if on S3), fingerprinted."""
        if not self._is_s3:
            source = Path(self._model_uri).expanduser()
            try:
                info = source.stat()
            except OSError as exc:
                raise ModelFileError(f"{source} does not exist") from exc
            fingerprint = f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"
            self._refuse_known_bad(fingerprint)
            return source, fingerprint
        bucket, key = _split_s3_uri(self._model_uri)
        client = self._s3 if self._s3 is not None else s3_client()
        try:
            head = client.head_object(Bucket=bucket, Key=key)
            fingerprint = f"{head.get('ETag')}:{head.get('ContentLength')}:{head.get('VersionId')}"
            self._refuse_known_bad(fingerprint)
            size = int(head.get("ContentLength") or 0)
            free = shutil.disk_usage(cache).free - EXTRACTION_RESERVE_BYTES
            if size > min(MAX_MODEL_BYTES, free):
                raise ModelFileError(
                    f"{self._model_uri} is {size} bytes, more than the model bound "
                    f"({MAX_MODEL_BYTES}) or the free space ({max(free, 0)}) allows"
                )
            download = cache / "download"
            client.download_file(bucket, key, str(download))
        except (ClientError, BotoCoreError) as exc:
            raise ModelFileError(f"cannot download {self._model_uri}: {exc}") from exc
        return download, fingerprint

    def _refuse_known_bad(self, fingerprint: str) -> None:
        if self._bad_source is not None and self._bad_source[0] == fingerprint:
            raise ModelFileError(f"unchanged since it failed: {self._bad_source[1]}")
