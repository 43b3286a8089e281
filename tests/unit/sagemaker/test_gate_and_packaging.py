"""Packaging a local model for an endpoint, and the gate before a model goes live."""

from __future__ import annotations

import math
import random
import tarfile
from pathlib import Path

import boto3
import pytest
from training_jobs.cli import main
from training_jobs.modelling.packaging import package_model

from jira_priority.labels import LABELS
from jira_priority.model_files import ModelFileError
from jira_priority.postprocessing import FILE_NAME, PostProcessing
from jira_priority.predictors.embedded import s3_client
from tests.support.damaged import postprocessing_text
from tests.support.models import synthetic_lines, train_tiny_model, write_lines
from tests.support.sagemaker import BUCKET, REGION, run_tool, sagemaker_client


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(good model dir, bad model dir, held-out prepared file)."""
    good = tmp_path_factory.mktemp("good")
    train_tiny_model(good)
    bad = tmp_path_factory.mktemp("bad")
    lines = synthetic_lines()
    labels = [line.split(" ", 1)[0] for line in lines]
    random.Random(0).shuffle(labels)  # the bad model learns noise
    texts = [line.split(" ", 1)[1] for line in lines]
    train_tiny_model(bad, [f"{lab} {text}" for lab, text in zip(labels, texts, strict=True)])
    data = tmp_path_factory.mktemp("data")
    held_out = write_lines(data / "validation.txt", synthetic_lines(20, 9))
    return good, bad, held_out


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_package_puts_model_bin_and_its_sidecar_at_the_archive_root(
    model_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "model.bin").write_bytes(model_path.read_bytes())
    (tmp_path / FILE_NAME).write_text(postprocessing_text(LABELS[1:]), encoding="utf-8")
    (tmp_path / "training.json").write_text("{}", encoding="utf-8")

    members = package_model(tmp_path, tmp_path / "out" / "model.tar.gz")

    assert members == ["model.bin", FILE_NAME]
    with tarfile.open(tmp_path / "out" / "model.tar.gz") as tar:
        assert sorted(tar.getnames()) == sorted(["model.bin", FILE_NAME])


def test_package_refuses_a_quantised_model(tmp_path: Path) -> None:
    (tmp_path / "model.ftz").write_bytes(b"model")

    with pytest.raises(ModelFileError, match=r"model\.bin only"):
        package_model(tmp_path / "model.ftz", tmp_path / "model.tar.gz")


@pytest.mark.usefixtures("aws_env")
def test_package_uploads_the_archive(
    capsys: pytest.CaptureFixture[str], models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, _, _ = models

    code, out, err = cli(
        capsys, "package", "--model", str(good), "--output", str(tmp_path / "m.tar.gz"),
        "--upload", f"s3://{BUCKET}/models/",
    )  # fmt: skip

    assert code == 0, err
    assert out == f"s3://{BUCKET}/models/model.tar.gz\n"
    body = (
        boto3.client("s3", region_name=REGION)
        .get_object(Bucket=BUCKET, Key="models/model.tar.gz")["Body"]
        .read()
    )
    assert body == (tmp_path / "m.tar.gz").read_bytes()


def test_promote_refuses_a_worse_candidate_and_keeps_the_live_model(
    capsys: pytest.CaptureFixture[str], models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, bad, held_out = models
    live = tmp_path / "live"
    live.mkdir()
    (live / "model.bin").write_bytes((good / "model.bin").read_bytes())

    code, _, err = cli(
        capsys, "promote", "--candidate", str(bad), "--live", str(live), "--held-out", str(held_out)
    )

    assert code == 1
    assert "the candidate is worse" in err
    assert (live / "model.bin").read_bytes() == (good / "model.bin").read_bytes()

    code, _, err = cli(
        capsys, "promote", "--candidate", str(bad), "--live", str(live),
        "--held-out", str(held_out), "--force",
    )  # fmt: skip

    assert code == 0, err
    assert (live / "model.bin").read_bytes() == (bad / "model.bin").read_bytes()


def test_promote_accepts_a_better_candidate(
    capsys: pytest.CaptureFixture[str], models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, bad, held_out = models
    live = tmp_path / "live"
    live.mkdir()
    (live / "model.bin").write_bytes((bad / "model.bin").read_bytes())
    neutral = PostProcessing(LABELS[1:], (math.log(0.2),) * 5, 0.0, 1.0)
    (live / FILE_NAME).write_text(neutral.to_json(), encoding="utf-8")

    code, _, err = cli(
        capsys,
        "promote",
        "--candidate",
        str(good),
        "--live",
        str(live),
        "--held-out",
        str(held_out),
    )

    assert code == 0, err
    assert "the candidate passes" in err
    assert (live / "model.bin").read_bytes() == (good / "model.bin").read_bytes()
    assert not (live / FILE_NAME).exists()  # the old model's post-processing went with it


@pytest.mark.usefixtures("aws_env")
def test_deploy_update_refuses_a_candidate_worse_than_the_live_model(
    capsys: pytest.CaptureFixture[str], models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, bad, held_out = models
    s3_client.cache_clear()  # the predictor's client must be made inside moto
    s3 = boto3.client("s3", region_name=REGION)
    for name, directory in (("live", good), ("candidate", bad)):
        package_model(directory, tmp_path / f"{name}.tar.gz")
        s3.upload_file(str(tmp_path / f"{name}.tar.gz"), BUCKET, f"{name}/model.tar.gz")
    created = run_tool(
        capsys, "deploy", "--poll-seconds", "0.01", "--model-data-url",
        f"s3://{BUCKET}/live/model.tar.gz", "--endpoint-name", "jp-live",
        "--model-name", "jp-model-1", "--endpoint-config-name", "jp-config-1",
    )  # fmt: skip
    assert created.code == 0, created.err

    refused = run_tool(
        capsys, "deploy", "--poll-seconds", "0.01", "--update", "--model-data-url",
        f"s3://{BUCKET}/candidate/model.tar.gz", "--endpoint-name", "jp-live",
        "--gate-data", str(held_out),
    )  # fmt: skip

    s3_client.cache_clear()
    assert refused.code == 1
    assert "gate: candidate macro-F1" in refused.err
    assert "--ignore-gate" in refused.err
    endpoint = sagemaker_client().describe_endpoint(EndpointName="jp-live")
    assert endpoint["EndpointConfigName"] == "jp-config-1"
    assert [m["ModelName"] for m in sagemaker_client().list_models()["Models"]] == ["jp-model-1"]


def test_calibrate_fits_postprocessing_for_a_model_without_one(
    capsys: pytest.CaptureFixture[str], models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, _, held_out = models
    package_model(good, tmp_path / "job-output.tar.gz")  # like a training job's artifact

    code, out, err = cli(
        capsys, "calibrate", "--model", str(tmp_path / "job-output.tar.gz"),
        "--data", str(held_out), "--output-dir", str(tmp_path / "calibrated"),
    )  # fmt: skip

    assert code == 0, err
    assert out == f"{tmp_path / 'calibrated' / FILE_NAME}\n"
    fitted = PostProcessing.from_json((tmp_path / "calibrated" / FILE_NAME).read_bytes())
    assert set(fitted.labels) == set(LABELS[1:])
    assert (tmp_path / "calibrated" / "model.bin").read_bytes() == (good / "model.bin").read_bytes()


# --- package: only regular files go in, the model and its sidecars checked (issue 18) ----


def archive_members(archive: Path) -> dict[str, tuple[bool, bytes]]:
    """Each member's name -> (is it a regular file, its bytes)."""
    with tarfile.open(archive) as tar:
        found = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            found[member.name] = (member.isfile(), handle.read() if handle else b"")
        return found


def test_package_writes_the_file_a_linked_model_bin_points_to(
    capsys: pytest.CaptureFixture[str], model_path: Path, tmp_path: Path
) -> None:
    # A model directory whose model.bin links to a trained model elsewhere (a run directory)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.bin").symlink_to(model_path)
    fitted = tmp_path / "fitted.json"
    fitted.write_text(postprocessing_text(LABELS[1:]), encoding="utf-8")
    (model_dir / FILE_NAME).symlink_to(fitted)
    output = tmp_path / "out" / "model.tar.gz"

    code, out, err = cli(capsys, "package", "--model", str(model_dir), "--output", str(output))

    assert code == 0, err
    assert out == f"{output}\n"
    assert archive_members(output) == {
        "model.bin": (True, model_path.read_bytes()),
        FILE_NAME: (True, fitted.read_bytes()),
    }


@pytest.mark.parametrize("linked", ["model.bin", FILE_NAME])
def test_package_refuses_a_dangling_link_in_one_line(
    linked: str, capsys: pytest.CaptureFixture[str], model_path: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    if linked != "model.bin":
        (model_dir / "model.bin").write_bytes(model_path.read_bytes())
    (model_dir / linked).symlink_to(tmp_path / "moved-away")
    output = tmp_path / "model.tar.gz"

    code, out, err = cli(capsys, "package", "--model", str(model_dir), "--output", str(output))

    assert code == 1
    assert out == ""
    assert err.startswith("package: ")
    assert linked in err
    assert err.count("\n") == 1
    assert not output.exists()


def test_package_refuses_a_postprocessing_json_that_does_not_fit_the_model(
    capsys: pytest.CaptureFixture[str], model_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "model.bin").write_bytes(model_path.read_bytes())
    (tmp_path / FILE_NAME).write_text(postprocessing_text(LABELS), encoding="utf-8")
    output = tmp_path / "out" / "model.tar.gz"

    code, _, err = cli(capsys, "package", "--model", str(tmp_path), "--output", str(output))

    assert code == 1
    assert err == (
        f"package: {FILE_NAME} does not fit the model: it has __label__1, which the model lacks\n"
    )
    assert not output.exists()
