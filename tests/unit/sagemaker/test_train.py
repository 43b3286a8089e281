"""``train``: the CreateTrainingJob request SageMaker receives (through moto)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from training_jobs.modelling.hyperparameters import BlazingTextHyperparameters

from tests.support.sagemaker import (
    BUCKET,
    ROLE_ARN,
    run_tool,
    sagemaker_client,
    write_prepared,
)

pytestmark = pytest.mark.usefixtures("aws_env")


def test_training_job_has_image_channels_output_instance_and_stopping_condition(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_tool(capsys, "train", "--job-name", "bt-1", "--poll-seconds", "0.01")

    assert result.code == 0, result.err
    assert result.out.strip() == "bt-1"
    job = sagemaker_client().describe_training_job(TrainingJobName="bt-1")
    assert job["AlgorithmSpecification"]["TrainingImage"] == (
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1"
    )
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert job["RoleArn"] == ROLE_ARN
    channels = {c["ChannelName"]: c for c in job["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    for name in ("train", "validation"):
        source = channels[name]["DataSource"]["S3DataSource"]
        assert source["S3Uri"] == f"s3://{BUCKET}/jira-priority/data/{name}/"
        assert source["S3DataType"] == "S3Prefix"
        assert channels[name]["ContentType"] == "text/plain"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/jira-priority/models/"
    assert job["ResourceConfig"] == {
        "InstanceType": "ml.c5.4xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 7200


def test_hyperparameters_have_the_local_trainers_names_and_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags = [
        "--epochs", "7", "--learning-rate", "0.1", "--vector-dim", "20", "--word-ngrams", "1",
        "--min-count", "3", "--buckets", "5000", "--early-stopping", "--patience", "2",
        "--min-epochs", "3",
    ]  # fmt: skip

    result = run_tool(capsys, "train", "--job-name", "bt-hp", "--no-wait", *flags)

    assert result.code == 0, result.err
    sent = sagemaker_client().describe_training_job(TrainingJobName="bt-hp")["HyperParameters"]
    assert set(sent) == {f.name for f in fields(BlazingTextHyperparameters)}
    assert sent == {
        "mode": "supervised",
        "epochs": "7",
        "learning_rate": "0.1",
        "vector_dim": "20",
        "word_ngrams": "1",
        "min_count": "3",
        "buckets": "5000",
        "early_stopping": "true",
        "patience": "2",
        "min_epochs": "3",
    }


def test_options_override_instance_volume_runtime_uris_and_image(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_tool(
        capsys, "train", "--job-name", "bt-opts", "--no-wait",
        "--instance-type", "ml.c5.2xlarge", "--volume-gb", "5", "--max-runtime-seconds", "600",
        "--train-uri", "s3://other/train.txt", "--no-validation",
        "--output-uri", "s3://other/out/", "--image-uri", "example.com/bt:9",
    )  # fmt: skip

    assert result.code == 0, result.err
    job = sagemaker_client().describe_training_job(TrainingJobName="bt-opts")
    assert [c["ChannelName"] for c in job["InputDataConfig"]] == ["train"]
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://other/train.txt"
    )
    assert job["OutputDataConfig"]["S3OutputPath"] == "s3://other/out/"
    assert job["ResourceConfig"]["InstanceType"] == "ml.c5.2xlarge"
    assert job["ResourceConfig"]["VolumeSizeInGB"] == 5
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 600
    assert job["AlgorithmSpecification"]["TrainingImage"] == "example.com/bt:9"


def test_an_existing_job_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_tool(capsys, "train", "--job-name", "bt-twice", "--no-wait").code == 0

    again = run_tool(capsys, "train", "--job-name", "bt-twice", "--no-wait")

    assert again.code == 1
    assert again.err.count("\n") == 1
    assert "training job bt-twice already exists" in again.err


def test_waiting_prints_progress_and_the_artifact(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "train", "--job-name", "bt-wait", "--poll-seconds", "0.01")

    assert "training job bt-wait: Completed" in result.err
    assert "[0:00:00]" in result.err
    assert f"s3://{BUCKET}/jira-priority/models/bt-wait/output/model.tar.gz" in result.err


def test_early_stopping_without_validation_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "train", "--no-validation", "--early-stopping")

    assert result.code == 1
    assert result.err == "train: --early-stopping needs a validation channel\n"
    assert sagemaker_client().list_training_jobs()["TrainingJobSummaries"] == []


def test_invalid_hyperparameter_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "train", "--learning-rate", "2")

    assert result.code == 1
    assert result.err.startswith("train: invalid hyperparameters: learning_rate")


def test_missing_role_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAGEMAKER_ROLE_ARN")

    result = run_tool(capsys, "train")

    assert result.code == 1
    assert result.err == "train: no IAM role: pass --role-arn or set SAGEMAKER_ROLE_ARN\n"


def test_malformed_role_is_refused_before_calling_aws(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "train", "--role-arn", "JiraPrioritySageMaker")

    assert result.code == 1
    assert "is not an IAM role ARN" in result.err


def test_upload_then_train_reads_the_uploaded_channels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    train_file, validation_file = write_prepared(tmp_path)
    uploaded = run_tool(
        capsys, "upload", "--train", str(train_file), "--validation", str(validation_file)
    )
    trained = run_tool(capsys, "train", "--job-name", "bt-up", "--no-wait")

    channels = dict(line.split("\t") for line in uploaded.out.splitlines())
    job = sagemaker_client().describe_training_job(TrainingJobName="bt-up")
    read = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]
    }
    assert trained.code == 0
    assert read == channels
