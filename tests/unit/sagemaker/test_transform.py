"""``transform``: tickets -> BlazingText jsonlines -> batch transform job -> CSV.

moto records the CreateTransformJob request but runs no container, so the test
plays BlazingText's part: it reads the input object the command uploaded and
writes the output object where SageMaker would (``<input>.out`` under the
output path), in BlazingText's documented output format.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import boto3
import pytest
from training_jobs.data.readers import TicketRow
from training_jobs.errors import CommandError
from training_jobs.sagemaker.transform import batch_input, parse_batch_output, write_predictions

from jira_priority.postprocessing import Confidence, PostProcessing, TopLabelMap, post_process
from jira_priority.text import normalise_ticket
from tests.support.sagemaker import (
    BUCKET,
    REGION,
    ROLE_ARN,
    run_tool,
    sagemaker_client,
)

TICKETS_CSV = (
    '"id","created","description","key","priority","project","project_name","repositoryname",'
    '"resolution","resolved","status","title","type","updated","votes","watchers","assignee_id",'
    '"reporter_id"\n'
    '1,"","NPE in {code}FSNamesystem.start(){code} see http://x.org/a","HDFS-1","Major","HDFS",'
    '"","","","","Open","NameNode crashes on START","Bug","","","","",""\n'
    '2,"","","HDFS-2","","HDFS","","","","","Open","Typo in &quot;docs&quot;","Bug",'
    '"","","","",""\n'
    '3,"","...","HDFS-3","","HDFS","","","","","Open","!!!","Bug","","","","",""\n'
)


@pytest.fixture
def tickets_csv(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS_CSV, encoding="utf-8")
    return path


def create_model(name: str) -> None:
    sagemaker_client().create_model(
        ModelName=name,
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/model.tar.gz"},
        ExecutionRoleArn=ROLE_ARN,
    )


def play_blazingtext(job_name: str) -> list[dict[str, object]]:
    """Read the job's input like the container would and write its output; return the input."""
    job = sagemaker_client().describe_transform_job(TransformJobName=job_name)
    s3 = boto3.client("s3", region_name=REGION)
    in_uri = job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    in_key = in_uri.removeprefix(f"s3://{BUCKET}/")
    records = [
        json.loads(line)
        for line in s3.get_object(Bucket=BUCKET, Key=in_key)["Body"].read().splitlines()
    ]
    answers = [
        {"label": ["__label__4", "__label__3"], "prob": [0.7, 0.2]},
        {"label": ["__label__2", "__label__3"], "prob": [0.55, 0.3]},
    ]
    out_prefix = job["TransformOutput"]["S3OutputPath"].removeprefix(f"s3://{BUCKET}/")
    body = "\n".join(json.dumps(a) for a in answers[: len(records)]) + "\n"
    s3.put_object(Bucket=BUCKET, Key=out_prefix + in_key.rsplit("/", 1)[1] + ".out", Body=body)
    return records


@pytest.mark.usefixtures("aws_env")
def test_tickets_are_scored_by_a_jsonlines_transform_job_and_written_as_csv(
    capsys: pytest.CaptureFixture[str], tickets_csv: Path, tmp_path: Path
) -> None:
    create_model("jp-model")
    output = tmp_path / "scored.csv"

    started = run_tool(
        capsys, "transform", "--input", str(tickets_csv), "--output", str(output),
        "--model-name", "jp-model", "--job-name", "bt-batch", "--top-k", "2", "--no-wait",
    )  # fmt: skip
    records = play_blazingtext("bt-batch")
    collected = run_tool(
        capsys, "transform", "--collect", "bt-batch", "--input", str(tickets_csv),
        "--output", str(output), "--top-k", "2",
    )  # fmt: skip

    assert started.code == 0, started.err
    assert f"skipped 1 row(s) of {tickets_csv} (1 no_text)" in started.err
    job = sagemaker_client().describe_transform_job(TransformJobName="bt-batch")
    assert job["ModelName"] == "jp-model"
    assert job["TransformInput"]["ContentType"] == "application/jsonlines"
    assert job["TransformInput"]["SplitType"] == "Line"
    assert job["TransformOutput"]["Accept"] == "application/jsonlines"
    assert job["TransformOutput"]["AssembleWith"] == "Line"
    assert records == [
        {
            "source": normalise_ticket(
                "NameNode crashes on START",
                "NPE in {code}FSNamesystem.start(){code} see http://x.org/a",
            ),
            "k": 6,
        },
        {"source": normalise_ticket('Typo in "docs"', ""), "k": 6},
    ]
    assert records[0]["source"] == " ".join(["namenode crashes on start"] * 3 + ["npe in see url"])
    assert collected.code == 0, collected.err
    with output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "row": "1", "key": "HDFS-1", "title": "NameNode crashes on START", "priority": "Major",
            "predicted_priority": "Major", "predicted_label": "__label__4",
            "probability": "0.7000", "ranking": "Major:0.7000 Minor:0.2000",
            "calibrated_probability": "", "confident": "", "action": "", "urgency": "",
        },
        {
            "row": "2", "key": "HDFS-2", "title": "Typo in &quot;docs&quot;", "priority": "",
            "predicted_priority": "Trivial", "predicted_label": "__label__2",
            "probability": "0.5500", "ranking": "Trivial:0.5500 Minor:0.3000",
            "calibrated_probability": "", "confident": "", "action": "", "urgency": "",
        },
    ]  # fmt: skip


@pytest.mark.usefixtures("aws_env")
def test_collect_applies_the_models_postprocessing_like_the_lambda(
    capsys: pytest.CaptureFixture[str], tickets_csv: Path, tmp_path: Path
) -> None:
    create_model("jp-model")
    output = tmp_path / "scored.csv"
    # Minor is rare in training: a prior weight of 1 ranks Minor (log .2 - log .05) over
    # Major (log .7 - log .9) for the first ticket. Temperature 1: calibrated = model's.
    postprocessing = PostProcessing(
        labels=("__label__2", "__label__3", "__label__4"),
        log_prior=(math.log(0.05), math.log(0.05), math.log(0.9)),
        prior_weight=1.0,
        temperature=1.0,
        confidence=Confidence(threshold=0.5, target_precision=0.7, coverage=0.5, precision=0.7),
    )
    (tmp_path / "postprocessing.json").write_text(postprocessing.to_json(), encoding="utf-8")
    run_tool(
        capsys, "transform", "--input", str(tickets_csv), "--output", str(output),
        "--model-name", "jp-model", "--job-name", "bt-batch", "--no-wait",
    )  # fmt: skip
    records = play_blazingtext("bt-batch")

    collected = run_tool(
        capsys, "transform", "--collect", "bt-batch", "--input", str(tickets_csv),
        "--output", str(output), "--postprocessing", str(tmp_path / "postprocessing.json"),
    )  # fmt: skip

    assert collected.code == 0, collected.err
    assert {record["k"] for record in records} == {6}
    with output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["predicted_priority"], r["probability"]) for r in rows] == [
        ("Minor", "0.2000"),
        ("Trivial", "0.5500"),
    ]
    assert [(r["calibrated_probability"], r["confident"]) for r in rows] == [
        (f"{0.2 / 0.9:.4f}", "false"),
        (f"{0.55 / 0.85:.4f}", "true"),
    ]


@pytest.mark.usefixtures("aws_env")
def test_an_existing_output_file_is_not_overwritten(
    capsys: pytest.CaptureFixture[str], tickets_csv: Path, tmp_path: Path
) -> None:
    output = tmp_path / "scored.csv"
    output.write_text("keep me", encoding="utf-8")

    result = run_tool(capsys, "transform", "--input", str(tickets_csv), "--output", str(output),
                      "--model-name", "jp-model")  # fmt: skip

    assert result.code == 1
    assert "pass --force to overwrite it" in result.err
    assert output.read_text(encoding="utf-8") == "keep me"
    assert sagemaker_client().list_transform_jobs()["TransformJobSummaries"] == []


@pytest.mark.usefixtures("aws_env")
def test_a_missing_model_is_refused_before_any_upload(
    capsys: pytest.CaptureFixture[str], tickets_csv: Path, tmp_path: Path
) -> None:
    result = run_tool(capsys, "transform", "--input", str(tickets_csv),
                      "--output", str(tmp_path / "o.csv"), "--model-name", "nope")  # fmt: skip

    assert result.code == 1
    assert result.err.endswith("\ntransform: model nope does not exist (deploy creates one)\n")
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)
    assert listed.get("KeyCount", 0) == 0


def test_batch_input_is_one_normalised_source_per_line() -> None:
    tickets = [TicketRow(title="Crash!", description="In <b>HDFS</b>", priority="", row=1)]

    body = batch_input(tickets, k=3)

    assert body == b'{"source": "crash crash crash in b hdfs b", "k": 3}\n'


def test_output_with_a_different_line_count_is_refused() -> None:
    with pytest.raises(CommandError, match="1 prediction\\(s\\) for 2 ticket"):
        parse_batch_output(b'{"label": ["__label__4"], "prob": [0.9]}\n', expected=2, k=1)


@pytest.mark.parametrize(
    "line",
    [
        b'{"label": ["__label__9"], "prob": [0.9]}',
        b'{"label": ["__label__4"], "prob": []}',
        b'{"label": [], "prob": []}',
        b"[0.9]",
        b"not json",
    ],
)
def test_output_that_is_not_a_blazingtext_prediction_is_refused(line: bytes) -> None:
    with pytest.raises(CommandError, match="output line 1"):
        parse_batch_output(line + b"\n", expected=1, k=1)


@pytest.mark.usefixtures("aws_env")
def test_by_default_the_command_waits_and_writes_the_csv(
    capsys: pytest.CaptureFixture[str], tickets_csv: Path, tmp_path: Path
) -> None:
    create_model("jp-model")
    # moto finishes the job at once but writes nothing: put BlazingText's answer where it goes.
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET,
        Key="jira-priority/transform/bt-wait/output/tickets.jsonl.out",
        Body=b'{"prob": [0.9], "label": ["__label__6"]}\n'
        b'{"prob": [0.6], "label": ["__label__1"]}\n',
    )
    output = tmp_path / "scored.csv"

    result = run_tool(
        capsys, "transform", "--input", str(tickets_csv), "--output", str(output),
        "--model-name", "jp-model", "--job-name", "bt-wait", "--poll-seconds", "0.01",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert result.out == f"{output}\n"
    assert "[0:00:00] transform job bt-wait: Completed" in result.err
    with output.open(encoding="utf-8") as handle:
        predicted = [row["predicted_priority"] for row in csv.DictReader(handle)]
    assert predicted == ["Blocker", "Optional"]


def test_the_csv_carries_the_answers_calibrated_confidence_not_its_prioritys_odds(
    tmp_path: Path,
) -> None:
    # Major's temperature-scaled probability 0.61 maps to an answer confidence of 0.5.
    postprocessing = PostProcessing(
        labels=("__label__3", "__label__4"),
        log_prior=(math.log(0.2), math.log(0.8)),
        prior_weight=0.0,
        temperature=1.0,
        confidence=Confidence(threshold=0.55, target_precision=0.7, coverage=0.5, precision=0.7),
        top_label_map=TopLabelMap((0.0, 1.0), (0.5, 0.5)),
    )
    answer = post_process([("__label__4", 0.61), ("__label__3", 0.39)], 2, postprocessing)
    output = tmp_path / "scored.csv"

    ticket = TicketRow(title="t", description="text", priority="Major", key="HIVE-1", row=2)
    write_predictions(output, [ticket], [answer])

    with output.open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["probability"], row["calibrated_probability"], row["confident"]) == (
        "0.6100",
        "0.5000",
        "false",
    )


@pytest.mark.usefixtures("aws_env")
def test_a_postprocessing_json_over_labels_outside_the_scheme_is_refused_before_the_job(
    capsys: pytest.CaptureFixture[str], tickets_csv: Path, tmp_path: Path
) -> None:
    # jira-cloud has five priorities: __label__6 would win the corrected argmax and have no name
    create_model("jp-model")
    labels = ("__label__4", "__label__5", "__label__6")
    (tmp_path / "postprocessing.json").write_text(
        PostProcessing(labels, (math.log(1 / 3),) * 3, 0.0, 1.0).to_json(), encoding="utf-8"
    )

    result = run_tool(
        capsys, "transform", "--input", str(tickets_csv), "--output", str(tmp_path / "o.csv"),
        "--model-name", "jp-model", "--scheme", "jira-cloud",
        "--postprocessing", str(tmp_path / "postprocessing.json"),
    )  # fmt: skip

    assert result.code == 1
    assert result.err.splitlines()[-1] + "\n" == (
        f"transform: --postprocessing {tmp_path / 'postprocessing.json'}: its labels "
        "__label__6 are outside the jira-cloud scheme (__label__1..__label__5)\n"
    )
    assert sagemaker_client().list_transform_jobs()["TransformJobSummaries"] == []
