"""The function's AWS clients, made by botocore without importing boto3.

boto3's import brings s3transfer and multiprocessing (~13 ms of the sagemaker
backend's cold start) for nothing InvokeEndpoint needs; a botocore
client is what ``boto3.client`` returns, without its resource layer.

SERVICES names every service the function calls. ``make build`` keeps only
their botocore data in the zip (``training_jobs.function_zip``): botocore lists
every service directory it ships before it loads one, so the other four
hundred cost every cold start time and the zip most of its size.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config
    from botocore.session import Session

#: The services the function calls: InvokeEndpoint, and S3 for MODEL_URI.
SERVICES = ("sagemaker-runtime", "s3")

_lock = threading.Lock()  # botocore sessions do not promise thread-safe client creation


@lru_cache(maxsize=1)
def _session() -> Session:
    import botocore.session

    return botocore.session.get_session()


def create_client(service: str, config: Config, region: str | None = None) -> Any:
    """A botocore client of one of SERVICES; ``region`` None is botocore's own lookup."""
    if service not in SERVICES:
        raise ValueError(f"{service} is not one of the services the function calls: {SERVICES}")
    with _lock:
        return _session().create_client(service, region_name=region, config=config)
