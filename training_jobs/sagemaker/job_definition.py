"""What a BlazingText training job needs besides its hyperparameters.

``train`` (one job) and ``tune`` (many jobs) describe their jobs the same
way: the image, the ``train``/``validation`` channels, the output path, the
instance and its volume, and a time limit. This module owns those options and
the request fragments built from them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from training_jobs.modelling.hyperparameters import add_hyperparameter_arguments
from training_jobs.sagemaker.aws import (
    PROJECT_TAG,
    Request,
    add_aws_arguments,
    add_wait_arguments,
    positive_int,
    require_bucket,
    require_role_arn,
    s3_uri,
)
from training_jobs.sagemaker.images import add_image_argument, blazingtext_image_uri
from training_jobs.sagemaker.upload import CONTENT_TYPE, channel_uri

#: BlazingText supervised mode trains on one instance; AWS recommends C5 below 2 GB of data.
DEFAULT_TRAINING_INSTANCE = "ml.c5.4xlarge"
DEFAULT_VOLUME_GB = 30
DEFAULT_MAX_RUNTIME_SECONDS = 2 * 3600


def add_training_job_arguments(parser: argparse.ArgumentParser, *, default_timeout: int) -> None:
    """What ``train`` and ``tune`` share besides the job's name.

    The job definition, the BlazingText hyperparameters, the AWS options (with
    role and bucket) and waiting.
    """
    group = parser.add_argument_group("training job")
    group.add_argument(
        "--train-uri",
        help="S3 prefix (or object) of the train channel (default: s3://BUCKET/PREFIX/data/train/)",
    )
    group.add_argument(
        "--validation-uri",
        help="S3 prefix (or object) of the validation channel "
        "(default: s3://BUCKET/PREFIX/data/validation/)",
    )
    group.add_argument(
        "--output-uri",
        help="where SageMaker writes JOB/output/model.tar.gz (default: s3://BUCKET/PREFIX/models/)",
    )
    group.add_argument(
        "--instance-type",
        default=DEFAULT_TRAINING_INSTANCE,
        help=f"training instance type (default: {DEFAULT_TRAINING_INSTANCE}, as in the tutorial)",
    )
    group.add_argument(
        "--volume-gb",
        type=positive_int,
        default=DEFAULT_VOLUME_GB,
        help=f"EBS volume per training instance, in GB (default: {DEFAULT_VOLUME_GB})",
    )
    group.add_argument(
        "--max-runtime-seconds",
        type=positive_int,
        default=DEFAULT_MAX_RUNTIME_SECONDS,
        help="stopping condition: SageMaker stops a job (and its bill) after this long "
        f"(default: {DEFAULT_MAX_RUNTIME_SECONDS})",
    )
    add_image_argument(group)
    add_hyperparameter_arguments(parser)
    add_aws_arguments(parser, role=True, bucket=True)
    add_wait_arguments(parser, default_timeout=default_timeout)


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
    def from_args(
        cls,
        args: argparse.Namespace,
        *,
        region: str,
        use_validation: bool,
    ) -> JobDefinition:
        """From ``add_training_job_arguments``' options; ToolError if role or bucket is off."""
        role_arn = require_role_arn(args)
        bucket = require_bucket(args)
        validation_uri = args.validation_uri or channel_uri(bucket, args.prefix, "validation")
        return cls(
            image_uri=blazingtext_image_uri(region, args.image_uri),
            role_arn=role_arn,
            train_uri=args.train_uri or channel_uri(bucket, args.prefix, "train"),
            validation_uri=validation_uri if use_validation else None,
            output_uri=args.output_uri or s3_uri(bucket, args.prefix, "models") + "/",
            instance_type=args.instance_type,
            volume_gb=args.volume_gb,
            max_runtime_seconds=args.max_runtime_seconds,
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
