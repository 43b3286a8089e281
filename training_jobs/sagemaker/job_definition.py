"""What a BlazingText training job needs besides its hyperparameters.

``train`` (one job) and ``tune`` (many jobs) describe their jobs the same
way: the image, the ``train``/``validation`` channels, the output path, the
instance and its volume, and a time limit. This module owns those options and
the request fragments built from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from training_jobs.errors import CommandError
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters
from training_jobs.sagemaker.aws import (
    PROJECT_TAG,
    Request,
    require_bucket,
    require_role_arn,
    s3_uri,
)
from training_jobs.sagemaker.images import blazingtext_image_uri
from training_jobs.sagemaker.upload import CONTENT_TYPE, channel_uri


#: BlazingText supervised mode trains on one instance; AWS recommends C5 below 2 GB of data.
@dataclass(frozen=True)
class JobDefinition:
    """The parts of CreateTrainingJob that a tuning job's TrainingJobDefinition repeats."""

    image_uri: str
    role_arn: str
    train_uri: str
    validation_uri: str | None
    output_uri: str
    instance_type: str
    volume_gb: int
    max_runtime_seconds: int

    @classmethod
    def create(
        cls,
        *,
        region: str,
        use_validation: bool,
        role_arn: str | None,
        bucket: str | None,
        prefix: str,
        train_uri: str | None,
        validation_uri: str | None,
        output_uri: str | None,
        instance_type: str,
        volume_gb: int,
        max_runtime_seconds: int,
        image_uri: str | None,
    ) -> JobDefinition:
        """The channels default to the bucket's; CommandError if role or bucket is off."""
        role_arn = require_role_arn(role_arn)
        bucket = require_bucket(bucket)
        validation_uri = validation_uri or channel_uri(bucket, prefix, "validation")
        return cls(
            image_uri=blazingtext_image_uri(region, image_uri),
            role_arn=role_arn,
            train_uri=train_uri or channel_uri(bucket, prefix, "train"),
            validation_uri=validation_uri if use_validation else None,
            output_uri=output_uri or s3_uri(bucket, prefix, "models") + "/",
            instance_type=instance_type,
            volume_gb=volume_gb,
            max_runtime_seconds=max_runtime_seconds,
        )

    def channels(self) -> list[Request]:
        uris = [("train", self.train_uri)]
        if self.validation_uri:
            uris.append(("validation", self.validation_uri))
        return [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": CONTENT_TYPE,
                "CompressionType": "None",
            }
            for name, uri in uris
        ]

    def common_request(self) -> Request:
        """Fields shared, with the same names, by CreateTrainingJob and TrainingJobDefinition."""
        fields: dict[str, Any] = {
            "AlgorithmSpecification": {
                "TrainingImage": self.image_uri,
                "TrainingInputMode": "File",
            },
            "RoleArn": self.role_arn,
            "InputDataConfig": self.channels(),
            "OutputDataConfig": {"S3OutputPath": self.output_uri},
            "ResourceConfig": {
                "InstanceType": self.instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": self.volume_gb,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_runtime_seconds},
        }
        return fields


def tags() -> list[dict[str, str]]:
    return [dict(PROJECT_TAG)]


def checked_hyperparameters(options: Mapping[str, Any]) -> BlazingTextHyperparameters:
    """The hyperparameters among a command's options; CommandError if one is out of range."""
    try:
        return BlazingTextHyperparameters.from_options(options)
    except ValueError as error:
        raise CommandError(f"invalid hyperparameters: {error}") from None
