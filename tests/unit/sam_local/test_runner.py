"""How training_jobs.sam_local lays the built function out and what it hands `sam local`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from training_jobs.sam_local import local_function
from training_jobs.sam_local.local_function import (
    FUNCTION,
    LocalBackend,
    SamLocalError,
    event_files,
    prepare,
)

from tests.support.events import EVENTS_DIR


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for .aws-sam/build: the built template and the function's code."""
    build = tmp_path / "build"
    (build / FUNCTION / "jira_priority").mkdir(parents=True)
    (build / FUNCTION / "jira_priority" / "app.py").write_text("# built\n")
    (build / "template.yaml").write_text("Resources: {}\n")
    monkeypatch.setattr(local_function, "BUILD_DIR", build)
    return build


def option(options: list[str], name: str) -> str:
    return options[options.index(name) + 1]


def env_vars(options: list[str]) -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads(Path(option(options, "--env-vars")).read_text())
    return loaded


def test_embedded_backend_carries_the_model_beside_the_code(
    build_dir: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model" / "model.bin"
    model.parent.mkdir()
    model.write_bytes(b"model")

    sam = prepare(LocalBackend("embedded", model=model), tmp_path / "work")

    assert (tmp_path / "work" / FUNCTION / "local-model" / "model.bin").read_bytes() == b"model"
    assert (tmp_path / "work" / FUNCTION / "jira_priority" / "app.py").exists()
    assert not (build_dir / FUNCTION / "local-model").exists()  # never in what sam deploy uploads
    assert env_vars(sam.options) == {
        FUNCTION: {
            "PREDICTOR_BACKEND": "embedded",
            "SAGEMAKER_ENDPOINT_NAME": "jira-priority",
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": "",
            "AWS_ENDPOINT_URL_S3": "",
            "MODEL_URI": "/var/task/local-model/model.bin",
        }
    }


def test_sagemaker_backend_calls_the_stand_in(build_dir: Path, tmp_path: Path) -> None:
    backend = LocalBackend(
        "sagemaker", endpoint_url="http://host.docker.internal:3001", endpoint_name="e1"
    )

    sam = prepare(backend, tmp_path / "work")

    assert env_vars(sam.options)[FUNCTION] == {
        "PREDICTOR_BACKEND": "sagemaker",
        "SAGEMAKER_ENDPOINT_NAME": "e1",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": "http://host.docker.internal:3001",
        "AWS_ENDPOINT_URL_S3": "",
        "MODEL_URI": "",
    }
    assert option(sam.options, "--parameter-overrides") == (
        "PredictorBackend=sagemaker SageMakerEndpointName=e1"
    )


def test_every_command_runs_offline_and_reaches_the_host(build_dir: Path, tmp_path: Path) -> None:
    sam = prepare(LocalBackend("sagemaker", endpoint_url="http://x:1"), tmp_path / "work")

    command = sam.start_api_command("127.0.0.1", 3000)

    assert "--skip-pull-image" in command
    assert option(command, "--add-host") == "host.docker.internal:host-gateway"
    assert option(command, "--template") == str(tmp_path / "work" / "template.yaml")
    assert option(command, "--host") == "127.0.0.1"
    assert option(command, "--warm-containers") == "EAGER"


def test_a_missing_build_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_function, "BUILD_DIR", tmp_path / "nothing")

    with pytest.raises(SamLocalError, match="make build"):
        prepare(LocalBackend("sagemaker", endpoint_url="http://x:1"), tmp_path / "work")


def test_embedded_backend_needs_a_model() -> None:
    with pytest.raises(SamLocalError, match="make model"):
        LocalBackend("embedded")


def test_no_event_given_means_all_of_events() -> None:
    assert event_files([]) == sorted(EVENTS_DIR.glob("*.json"))
