"""`sam local invoke` and `sam local start-api` for real: the built function in a container.

Needs a container engine. The test starts dockerd itself when it is installed
and not running (and stops that dockerd, by its pid, at the end), builds the
Lambda runtime image when it is missing (training_jobs/sam_local/runtime_image.sh),
and runs every file in events/ through `sam local invoke` with both backends:
- sagemaker: the function calls the fake BlazingText endpoint, listening on the
  docker bridge, which answers what tests/support/event_expectations.py says; the
  answers must be exactly the ones test_events.py asserts in-process;
- embedded: a tiny fastText model travels with the code; the answers must be
  the in-process handler's answers with the same model.
Where no engine can run it is skipped saying why, except under CI=true, where
it fails: CI must run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

import boto3
import pytest
from training_jobs.sam_local.local_function import (
    LocalBackend,
    SamLocal,
    SamLocalError,
    docker_bridge_address,
    invoke,
    prepare,
    sam_environment,
    wait_for_port,
)

from jira_priority import app as handler
from jira_priority.predictors.embedded import EmbeddedPredictor
from tests.fakes.blazingtext_endpoint import FakeEndpoint, running_fake_endpoint
from tests.integration.processes import free_port, stop_process
from tests.support.event_expectations import HEALTH, PREDICTIONS, REFUSALS
from tests.support.events import EVENTS_DIR, REPO_ROOT, TEST_ENDPOINT, event_names, load_event
from tests.support.models import train_tiny_model

pytestmark = pytest.mark.integration

RUNTIME_IMAGE = REPO_ROOT / "training_jobs" / "sam_local" / "runtime_image.sh"
IN_CI = os.environ.get("CI", "").lower() == "true"


def cannot_run(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run the sam local tests, but {reason}")
    pytest.skip(f"sam local needs a container engine: {reason}")


def run_image_script(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUNTIME_IMAGE), command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def stop_dockerd(pid: int, timeout: float = 60) -> None:
    """Stop the dockerd this module started (not our child: it was started detached)."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def engine() -> Iterator[None]:
    """A running container engine: the one there is, or a dockerd started (and stopped) here."""
    # The script says why when it cannot: not installed, not root, did not come up.
    result = run_image_script("engine", timeout=60)
    if result.returncode != 0:
        cannot_run(result.stderr.strip() or "dockerd did not start")
    started = int(result.stdout) if result.stdout.strip() else None
    try:
        yield
    finally:
        if started is not None:
            stop_dockerd(started)


@pytest.fixture(scope="module")
def runtime_image(engine: None) -> None:
    """The image for template.yaml's Runtime, built unless it exists (a few minutes)."""
    result = run_image_script("image", timeout=1200)
    if result.returncode != 0:
        pytest.fail(f"the Lambda runtime image could not be built:\n{result.stderr[-3000:]}")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def fake_endpoint(engine: None) -> Iterator[FakeEndpoint]:
    """The fake endpoint on the docker bridge, which the container reaches (not 127.0.0.1)."""
    with running_fake_endpoint(host=docker_bridge_address()) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def sagemaker_function(
    runtime_image: None, fake_endpoint: FakeEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> SamLocal:
    port = fake_endpoint.url.rsplit(":", 1)[1]
    backend = LocalBackend(
        "sagemaker",
        endpoint_url=f"http://host.docker.internal:{port}",
        endpoint_name=TEST_ENDPOINT,
    )
    return prepare(backend, tmp_path_factory.mktemp("sam-local-sagemaker"))


@pytest.fixture(scope="module")
def embedded_function(
    runtime_image: None, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> SamLocal:
    return prepare(LocalBackend("embedded", model=model_path), tmp_path_factory.mktemp("sam-local"))


def sam_invoke(function: SamLocal, name: str) -> tuple[int, Any, dict[str, list[str]]]:
    try:
        answer = invoke(function, EVENTS_DIR / f"{name}.json")
    except SamLocalError as exc:
        pytest.fail(str(exc))
    return answer["statusCode"], json.loads(answer["body"]), answer["multiValueHeaders"]


def answer_with(endpoint: FakeEndpoint, answer: list[dict[str, Any]]) -> None:
    def queued(texts: Sequence[str], k: int) -> list[dict[str, Any]]:
        return answer

    endpoint.answer = queued


def test_every_event_file_is_invoked() -> None:
    """The parametrised tests below cover events/ whole; a new file needs its expectation."""
    assert set(event_names()) == set(PREDICTIONS) | set(REFUSALS) | {"health"}


@pytest.mark.parametrize("name", sorted(PREDICTIONS))
def test_sagemaker_backend_predicts_each_event(
    name: str, sagemaker_function: SamLocal, fake_endpoint: FakeEndpoint
) -> None:
    endpoint_answer, expected = PREDICTIONS[name]
    answer_with(fake_endpoint, endpoint_answer)

    status, body, headers = sam_invoke(sagemaker_function, name)

    assert (status, body) == (HTTPStatus.OK, expected)
    assert headers["Content-Type"] == ["application/json"]


@pytest.mark.parametrize("name", sorted(REFUSALS))
@pytest.mark.parametrize("backend", ["sagemaker", "embedded"])
def test_both_backends_refuse_each_bad_event(
    name: str, backend: str, request: pytest.FixtureRequest
) -> None:
    function: SamLocal = request.getfixturevalue(f"{backend}_function")

    status, body, headers = sam_invoke(function, name)

    assert (status, body) == REFUSALS[name]
    assert headers["Content-Type"] == ["application/json"]


def test_sagemaker_backend_reports_its_health(sagemaker_function: SamLocal) -> None:
    assert sam_invoke(sagemaker_function, "health")[:2] == (HTTPStatus.OK, HEALTH)


def in_process_answer(
    name: str, model_path: Path, monkeypatch: pytest.MonkeyPatch, context: Any
) -> tuple[int, Any]:
    """lambda_handler in this process, with the embedded predictor on the same model file."""
    monkeypatch.setattr(handler.classifier, "predictor", EmbeddedPredictor(str(model_path)))
    response = handler.lambda_handler(load_event(name), context)
    return response["statusCode"], json.loads(response["body"])


def close(actual: Any, expected: Any) -> bool:
    """Equal, with probabilities within 1e-5: fasttext-predict in the container, fastText here."""
    if isinstance(expected, float):
        return isinstance(actual, float) and abs(actual - expected) <= 1e-5
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(close(actual[key], value) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(close(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


@pytest.mark.parametrize("name", [*sorted(PREDICTIONS), "health"])
def test_embedded_backend_answers_like_the_handler_in_process(
    name: str,
    embedded_function: SamLocal,
    model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
) -> None:
    expected_status, expected_body = in_process_answer(
        name, model_path, monkeypatch, lambda_context
    )

    status, body, _ = sam_invoke(embedded_function, name)

    assert status == expected_status == HTTPStatus.OK
    assert close(body, expected_body), (body, expected_body)


@pytest.fixture(scope="module")
def moto_s3(engine: None, model_path: Path) -> Iterator[str]:
    """moto_server on the docker bridge, holding the model as s3://models/jira/model.bin."""
    host, port = docker_bridge_address(), free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(host, port, 30, server)
        s3 = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1")
        s3.create_bucket(Bucket="models")
        s3.upload_file(str(model_path), "models", "jira/model.bin")
        yield f"http://host.docker.internal:{port}"
    finally:
        stop_process(server)


def test_embedded_backend_loads_the_model_the_parameters_name_from_s3(
    runtime_image: None,
    moto_s3: str,
    model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: Any,
) -> None:
    """--parameter-overrides PredictorBackend=embedded ModelBucket=... ModelKey=..., as deployed."""
    backend = LocalBackend(
        "embedded",
        parameters={"ModelBucket": "models", "ModelKey": "jira/model.bin"},
        s3_endpoint_url=moto_s3,
    )
    function = prepare(backend, tmp_path_factory.mktemp("sam-local-s3"))
    expected_status, expected_body = in_process_answer(
        "predict-top-k", model_path, monkeypatch, lambda_context
    )

    status, body, _ = sam_invoke(function, "predict-top-k")

    assert status == expected_status == HTTPStatus.OK
    assert close(body, expected_body), (body, expected_body)


@pytest.fixture(scope="module")
def start_api(embedded_function: SamLocal) -> Iterator[str]:
    """sam local start-api on 127.0.0.1 (warm containers), stopped by its pid."""
    port = free_port()
    process = subprocess.Popen(
        embedded_function.start_api_command("127.0.0.1", port),
        env=sam_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        try:
            wait_for_port("127.0.0.1", port, 180, process)
        except SamLocalError as exc:
            pytest.fail(f"sam local start-api did not start: {exc}")
        yield f"http://127.0.0.1:{port}"
    finally:
        # sam stops its warm containers on SIGTERM (and on Ctrl-C's SIGINT, which a
        # process started in the background by a non-interactive shell ignores).
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_start_api_answers_health(start_api: str) -> None:
    status, body = http(f"{start_api}/health")

    assert status == HTTPStatus.OK
    assert (body["status"], body["backend"], body["ready"]) == ("ok", "embedded", True)


def test_start_api_predicts_a_ticket(start_api: str, model_path: Path) -> None:
    ticket = {"title": "Broker crash", "description": "outage after upgrade, dataloss"}

    status, body = http(
        f"{start_api}/predict",
        data=json.dumps(ticket).encode(),
        headers={"Content-Type": "application/json"},
    )

    assert status == HTTPStatus.OK
    assert body["priority"] == "Blocker"  # the tiny model's Blocker words
    assert body["model"].startswith(f"{model_path.name}@sha256:")


def test_start_api_refuses_bad_json_in_the_error_shape(start_api: str) -> None:
    status, body = http(
        f"{start_api}/predict", data=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert (status, body) == REFUSALS["invalid-json"]
