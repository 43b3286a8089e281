"""The gate compares priority schemes: a candidate that names the labels otherwise is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest
from training_jobs.modelling.packaging import package_model

from jira_priority.labels import PRIORITIES, SCHEME_FILE, custom_scheme
from jira_priority.predictors.embedded import s3_client
from tests.support.models import synthetic_lines, train_tiny_model, write_lines
from tests.support.sagemaker import BUCKET, REGION, Result, run_tool, sagemaker_client

#: The Apache names upside down: the candidate would answer Optional where live says Blocker.
REVERSED = custom_scheme("reversed", [p.value for p in reversed(PRIORITIES)])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a model directory, a held-out prepared file)."""
    model = tmp_path_factory.mktemp("model")
    train_tiny_model(model)
    held_out = write_lines(tmp_path_factory.mktemp("data") / "validation.txt", synthetic_lines())
    return model, held_out


def copy_model(source: Path, target: Path, scheme_names: bool = False) -> Path:
    target.mkdir()
    shutil.copyfile(source / "model.bin", target / "model.bin")
    if scheme_names:
        REVERSED.write(target)
    return target


def promote(capsys: pytest.CaptureFixture[str], live: Path, candidate: Path, held_out: Path,
            *options: str) -> Result:  # fmt: skip
    return run_tool(capsys, "promote", "--candidate", str(candidate), "--live", str(live),
                    "--held-out", str(held_out), *options)  # fmt: skip


def test_promote_refuses_a_candidate_whose_scheme_differs(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, Path], tmp_path: Path
) -> None:
    model, held_out = trained
    live = copy_model(model, tmp_path / "live")
    candidate = copy_model(model, tmp_path / "candidate", scheme_names=True)

    result = promote(capsys, live, candidate, held_out)

    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "priority scheme" in result.err
    assert "--allow-scheme-change" in result.err
    assert not (live / SCHEME_FILE).exists()


def test_force_is_not_enough_to_change_the_scheme(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, Path], tmp_path: Path
) -> None:
    model, held_out = trained
    live = copy_model(model, tmp_path / "live")
    candidate = copy_model(model, tmp_path / "candidate", scheme_names=True)

    result = promote(capsys, live, candidate, held_out, "--force")

    assert result.code == 1
    assert not (live / SCHEME_FILE).exists()


def test_allow_scheme_change_promotes_it_and_says_so(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, Path], tmp_path: Path
) -> None:
    model, held_out = trained
    live = copy_model(model, tmp_path / "live")
    candidate = copy_model(model, tmp_path / "candidate", scheme_names=True)

    result = promote(capsys, live, candidate, held_out, "--allow-scheme-change")

    assert result.code == 0, result.err
    assert "priority scheme" in result.err
    assert (live / SCHEME_FILE).read_text() == (candidate / SCHEME_FILE).read_text()


def test_the_same_names_under_another_scheme_name_pass(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, Path], tmp_path: Path
) -> None:
    model, held_out = trained
    live = copy_model(model, tmp_path / "live")
    candidate = copy_model(model, tmp_path / "candidate")
    custom_scheme("our-apache", [p.value for p in PRIORITIES]).write(candidate)

    result = promote(capsys, live, candidate, held_out)

    assert result.code == 0, result.err


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("gate", [[], ["--ignore-gate"]], ids=["gated", "ignore-gate"])
def test_deploy_update_refuses_a_candidate_whose_scheme_differs(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, Path], tmp_path: Path,
    gate: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    model, held_out = trained
    s3_client.cache_clear()  # the predictor's client must be made inside moto
    s3 = boto3.client("s3", region_name=REGION)
    live = copy_model(model, tmp_path / "live")
    candidate = copy_model(model, tmp_path / "candidate", scheme_names=True)
    for name, directory in (("live", live), ("candidate", candidate)):
        package_model(directory, tmp_path / f"{name}.tar.gz")
        s3.upload_file(str(tmp_path / f"{name}.tar.gz"), BUCKET, f"{name}/model.tar.gz")
    created = run_tool(
        capsys, "deploy", "--poll-seconds", "0.01", "--model-data-url",
        f"s3://{BUCKET}/live/model.tar.gz", "--endpoint-name", "jp-live",
        "--model-name", "jp-model-1", "--endpoint-config-name", "jp-config-1",
    )  # fmt: skip
    assert created.code == 0, created.err
    update = (
        "deploy", "--poll-seconds", "0.01", "--update", "--model-data-url",
        f"s3://{BUCKET}/candidate/model.tar.gz", "--endpoint-name", "jp-live",
        "--gate-data", str(held_out), *gate,
    )  # fmt: skip

    refused = run_tool(capsys, *update)
    endpoint = sagemaker_client().describe_endpoint(EndpointName="jp-live")
    deployed: list[str] = []  # moto has no UpdateEndpoint: record what would be deployed
    monkeypatch.setattr(
        "training_jobs.sagemaker.deploy.deploy", lambda _, __, url, **___: deployed.append(url)
    )
    allowed = run_tool(capsys, *update, "--allow-scheme-change")

    s3_client.cache_clear()
    assert refused.code == 1
    error = refused.err.splitlines()[-1]
    assert error.startswith("deploy: gate: the candidate answers in another priority scheme")
    assert error.endswith("--allow-scheme-change replaces it anyway")
    assert endpoint["EndpointConfigName"] == "jp-config-1"
    assert allowed.code == 0, allowed.err
    assert "(allowed by --allow-scheme-change)" in allowed.err
    assert deployed == [f"s3://{BUCKET}/candidate/model.tar.gz"]


def test_scheme_change_compares_names_and_declared_defaults_only() -> None:
    from training_jobs.evaluation.gate import scheme_change

    names = ["Low", "Normal", "High"]
    acme = custom_scheme("acme", names)

    assert scheme_change(custom_scheme("other-name", names), acme) is None
    assert scheme_change(acme.with_default("Normal"), acme) is None  # an older scheme.json
    assert "default" in (scheme_change(acme.with_default("High"), acme.with_default("Low")) or "")
    assert "instead of Low, Normal, High" in (
        scheme_change(custom_scheme("acme", names[::-1]), acme) or ""
    )
