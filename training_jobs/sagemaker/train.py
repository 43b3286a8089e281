"""``train``: one BlazingText training job in supervised mode on SageMaker.

The hyperparameters are the local trainer's (``train-local``), with the same
names and defaults, so a setting found locally carries over unchanged. The job
reads the channels ``upload`` filled and writes ``model.tar.gz`` (holding
``model.bin``) under the output path. Prints the job name on stdout.
"""

from __future__ import annotations

from training_jobs.errors import CommandError
from training_jobs.modelling.hyperparameters import (
    BlazingTextHyperparameters,
)
from training_jobs.sagemaker.aws import (
    Request,
)
from training_jobs.sagemaker.job_definition import JobDefinition, tags


def training_job_request(
    name: str, definition: JobDefinition, hyperparameters: BlazingTextHyperparameters
) -> Request:
    if hyperparameters.early_stopping and not definition.validation_uri:
        raise CommandError("--early-stopping needs a validation channel")
    return {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters.as_sagemaker(),
        **definition.common_request(),
        "Tags": tags(),
    }
