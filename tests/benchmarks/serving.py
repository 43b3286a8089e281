"""What serving costs: our function against the tutorial's bare Lambda, in one run.

Four functions answer the same requests through the same local BlazingText
stand-in (tests/fakes/blazingtext_endpoint.py, answering from the default model):

  tutorial    tests/benchmarks/tutorial_lambda.py: boto3, one client, invoke_endpoint
  sagemaker   ours as template.yaml deploys it (PREDICTOR_BACKEND=sagemaker)
  embedded    ours with the default model in-process (PREDICTOR_BACKEND=embedded)
  TraceAwsCalls  sagemaker again with the X-Ray SDK's subsegment for each AWS call
              (template parameter TraceAwsCalls=true), to show what they cost

Each runs from the directory `sam build` produced (the code and wheels of the
zip, the tutorial with the same boto3), in a fresh interpreter per cold sample,
with the environment Lambda gives a function with active tracing: powertools
sees a Lambda, the X-Ray SDK (when asked for) sends its segments over UDP to a
listener here, logs at INFO and metrics go to stdout (here /dev/null), and no
bytecode is written, so only what the zip ships is cached.

  cold start   fresh interpreter -> import the handler module (settings, client)
               -> the first answer to one ticket; median over the interpreters
  warm         then, in the same interpreter, after 20 warm-up requests, --warm-runs
               requests of one ticket and of a batch of 25, alternating, in rounds
               of 10 taken in turn by the functions; p50 / p99 over all
               interpreters of the function

The interpreters alternate between the functions (--runs of each) so that noise
on this shared machine hits all alike; the ratios are the figures to quote.

    make bench-serving   (or: .venv/bin/python -m tests.benchmarks.serving)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.fakes.blazingtext_endpoint import running_fake_endpoint
from tests.support.events import FakeLambdaContext, load_event

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build" / "PredictFunction"
BENCHMARKS_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL = REPO_ROOT / "artifacts" / "model" / "model.bin"
DEFAULT_TICKETS = REPO_ROOT / "build" / "data" / "validation.txt"
BATCH_SIZE = 25
WARM_UP = 20
ROUND = 10
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a9{:08x};Parent=53995c3f42cd8ad8;Sampled=1"

#: Runs in the fresh interpreter: argv = handler module, spec file, result file.
CHILD = """
import time
started = time.perf_counter()
import importlib, json, os, sys
spec = json.load(open(sys.argv[2]))
handler = importlib.import_module(sys.argv[1]).lambda_handler
remaining = {"get_remaining_time_in_millis": lambda self: 25_000}
context = type("Context", (), spec["context"] | remaining)()

def invoke(event, number):
    # awslambdaric sets the trace header of each invocation in the environment
    os.environ["_X_AMZN_TRACE_ID"] = spec["trace_header"].format(number)
    context.aws_request_id = f"00000000-0000-4000-8000-{number:012d}"
    answer = handler(event, context)
    assert answer["statusCode"] == 200, answer
    return answer

def emit(result):  # stdout carries the function's logs, as in Lambda
    print("RESULT", json.dumps(result), file=sys.stderr, flush=True)

invoke(spec["single"][0], 0)
emit({"cold": time.perf_counter() - started})
number = 1
for line in sys.stdin:  # one round: N requests of each kind, alternating
    result = {"single": [], "batch": []}
    for _ in range(int(line)):
        for kind in ("single", "batch"):
            events = spec[kind]
            began = time.perf_counter()
            invoke(events[number % len(events)], number)
            result[kind].append(time.perf_counter() - began)
            number += 1
    emit(result)
"""

LOAD_MODEL = """
import sys, time
started = time.perf_counter()
import fasttext
fasttext.load_model(sys.argv[1])
print(time.perf_counter() - started)
"""


class XRayListener:
    """Counts the segment documents the X-Ray SDK sends (what the daemon would receive)."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        self.documents: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self.socket.recv(65_535)
            except TimeoutError:
                continue
            _header, _, document = packet.partition(b"\n")
            self.documents.append(json.loads(document))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


def lambda_environment(
    variant: str, endpoint_url: str, model: Path, xray: str, code_dir: Path
) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        # Interpreters run without site-packages (-S), as Lambda's sys.path holds the
        # function's code and the runtime's packages only. The tutorial ships no boto3:
        # it runs on the runtime's full copy (here this environment's, the same version
        # as the zip's); ours on the zip's, slimmed by `make build`.
        "PYTHONPATH": os.pathsep.join([str(BENCHMARKS_DIR), sysconfig.get_paths()["purelib"]])
        if variant == "tutorial"
        else str(code_dir),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only: only shipped bytecode counts
        # what Lambda sets, so that powertools and the X-Ray SDK behave as deployed
        "AWS_LAMBDA_FUNCTION_NAME": "jira-priority-predict",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_XRAY_DAEMON_ADDRESS": xray,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": TRACE_HEADER.format(0),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_SESSION_TOKEN": "benchmark",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint_url,
        # template.yaml's Globals and the function's own variables
        "POWERTOOLS_SERVICE_NAME": "jira-priority",
        "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "PYDANTIC_DISABLE_PLUGINS": "true",
        "SAGEMAKER_ENDPOINT_NAME": "jira-priority",
    }
    if variant == "embedded":
        env |= {"PREDICTOR_BACKEND": "embedded", "MODEL_URI": str(model)}
    else:
        env["PREDICTOR_BACKEND"] = "sagemaker"
    if variant == "sagemaker-x-ray":  # what the X-Ray SDK's subsegments would cost
        env["TRACE_AWS_CALLS"] = "true"
    return env


def requests_for(variant: str, texts: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The single-ticket and batch events each function is sent (the same texts)."""
    base = load_event("predict-text")
    singles, batches = [], []
    for start in range(0, len(texts) - BATCH_SIZE, BATCH_SIZE):
        chunk = texts[start : start + BATCH_SIZE]
        if variant == "tutorial":  # the tutorial's clients send the bare text
            single_body, batch_body = chunk[0], json.dumps(list(chunk))
        else:
            single_body = json.dumps({"text": chunk[0]})
            batch_body = json.dumps({"tickets": [{"text": text} for text in chunk]})
        singles.append(dict(base, body=single_body))
        batches.append(dict(base, body=batch_body))
    return {"single": singles, "batch": batches}


class Function:
    """One fresh interpreter running a function: its cold start, then rounds of warm requests."""

    def __init__(self, variant: str, env: dict[str, str], spec_path: Path) -> None:
        module = "tutorial_lambda" if variant == "tutorial" else "jira_priority.app"
        self.variant = variant
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-c", CHILD, module, str(spec_path)],
            env=env,
            cwd=spec_path.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.cold: float = self._read()["cold"]

    def _read(self) -> dict[str, Any]:
        assert self.process.stderr is not None
        seen = []
        for line in self.process.stderr:
            if line.startswith("RESULT "):
                result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
                return result
            seen.append(line)
        raise RuntimeError(f"{self.variant} failed:\n{''.join(seen)[-3000:]}")

    def warm(self, requests: int) -> dict[str, list[float]]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{requests}\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def zip_report(code_dir: Path, workdir: Path) -> list[str]:
    """The zip's size and its largest top-level entries."""
    archive = Path(shutil.make_archive(str(workdir / "function"), "zip", code_dir))
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            top = info.filename.split("/", 1)[0]
            sizes[top] = sizes.get(top, 0) + info.file_size
    unzipped = sum(sizes.values())
    lines = [
        f"zip {archive.stat().st_size / 1e6:.1f} MB, unzipped {unzipped / 1e6:.1f} MB "
        "(Lambda's limit: 50 MB zipped, 250 MB unzipped); largest entries unzipped:"
    ]
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:10]:
        lines.append(f"  {size / 1e6:6.1f} MB  {name}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the default model.bin")
    parser.add_argument("--tickets", type=Path, default=DEFAULT_TICKETS, help="prepared file")
    parser.add_argument("--runs", type=int, default=15, help="interpreters per function")
    parser.add_argument("--warm-runs", type=int, default=100, help="warm requests of each kind")
    args = parser.parse_args()
    for path in (args.model, args.tickets, BUILD_DIR / "jira_priority"):
        if not path.exists():
            print(f"{path} is missing: run `make build model` first", file=sys.stderr)
            return 1

    import fasttext

    model = fasttext.load_model(str(args.model))
    lines = args.tickets.read_text(encoding="utf-8").splitlines()
    texts = [line.split(" ", 1)[1] for line in lines if " " in line][: BATCH_SIZE * 40]

    def answer(batch: Sequence[str], k: int) -> list[dict[str, Any]]:
        results = []
        for text in batch:
            labels, probs = model.predict(" ".join(text.split()), k=k)
            results.append({"label": list(labels), "prob": [float(p) for p in probs]})
        return results

    variants = ("tutorial", "sagemaker", "embedded", "sagemaker-x-ray")
    context = {
        key: value for key, value in vars(FakeLambdaContext()).items() if isinstance(value, str)
    } | {"memory_limit_in_mb": 512}
    xray = XRayListener()
    cold: dict[str, list[float]] = {variant: [] for variant in variants}
    warm = {variant: {"single": [], "batch": []} for variant in variants}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_fake_endpoint(answer, keep_alive=True) as endpoint,
    ):
        workdir = Path(tmp)
        spec_paths, envs = {}, {}
        for variant in variants:
            envs[variant] = lambda_environment(
                variant, endpoint.url, args.model.resolve(), xray.address, BUILD_DIR
            )
            spec = {"context": context, **requests_for(variant, texts)}
            spec_paths[variant] = workdir / f"{variant}.json"
            spec_paths[variant].write_text(json.dumps(spec | {"trace_header": TRACE_HEADER}))
        for _ in range(args.runs):
            # fresh interpreters one after the other (an idle one costs nothing), then
            # their warm requests in rounds of ROUND, so that load hits all alike
            functions = [Function(v, envs[v], spec_paths[v]) for v in variants]
            for function in functions:
                cold[function.variant].append(function.cold)
                function.warm(WARM_UP)
            for _ in range(args.warm_runs // ROUND):
                for function in functions:
                    for kind, samples in function.warm(ROUND).items():
                        warm[function.variant][kind] += samples
            for function in functions:
                function.close()
        load_seconds = statistics.median(
            float(
                subprocess.run(
                    [sys.executable, "-s", "-c", LOAD_MODEL, str(args.model)],
                    env=envs["embedded"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(5)
        )
        zip_lines = zip_report(BUILD_DIR, workdir)
    xray.close()

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms" if seconds >= 0.01 else f"{seconds * 1000:.2f} ms"

    rows = [("cold start to the first answer", {v: statistics.median(cold[v]) for v in variants})]
    for kind, label in (("single", "one ticket"), ("batch", f"batch of {BATCH_SIZE}")):
        for name, fraction in (("p50", 0.5), ("p99", 0.99)):
            rows.append(
                (
                    f"warm {label}, {name}",
                    {v: percentile(warm[v][kind], fraction) for v in variants},
                )
            )
    print(
        f"one run: {args.runs} fresh interpreters per function, each one cold start "
        f"and {args.warm_runs} warm requests of each kind; model {args.model.name}"
    )
    print()
    print(
        "| | tutorial's Lambda | ours, sagemaker | ratio (difference) "
        "| ours, embedded | ratio (difference) | ours, sagemaker, TraceAwsCalls | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, values in rows:
        base = values["tutorial"]
        cells = [ms(base)]
        for variant in variants[1:]:
            value = values[variant]
            cells += [ms(value), f"{value / base:.2f}x ({(value - base) * 1000:+.2f} ms)"]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print(f"embedded: default model load {ms(load_seconds)} (median of 5, fresh interpreters)")
    traced = [doc for doc in xray.documents if doc.get("type") == "subsegment" or "trace_id" in doc]
    names = sorted({doc.get("name", "?") for doc in traced})
    print(f"X-Ray documents received: {len(traced)} ({', '.join(names)})")
    for line in zip_lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
