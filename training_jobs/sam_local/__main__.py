"""python -m training_jobs.sam_local invoke|start-api: the built function under `sam local`.

    invoke [EVENT ...]       one JSON line per event: {"event": ..., "statusCode": ..., ...}
    start-api --port PORT    sam local start-api on 127.0.0.1 until Ctrl-C

With ``--backend embedded`` (the default) the function serves ``--model``; with
``--backend sagemaker`` it calls ``--endpoint-url``, or the fake BlazingText
endpoint started here on the docker bridge (``--fake-endpoint-port``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from training_jobs.sam_local.local_function import (
    REPO_ROOT,
    LocalBackend,
    SamLocal,
    SamLocalError,
    event_files,
    fake_endpoint,
    invoke,
    prepare,
    sam_environment,
    stop,
)

DEFAULT_MODEL = REPO_ROOT / "artifacts" / "model" / "model.bin"


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", choices=["embedded", "sagemaker"], default="embedded")
    common.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="model.bin the embedded backend serves, and the fake endpoint answers from",
    )
    common.add_argument(
        "--endpoint-url",
        help="sagemaker backend: a stand-in endpoint as the container reaches it "
        "(e.g. http://host.docker.internal:PORT)",
    )
    common.add_argument(
        "--fake-endpoint-port",
        type=int,
        default=3001,
        help="sagemaker backend without --endpoint-url: start the fake BlazingText endpoint "
        "on the docker bridge at this port",
    )
    common.add_argument("--endpoint-name", default="jira-priority")
    common.add_argument(
        "--workdir", type=Path, help="where the function is laid out (build/sam-local/BACKEND)"
    )
    parser = argparse.ArgumentParser(
        prog="python -m training_jobs.sam_local",
        description="The built function under sam local (offline: --skip-pull-image).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("invoke", parents=[common], help="sam local invoke each event")
    run.add_argument("events", nargs="*", type=Path, help="event files or folders (events/)")
    api = commands.add_parser("start-api", parents=[common], help="sam local start-api")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=3000)
    return parser.parse_args(argv)


@contextmanager
def prepared(arguments: argparse.Namespace) -> Iterator[SamLocal]:
    """The function laid out for the chosen backend, with the fake endpoint while needed."""
    with ExitStack() as stack:
        endpoint_url = arguments.endpoint_url
        if arguments.backend == "sagemaker" and not endpoint_url:
            model = arguments.model if arguments.model.is_file() else None
            endpoint_url = stack.enter_context(fake_endpoint(model, arguments.fake_endpoint_port))
        backend = LocalBackend(
            arguments.backend,
            model=arguments.model if arguments.backend == "embedded" else None,
            endpoint_url=endpoint_url,
            endpoint_name=arguments.endpoint_name,
        )
        workdir = arguments.workdir or REPO_ROOT / "build" / "sam-local" / arguments.backend
        yield prepare(backend, workdir)


def invoke_events(sam: SamLocal, events: Sequence[Path]) -> int:
    failures = 0
    for event in event_files(events):
        try:
            answer = invoke(sam, event, log=sys.stderr)
        except SamLocalError as exc:
            print(exc, file=sys.stderr)
            failures += 1
            continue
        print(json.dumps({"event": str(event), **answer}), flush=True)
    return 1 if failures else 0


def start_api(sam: SamLocal, host: str, port: int) -> int:
    process = subprocess.Popen(sam.start_api_command(host, port), env=sam_environment())
    try:
        return process.wait()
    except KeyboardInterrupt:  # Ctrl-C reached sam too: let it stop its containers
        try:
            return process.wait(timeout=30)
        finally:
            stop(process)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        with prepared(arguments) as sam:
            if arguments.command == "invoke":
                return invoke_events(sam, arguments.events)
            return start_api(sam, arguments.host, arguments.port)
    except SamLocalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
