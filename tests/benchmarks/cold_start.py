"""Cold-start import cost of the handler module, as a ratio to ``import boto3`` alone.

Each sample is a fresh interpreter (a cold start has no warm module cache),
importing from the directory `sam build` produced, so the code and wheels are
what Lambda runs. Samples alternate between the two imports so that machine
noise hits both alike; the ratio of medians is the figure to quote.

    make bench-cold-start          (or: .venv/bin/python -m tests.benchmarks.cold_start)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build" / "PredictFunction"

# Looking up lambda_handler is what the Lambda runtime does in the init phase: for the
# handler module it builds the settings, the predictor and its client (boto3 has none).
TIMED_IMPORT = (
    "import importlib, time; started = time.perf_counter(); "
    "getattr(importlib.import_module('{module}'), 'lambda_handler', None); "
    "print(time.perf_counter() - started)"
)

FUNCTION_ENV = {
    "PREDICTOR_BACKEND": "sagemaker",
    "SAGEMAKER_ENDPOINT_NAME": "jira-priority",
    "POWERTOOLS_SERVICE_NAME": "jira-priority",
    "POWERTOOLS_METRICS_NAMESPACE": "JiraPriority",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
}


def time_import(module: str) -> float:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(BUILD_DIR), **FUNCTION_ENV}
    output = subprocess.run(
        [sys.executable, "-s", "-c", TIMED_IMPORT.format(module=module)],
        env=env,
        cwd=BUILD_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="samples of each import (default 15)")
    args = parser.parse_args()
    if not (BUILD_DIR / "jira_priority").is_dir():
        print(f"{BUILD_DIR} is missing: run `make build` first", file=sys.stderr)
        return 1
    samples: dict[str, list[float]] = {"boto3": [], "jira_priority.app": []}
    for _ in range(args.runs):
        for module, times in samples.items():
            times.append(time_import(module))
    baseline = statistics.median(samples["boto3"])
    handler = statistics.median(samples["jira_priority.app"])
    print(f"runs per import          : {args.runs}")
    print(f"import boto3             : median {baseline * 1000:7.1f} ms")
    print(f"import jira_priority.app : median {handler * 1000:7.1f} ms")
    print("  (settings, predictor and sagemaker-runtime client included)")
    print(f"ratio handler / boto3    : {handler / baseline:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
