"""Fixtures of the SageMaker command tests: moto in-process, no socket opened."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.support.sagemaker import BUCKET, REGION, ROLE_ARN


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Region, role and bucket in the environment, the bucket created, inside mock_aws."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SAGEMAKER_PREFIX", raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SAGEMAKER_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("SAGEMAKER_BUCKET", BUCKET)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield
