"""The function that `sam build` produced, run by the Lambda Runtime Interface Emulator.

This is what `sam local invoke` does inside its container: the RIE binary that
ships in the aws-sam-cli wheel runs awslambdaric with the built code directory
(.aws-sam/build/PredictFunction, with the wheels sam build packaged) on its
path. No Docker engine is needed. The function calls a fake BlazingText
endpoint on 127.0.0.1 that answers from a real fastText model.

The emulator's Python sees only what the Lambda runtime would: the build
directory, then the runtime (awslambdaric and what it requires, copied from the
dev venv into a directory of their own, as the managed runtime keeps them apart
from /var/task). It runs with ``-S``, so nothing in the dev venv's
site-packages can stand in for a package ``sam build`` failed to bundle.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fasttext
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from jira_priority.labels import priority_from_label
from jira_priority.schemas import PredictRequest
from jira_priority.text import normalise_ticket
from tests.fakes.blazingtext_endpoint import (
    FakeEndpoint,
    answers_from_model,
    running_fake_endpoint,
)
from tests.integration.processes import free_port, stop_process
from tests.support.events import REPO_ROOT, load_event
from tests.support.models import train_tiny_model

pytestmark = pytest.mark.integration

BUILD_DIR = REPO_ROOT / ".aws-sam" / "build" / "PredictFunction"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
#: What the Lambda Python runtime brings itself; everything else must come from the build.
RUNTIME_DISTRIBUTION = "awslambdaric"
#: Words that make a batch of distinct tickets (25, the largest batch).
MODEL_WORDS = [
    "namenode",
    "datanode",
    "broker",
    "consumer",
    "producer",
    "scheduler",
    "resourcemanager",
    "nodemanager",
    "regionserver",
    "master",
    "worker",
    "client",
    "server",
    "gateway",
    "proxy",
    "cache",
    "index",
    "parser",
    "compiler",
    "planner",
    "optimizer",
    "executor",
    "driver",
    "connector",
    "replicator",
]


def emulator_binary() -> Path:
    arch = "arm64" if platform.machine() in {"aarch64", "arm64"} else "x86_64"
    found = sorted(
        REPO_ROOT.glob(
            f".venv-sam/lib/python*/site-packages/samcli/local/rapid/aws-lambda-rie-{arch}"
        )
    )
    if not found:
        pytest.fail("aws-lambda-rie not found in .venv-sam: run `make install`")
    return found[0]


def runtime_distributions() -> list[importlib.metadata.Distribution]:
    """awslambdaric and, transitively, the distributions it requires (none optional)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [RUNTIME_DISTRIBUTION]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in found:
            continue
        found[name] = distribution = importlib.metadata.distribution(name)
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return list(found.values())


def copy_runtime(destination: Path) -> Path:
    """The files the runtime distributions' RECORDs list (code only), copied to ``destination``."""
    for distribution in runtime_distributions():
        for file in distribution.files or []:
            parts = file.parts
            if (
                ".." in parts
                or parts[0].endswith(".dist-info")
                or "__pycache__" in parts
                or "tests" in parts[1:-1]
            ):
                continue
            target = destination.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(str(distribution.locate_file(file))), target)
    return destination


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """awslambdaric and what it imports, and nothing else from the dev venv."""
    return copy_runtime(tmp_path_factory.mktemp("lambda-runtime"))


def runtime_environment(runtime_dir: Path) -> dict[str, str]:
    """The environment of the function's Python: the build first, then the runtime."""
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(BUILD_DIR), str(runtime_dir)]),
        "LAMBDA_TASK_ROOT": str(BUILD_DIR),
    }


#: The function's interpreter: no site-packages (``-S``), so only PYTHONPATH and the stdlib.
PYTHON = [sys.executable, "-S"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def model(model_path: Path) -> Any:
    """The model as the training tools (fasttext-community) see it."""
    return fasttext.load_model(str(model_path))


@pytest.fixture(scope="module")
def fasttext_endpoint(model: Any) -> Iterator[FakeEndpoint]:
    with running_fake_endpoint(answers_from_model(model)) as endpoint:
        yield endpoint


def require_build() -> None:
    if not (BUILD_DIR / "jira_priority" / "app.py").exists():
        pytest.fail(f"{BUILD_DIR} is missing: run `make build` (sam build) first")


@contextmanager
def running_emulator(runtime_dir: Path, function_env: dict[str, str]) -> Iterator[str]:
    """The built function under the RIE on 127.0.0.1; yields its invocation URL."""
    require_build()
    port = free_port()
    env = {
        **runtime_environment(runtime_dir),
        "AWS_LAMBDA_FUNCTION_NAME": "PredictFunction",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "25",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "jira-priority",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
        "POWERTOOLS_TRACE_DISABLED": "1",
        **function_env,
    }
    command = [
        str(emulator_binary()),
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{port}",
        "--runtime-api-address",
        f"127.0.0.1:{free_port()}",
        *PYTHON,
        "-m",
        "awslambdaric",
        "jira_priority.app.lambda_handler",
    ]
    process = subprocess.Popen(
        command, cwd=BUILD_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the Lambda Runtime Interface Emulator did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}{INVOKE_PATH}"
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def emulator(runtime_dir: Path, fasttext_endpoint: FakeEndpoint) -> Iterator[str]:
    """The built function with the sagemaker backend, calling the fake endpoint."""
    with running_emulator(
        runtime_dir,
        {
            "PREDICTOR_BACKEND": "sagemaker",
            "SAGEMAKER_ENDPOINT_NAME": "jira-priority",
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": fasttext_endpoint.url,
        },
    ) as url:
        yield url


@pytest.fixture(scope="module")
def embedded_emulator(runtime_dir: Path, model_path: Path) -> Iterator[str]:
    """The built function with the embedded backend: fasttext-predict from the zip."""
    with running_emulator(
        runtime_dir, {"PREDICTOR_BACKEND": "embedded", "MODEL_URI": str(model_path)}
    ) as url:
        yield url


def invoke(url: str, event: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


def test_built_function_answers_from_the_model(emulator: str, model: Any) -> None:
    event = load_event("predict-title-description")
    ticket = json.loads(event["body"])
    (label,), (probability,) = model.predict(
        normalise_ticket(ticket["title"], ticket["description"])
    )

    result = invoke(emulator, event)

    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert body["label"] == label
    assert body["priority"] == priority_from_label(label).value
    assert body["probability"] == pytest.approx(probability, abs=1e-6)
    assert body["model"] == "jira-priority"


def test_built_function_answers_a_batch(emulator: str) -> None:
    result = invoke(emulator, load_event("predict-batch"))

    assert result["statusCode"] == 200
    predictions = json.loads(result["body"])["predictions"]
    assert len(predictions) == 3
    assert all(len(p["ranking"]) == 2 for p in predictions)


def test_the_function_python_sees_only_the_build_and_the_runtime(runtime_dir: Path) -> None:
    """What the dev venv has but neither the build nor the runtime does cannot be imported."""
    require_build()
    probe = (
        "import importlib.util, json, sys; "
        "print(json.dumps({'path': sys.path, 'pytest': importlib.util.find_spec('pytest') "
        "is not None, 'awslambdaric': importlib.util.find_spec('awslambdaric') is not None}))"
    )
    result = subprocess.run(
        [*PYTHON, "-c", probe],
        cwd=BUILD_DIR,
        env=runtime_environment(runtime_dir),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    seen = json.loads(result.stdout)

    assert not [entry for entry in seen["path"] if "site-packages" in entry]
    assert seen["pytest"] is False
    assert seen["awslambdaric"] is True
    # nothing sam build provides (both hold bytecode of their own top-level modules)
    copied = {path.name for path in runtime_dir.iterdir()} - {"__pycache__"}
    assert not copied & {path.name for path in BUILD_DIR.iterdir()}


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("invalid-json", 400, "invalid_request"),
        ("invalid-content-type", 415, "unsupported_media_type"),
        ("invalid-body-too-large", 413, "payload_too_large"),
    ],
)
def test_built_function_refuses_bad_input(emulator: str, name: str, status: int, code: str) -> None:
    result = invoke(emulator, load_event(name))

    assert result["statusCode"] == status
    body = json.loads(result["body"])
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_built_function_reports_sagemaker_health(emulator: str) -> None:
    result = invoke(emulator, load_event("health"))

    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert (body["status"], body["backend"], body["ready"]) == ("ok", "sagemaker", True)


def test_built_function_serves_the_model_in_process(embedded_emulator: str, model: Any) -> None:
    """A model trained by fasttext-community, served by the zip's fasttext-predict build."""
    event = load_event("predict-top-k")
    ticket = json.loads(event["body"])
    labels, probabilities = model.predict(
        normalise_ticket(ticket["title"], ticket["description"]), k=ticket["k"]
    )

    result = invoke(embedded_emulator, event)

    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert [r["priority"] for r in body["ranking"]] == [
        priority_from_label(label).value for label in labels
    ]
    assert [r["probability"] for r in body["ranking"]] == pytest.approx(
        [float(p) for p in probabilities], abs=1e-5
    )
    assert body["model"].startswith("model.bin@sha256:")


def test_built_function_answers_a_batch_like_the_training_build(
    embedded_emulator: str, model: Any
) -> None:
    """The zip's fasttext-predict-v2 and fasttext-community give the same answers, batch too."""
    texts = [f"{word} fails with a NullPointerException on restart" for word in MODEL_WORDS]
    event = load_event("predict-text")
    event["body"] = json.dumps({"tickets": [{"text": text} for text in texts], "k": 3})
    tickets = PredictRequest.model_validate_json(event["body"]).all_tickets()

    result = invoke(embedded_emulator, event)

    assert result["statusCode"] == 200
    predictions = json.loads(result["body"])["predictions"]
    assert len(predictions) == len(texts)
    for ticket, prediction in zip(tickets, predictions, strict=True):
        labels, probabilities = model.predict(normalise_ticket(*ticket.parts()), k=3)
        assert [r["priority"] for r in prediction["ranking"]] == [
            priority_from_label(label).value for label in labels
        ]
        assert [r["probability"] for r in prediction["ranking"]] == pytest.approx(
            [float(p) for p in probabilities], abs=1e-5
        )


def test_built_function_reports_embedded_health(embedded_emulator: str) -> None:
    result = invoke(embedded_emulator, load_event("health"))

    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert (body["backend"], body["ready"]) == ("embedded", True)
