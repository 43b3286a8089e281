"""``tune``: the CreateHyperParameterTuningJob request and the best-job report."""

from __future__ import annotations

import pytest
from training_jobs.sagemaker.search_space import ParameterRange, parse_range

from tests.support.sagemaker import (
    BUCKET,
    run_tool,
    sagemaker_client,
)

pytestmark = pytest.mark.usefixtures("aws_env")

#: "Tune a BlazingText Model", tunable hyperparameters of the text classification algorithm.
AWS_DOCUMENTED_INTEGER_RANGES = [
    {"Name": "buckets", "MinValue": "1000000", "MaxValue": "10000000", "ScalingType": "Auto"},
    {"Name": "epochs", "MinValue": "5", "MaxValue": "15", "ScalingType": "Auto"},
    {"Name": "min_count", "MinValue": "0", "MaxValue": "100", "ScalingType": "Auto"},
    {"Name": "vector_dim", "MinValue": "32", "MaxValue": "300", "ScalingType": "Auto"},
    {"Name": "word_ngrams", "MinValue": "1", "MaxValue": "3", "ScalingType": "Auto"},
]
AWS_DOCUMENTED_CONTINUOUS_RANGES = [
    {"Name": "learning_rate", "MinValue": "0.005", "MaxValue": "0.01", "ScalingType": "Auto"},
]


def describe(name: str) -> dict[str, object]:
    described: dict[str, object] = sagemaker_client().describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name
    )
    return described


def test_defaults_are_bayesian_validation_accuracy_and_the_documented_ranges(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_tool(capsys, "tune", "--job-name", "tune-1", "--no-wait")

    assert result.code == 0, result.err
    config = describe("tune-1")["HyperParameterTuningJobConfig"]
    assert isinstance(config, dict)
    assert config["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:accuracy",
    }
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 100,
        "MaxParallelTrainingJobs": 8,
    }
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    ranges = config["ParameterRanges"]
    assert ranges["IntegerParameterRanges"] == AWS_DOCUMENTED_INTEGER_RANGES
    assert ranges["ContinuousParameterRanges"] == AWS_DOCUMENTED_CONTINUOUS_RANGES


def test_training_definition_fixes_what_is_not_searched(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "tune", "--job-name", "tune-2", "--no-wait", "--patience", "3")

    assert result.code == 0, result.err
    definition = describe("tune-2")["TrainingJobDefinition"]
    assert isinstance(definition, dict)
    assert definition["StaticHyperParameters"] == {
        "mode": "supervised",
        "early_stopping": "false",
        "patience": "3",
        "min_epochs": "5",
    }
    assert definition["AlgorithmSpecification"]["TrainingImage"] == (
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1"
    )
    assert [c["ChannelName"] for c in definition["InputDataConfig"]] == ["train", "validation"]
    assert definition["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"s3://{BUCKET}/jira-priority/data/validation/"
    )
    assert definition["ResourceConfig"]["InstanceType"] == "ml.c5.4xlarge"


def test_limits_range_fixed_and_early_stopping_are_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_tool(
        capsys, "tune", "--job-name", "tune-3", "--no-wait",
        "--max-jobs", "20", "--max-parallel-jobs", "4", "--tuning-early-stopping", "Off",
        "--range", "vector_dim=16:64", "--range", "learning_rate=0.01:0.2",
        "--fixed", "buckets", "--buckets", "50000",
    )  # fmt: skip

    assert result.code == 0, result.err
    described = describe("tune-3")
    config = described["HyperParameterTuningJobConfig"]
    assert isinstance(config, dict)
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 4}
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    integer = {
        r["Name"]: (r["MinValue"], r["MaxValue"])
        for r in config["ParameterRanges"]["IntegerParameterRanges"]
    }
    continuous = config["ParameterRanges"]["ContinuousParameterRanges"]
    assert "buckets" not in integer
    assert integer["vector_dim"] == ("16", "64")
    assert continuous == [
        {"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.2", "ScalingType": "Auto"}
    ]
    definition = described["TrainingJobDefinition"]
    assert isinstance(definition, dict)
    assert definition["StaticHyperParameters"]["buckets"] == "50000"


def test_waiting_reports_the_best_training_job(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "tune", "--job-name", "tune-4", "--poll-seconds", "0.01")

    # moto answers every tuning job with a fixed best job of this name.
    assert result.code == 0, result.err
    assert result.out.strip() == "FakeTrainingJobName"
    assert "tuning job tune-4: Completed (1/100 completed" in result.err
    assert "best training job: FakeTrainingJobName" in result.err


def test_an_existing_tuning_job_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_tool(capsys, "tune", "--job-name", "tune-5", "--no-wait").code == 0

    again = run_tool(capsys, "tune", "--job-name", "tune-5", "--no-wait")

    assert again.code == 1
    assert again.err == "tune: tuning job tune-5 already exists; pass another --job-name\n"


def test_more_parallel_than_total_jobs_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "tune", "--max-jobs", "4", "--max-parallel-jobs", "8")

    assert result.code == 1
    assert "--max-parallel-jobs cannot exceed --max-jobs" in result.err


def test_tuning_job_names_are_at_most_32_characters(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_tool(capsys, "tune", "--job-name", "x" * 33)

    assert result.code == 2
    assert "longer than the 32 characters allowed here" in result.err


def test_parse_range_checks_name_type_and_order() -> None:
    assert parse_range("epochs=3:9") == ParameterRange("epochs", 3, 9, integer=True)
    assert parse_range("learning-rate=0.01:0.1") == ParameterRange(
        "learning_rate", 0.01, 0.1, integer=False
    )
    for bad in ("mode=1:2", "epochs=1.5:3", "epochs=9:3", "early_stopping=0:1", "epochs=3"):
        with pytest.raises(ValueError, match=r"numeric|MIN:MAX|MIN must"):
            parse_range(bad)
