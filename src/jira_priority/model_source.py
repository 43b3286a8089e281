"""A model artifact named by a local path or an ``s3://`` URI, as a local file.

Both backends read the model's files through here: the embedded backend the
model itself and its sidecars, the SageMaker backend only the sidecars (the
endpoint holds the model). What is inside the artifact is
``jira_priority.model_files``' business.
"""

from __future__ import annotations

import hashlib
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

# Without boto3-stubs installed these imports are untyped; with them the ignore is unused.
import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from jira_priority.model_files import ModelFileError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

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


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://bucket/key`` URI of a file; ValueError otherwise."""
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key or key.endswith("/"):
        raise ValueError(f"not an s3://bucket/key URI of a file: {uri!r}")
    return parts.netloc, key


def artifact_name(uri: str) -> str:
    """The artifact's file name: never the bucket or the directory, which clients need not see."""
    return Path(urlsplit(uri).path if uri.startswith("s3://") else uri).name


def cache_dir_for(uri: str, root: Path) -> Path:
    """A directory of its own under ``root`` for the artifact ``uri``."""
    return root / hashlib.sha256(uri.encode()).hexdigest()[:16]


def local_source(uri: str, cache: Path, client: S3Client | None = None) -> Path:
    """The artifact on local disk: the path itself, or an S3 object downloaded into ``cache``.

    Raises ModelFileError when the object cannot be downloaded.
    """
    if not uri.startswith("s3://"):
        return Path(uri).expanduser()
    bucket, key = split_s3_uri(uri)
    cache.mkdir(parents=True, exist_ok=True)
    download = cache / "download"
    try:
        (client if client is not None else s3_client()).download_file(bucket, key, str(download))
    except (ClientError, BotoCoreError) as exc:
        raise ModelFileError(f"cannot download {uri}: {exc}") from exc
    return download
