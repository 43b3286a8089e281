"""``upload``: prepared files land under the channel prefixes training reads."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from tests.support.sagemaker import (
    BUCKET,
    REGION,
    run_tool,
    write_prepared,
)

pytestmark = pytest.mark.usefixtures("aws_env")


def keys() -> list[str]:
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_files_go_under_their_channel_prefix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    train_file, validation_file = write_prepared(tmp_path)

    result = run_tool(
        capsys, "upload", "--train", str(train_file), "--validation", str(validation_file)
    )

    assert result.code == 0, result.err
    assert keys() == [
        "jira-priority/data/train/train.txt",
        "jira-priority/data/validation/validation.txt",
    ]
    assert result.out.splitlines() == [
        f"train\ts3://{BUCKET}/jira-priority/data/train/",
        f"validation\ts3://{BUCKET}/jira-priority/data/validation/",
    ]
    body = (
        boto3.client("s3", region_name=REGION)
        .get_object(Bucket=BUCKET, Key="jira-priority/data/train/train.txt")["Body"]
        .read()
    )
    assert body == train_file.read_bytes()


def test_an_occupied_channel_is_refused_and_force_replaces_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    train_file, _ = write_prepared(tmp_path)
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="jira-priority/data/train/old.txt", Body=b"__label__4 old\n")

    refused = run_tool(capsys, "upload", "--train", str(train_file))
    assert refused.code == 1
    assert "already holds 1 object(s)" in refused.err
    assert "--force" in refused.err
    assert keys() == ["jira-priority/data/train/old.txt"]

    forced = run_tool(capsys, "upload", "--train", str(train_file), "--force")
    assert forced.code == 0, forced.err
    assert keys() == ["jira-priority/data/train/train.txt"]


def test_prefix_option_moves_everything(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    train_file, _ = write_prepared(tmp_path)

    result = run_tool(capsys, "upload", "--train", str(train_file), "--prefix", "exp/2")

    assert result.code == 0, result.err
    assert keys() == ["exp/2/data/train/train.txt"]


def test_a_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run_tool(capsys, "upload", "--train", str(tmp_path / "nope.txt"))

    assert result.code == 1
    assert result.err == (
        f"upload: {tmp_path / 'nope.txt'}: no such file "
        "(run `python -m training_jobs prepare` first)\n"
    )


def test_a_missing_bucket_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    train_file, _ = write_prepared(tmp_path)

    result = run_tool(capsys, "upload", "--train", str(train_file), "--bucket", "no-such-bucket-x")

    assert result.code == 1
    assert result.err == (
        "upload: HeadBucket failed: NoSuchBucket: the bucket does not exist "
        "(create the bucket first, or pass the right --bucket)\n"
    )
