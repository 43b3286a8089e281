"""The function `sam build` produced, run by `sam local` with one backend or the other.

``sam local`` mounts the function's code directory at /var/task, so the
embedded model travels in a copy of that directory (hard links, so nothing is
duplicated on disk), never in .aws-sam/build itself, which `sam deploy` would
upload. The sagemaker backend calls a stand-in endpoint on the docker bridge,
which the container reaches as ``host.docker.internal``; SAM CLI's
``--docker-network host`` does not put the container on the host's loopback.
Every command gets ``--skip-pull-image``: the runtime image is built locally
(``runtime_image.sh``) and no registry is needed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[2]
SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
FUNCTION = "PredictFunction"
#: Where the function's code directory is mounted inside the container.
TASK_ROOT = "/var/task"
#: The model's folder inside the function's code directory (not an importable name).
MODEL_FOLDER = "local-model"
#: The host as the container sees it (``--add-host``).
CONTAINER_HOST = "host.docker.internal"
#: The bridge's interface (docker0 unless the engine was told otherwise).
BRIDGE_NAME_FORMAT = '{{index .Options "com.docker.network.bridge.name"}}'
#: ioctl that reads an interface's IPv4 address (linux/sockios.h).
SIOCGIFADDR = 0x8915
#: Debian's docker.io client; another docker earlier on PATH may not speak its API.
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"

BackendName = Literal["embedded", "sagemaker"]


class SamLocalError(Exception):
    """sam local could not run the function (not an error answer of the function)."""


@dataclass(frozen=True)
class LocalBackend:
    """Which predictor the function uses under sam local, and what it talks to."""

    name: BackendName
    #: embedded: the model.bin / model.ftz to serve.
    model: Path | None = None
    #: sagemaker: the stand-in endpoint, as the container reaches it.
    endpoint_url: str | None = None
    #: sagemaker: the endpoint name the function sends (and reports as its model).
    endpoint_name: str = "jira-priority"
    #: More template parameters, e.g. ModelBucket and ModelKey for a model in S3.
    parameters: Mapping[str, str] = field(default_factory=dict)
    #: A stand-in for S3 (AWS_ENDPOINT_URL_S3), as the container reaches it.
    s3_endpoint_url: str | None = None

    def __post_init__(self) -> None:
        in_s3 = {"ModelBucket", "ModelKey"} <= set(self.parameters)
        if self.name == "embedded" and self.model is None and not in_s3:
            raise SamLocalError(
                "the embedded backend needs a model file (make model), or ModelBucket and ModelKey"
            )
        if self.name == "sagemaker" and not self.endpoint_url:
            raise SamLocalError("the sagemaker backend needs an endpoint URL")


@dataclass(frozen=True)
class SamLocal:
    """The options every `sam local` command gets, for one prepared working directory."""

    workdir: Path
    options: list[str] = field(default_factory=list)

    def invoke_command(self, event: Path) -> list[str]:
        return [str(SAM), "local", "invoke", FUNCTION, "--event", str(event), *self.options]

    def start_api_command(self, host: str, port: int) -> list[str]:
        return [
            *(str(SAM), "local", "start-api", *self.options),
            *("--host", host, "--port", str(port), "--warm-containers", "EAGER"),
        ]


def sam_environment() -> dict[str, str]:
    return {**os.environ, "SAM_CLI_TELEMETRY": "0"}


def docker_bridge_address() -> str:
    """The host's address on Docker's default bridge: where a stand-in must listen."""
    try:
        result = subprocess.run(
            [DOCKER, "network", "inspect", "bridge", "--format", BRIDGE_NAME_FORMAT],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        name = result.stdout.strip() or "docker0"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            request = struct.pack("256s", name[:15].encode())
            address = socket.inet_ntoa(fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)[20:24])
    except (OSError, subprocess.SubprocessError) as exc:
        raise SamLocalError(f"cannot read Docker's bridge address: {exc}") from exc
    return address


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, target)


def prepare(backend: LocalBackend, workdir: Path) -> SamLocal:
    """Lay out ``workdir`` (built template, code, model) and the options that run it."""
    built_template = BUILD_DIR / "template.yaml"
    if not (BUILD_DIR / FUNCTION).is_dir() or not built_template.is_file():
        raise SamLocalError(f"{BUILD_DIR} has no built function: run `make build` first")
    code = workdir / FUNCTION
    shutil.rmtree(code, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(BUILD_DIR / FUNCTION, code, copy_function=_link_or_copy)
    # The built template names its code relative to itself (CodeUri: PredictFunction).
    shutil.copyfile(built_template, workdir / "template.yaml")

    parameters = {
        **backend.parameters,
        "PredictorBackend": backend.name,
        "SageMakerEndpointName": backend.endpoint_name,
    }
    # SAM CLI lets the shell's values of the declared variables override the
    # template's (a PREDICTOR_BACKEND exported in your shell would win over the
    # parameters); --env-vars wins over both, so it names every variable that
    # chooses the backend (MODEL_URI too, unless the parameters name a model in S3).
    variables = {
        "PREDICTOR_BACKEND": backend.name,
        "SAGEMAKER_ENDPOINT_NAME": backend.endpoint_name,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": backend.endpoint_url or "",
        "AWS_ENDPOINT_URL_S3": backend.s3_endpoint_url or "",
    }
    if backend.name == "sagemaker":
        variables["MODEL_URI"] = ""
    elif backend.model is not None:
        model = backend.model.resolve()
        if not model.is_file():
            raise SamLocalError(f"{backend.model} is not a model file: run `make model` first")
        (code / MODEL_FOLDER).mkdir()
        _link_or_copy(str(model), str(code / MODEL_FOLDER / model.name))
        variables["MODEL_URI"] = f"{TASK_ROOT}/{MODEL_FOLDER}/{model.name}"
    env_vars = workdir / "env-vars.json"
    env_vars.write_text(json.dumps({FUNCTION: variables}, indent=2) + "\n", encoding="utf-8")

    return SamLocal(
        workdir,
        [
            *("--template", str(workdir / "template.yaml")),
            # Otherwise looked for beside the template.
            *("--config-file", str(REPO_ROOT / "samconfig.toml")),
            "--parameter-overrides",
            " ".join(f"{name}={value}" for name, value in parameters.items()),
            *("--env-vars", str(env_vars)),
            "--skip-pull-image",
            *("--add-host", f"{CONTAINER_HOST}:host-gateway"),
        ],
    )


def invoke(sam: SamLocal, event: Path, log: IO[str] | None = None) -> dict[str, Any]:
    """One `sam local invoke`: the function's answer (statusCode, headers, body)."""
    result = subprocess.run(
        sam.invoke_command(event),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if log is None else log,
        text=True,
        env=sam_environment(),
        timeout=600,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        detail = (result.stderr or "").strip().splitlines()[-20:]
        raise SamLocalError(
            f"sam local invoke {event} exited {result.returncode}: " + "\n".join(detail)
        )
    try:
        answer: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise SamLocalError(f"sam local invoke {event} printed no answer: {lines[-1]!r}") from exc
    return answer


def wait_for_port(host: str, port: int, timeout: float, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise SamLocalError(f"{process.args!r} exited {process.returncode}") from None
            if time.monotonic() > deadline:
                raise SamLocalError(
                    f"nothing listens on {host}:{port} after {timeout:.0f} s"
                ) from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Stop a process this module started: terminate, then kill; reaped either way."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fake_endpoint(model: Path | None, port: int) -> Iterator[str]:
    """The fake BlazingText endpoint (tests/fakes) on the docker bridge; yields its URL."""
    host = docker_bridge_address()
    command = [sys.executable, "-m", "tests.fakes.blazingtext_endpoint"]
    command += ["--host", host, "--port", str(port)]
    if model is not None:
        command += ["--model", str(model)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=sys.stderr)
    try:
        wait_for_port(host, port, 60, process)
        yield f"http://{CONTAINER_HOST}:{port}"
    finally:
        stop(process)


def event_files(paths: Sequence[Path]) -> list[Path]:
    """The given event files, a folder's *.json files, or all of events/."""
    found: list[Path] = []
    for path in paths or [REPO_ROOT / "events"]:
        found += sorted(path.glob("*.json")) if path.is_dir() else [path]
    return found
