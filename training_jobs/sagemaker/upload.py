"""``upload``: put the prepared train and validation files where training reads them.

Each file goes under its channel's prefix, ``s3://BUCKET/PREFIX/data/train/``
and ``.../data/validation/``, which is what ``train`` and ``tune`` read by
default. BlazingText reads *every* object under a channel prefix, so a
channel that already holds anything is refused: ``--force`` replaces the
channel's contents with the new file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from training_jobs.console import say
from training_jobs.errors import CommandError
from training_jobs.sagemaker.aws import (
    ApiCall,
    s3_uri,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHANNELS = ("train", "validation")
CONTENT_TYPE = "text/plain"


def channel_uri(bucket: str, prefix: str, channel: str) -> str:
    """``s3://bucket/prefix/data/<channel>/``: the S3Prefix a training channel reads."""
    return s3_uri(bucket, prefix, "data", channel) + "/"


def _channel_key_prefix(prefix: str, channel: str) -> str:
    return "/".join(part.strip("/") for part in (prefix, "data", channel) if part.strip("/")) + "/"


@dataclass(frozen=True)
class Upload:
    channel: str
    path: Path
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def call(self) -> ApiCall:
        return ApiCall(
            "s3",
            "PutObject",
            {"Bucket": self.bucket, "Key": self.key, "ContentType": CONTENT_TYPE},
            note=f"body: {self.path} ({self.path.stat().st_size} bytes)",
        )


def plan_uploads(files: dict[str, Path], bucket: str, prefix: str) -> list[Upload]:
    uploads = []
    for channel, path in files.items():
        if not path.is_file():
            raise CommandError(
                f"{path}: no such file (run `python -m training_jobs prepare` first)"
            )
        if path.stat().st_size == 0:
            raise CommandError(f"{path}: the file is empty")
        key = _channel_key_prefix(prefix, channel) + path.name
        uploads.append(Upload(channel=channel, path=path, bucket=bucket, key=key))
    return uploads


def _existing_keys(s3: S3Client, bucket: str, key_prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def run_uploads(s3: S3Client, uploads: list[Upload], *, force: bool) -> None:
    """Refuse (or with ``force`` clear) occupied channels, then upload each file."""
    if uploads:
        s3.head_bucket(Bucket=uploads[0].bucket)
    for upload in uploads:
        key_prefix = upload.key.rsplit("/", 1)[0] + "/"
        existing = _existing_keys(s3, upload.bucket, key_prefix)
        if existing and not force:
            raise CommandError(
                f"s3://{upload.bucket}/{key_prefix} already holds {len(existing)} object(s) "
                f"(e.g. {existing[0]}); BlazingText would train on all of them. "
                "Pass --force to replace them, or use another --prefix"
            )
        stale = [key for key in existing if key != upload.key]
        for start in range(0, len(stale), 1000):
            batch = stale[start : start + 1000]
            s3.delete_objects(
                Bucket=upload.bucket, Delete={"Objects": [{"Key": key} for key in batch]}
            )
            say(f"removed {len(batch)} old object(s) from s3://{upload.bucket}/{key_prefix}")
        s3.upload_file(
            str(upload.path),
            upload.bucket,
            upload.key,
            ExtraArgs={"ContentType": CONTENT_TYPE},
        )
        say(f"uploaded {upload.path} -> {upload.uri}")
