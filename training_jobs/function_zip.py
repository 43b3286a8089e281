"""``python -m training_jobs.function_zip DIR``: slim the built function.

``make build`` runs it on ``.aws-sam/build/PredictFunction`` after ``sam build``:

* botocore's (and boto3's) data directories keep only the services the
  function calls (``jira_priority.aws_clients.SERVICES``) and the X-Ray SDK's
  own (``LIBRARY_SERVICES``) beside the files every
  client reads (endpoints, partitions, retry and default configuration).
  botocore lists and stats every service directory it ships before it loads a
  model, so the other ~450 cost each cold start time (with endpoints.json,
  about 25 ms), and they are most of the zip.
  ``tests/unit/project/test_function_zip.py`` checks that the function's code
  makes no client of another service, and the built function's
  tests (the sam-local test among them) call both services through the slim copy.
* botocore's endpoints.json keeps, in each partition, only those services'
  entries: every client parses the whole file (1.3 MB, about 8 ms) and reads
  its own service's entry only.

What the zip then holds, and its size, is what ``make bench-serving`` reports
(``tests.benchmarks.serving.zip_report``).

A function that needs another service adds it to SERVICES; nothing else changes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from jira_priority.aws_clients import SERVICES

#: Data directories holding one sub-directory per service.
DATA_DIRS = ("botocore/data", "boto3/data")
#: Services a library in the zip calls on its own: the X-Ray SDK (TRACE_AWS_CALLS)
#: makes an ``xray`` client for its sampling rules when it runs outside Lambda
#: (no LAMBDA_TASK_ROOT), and fails at import without the service's data.
LIBRARY_SERVICES = ("xray",)
#: Every service whose data stays in the zip.
KEPT = (*SERVICES, *LIBRARY_SERVICES)


def trim_service_data(code_dir: Path, keep: Sequence[str] = KEPT) -> list[str]:
    """Remove the service directories of DATA_DIRS not in ``keep``; the removed names."""
    removed = []
    for relative in DATA_DIRS:
        data = code_dir / relative
        if not data.is_dir():
            continue
        for entry in sorted(data.iterdir()):
            if entry.is_dir() and entry.name not in keep:
                shutil.rmtree(entry)
                removed.append(f"{relative}/{entry.name}")
    return removed


def endpoint_prefixes(botocore_data: Path, services: Sequence[str]) -> set[str]:
    """The endpoint prefixes (endpoints.json's service keys) of ``services``' newest models."""
    prefixes = set()
    for service in services:
        versions = sorted(p for p in (botocore_data / service).iterdir() if p.is_dir())
        newest = versions[-1]
        plain, packed = newest / "service-2.json", newest / "service-2.json.gz"
        raw = plain.read_bytes() if plain.exists() else gzip.decompress(packed.read_bytes())
        prefixes.add(json.loads(raw)["metadata"]["endpointPrefix"])
    return prefixes


def trim_endpoints(code_dir: Path, keep: Sequence[str] = KEPT) -> tuple[int, int]:
    """Keep only ``keep``'s entries in each partition of botocore's endpoints.json.

    Every client parses the whole file (1.3 MB, ~8 ms) to resolve its endpoint;
    the entries of other services are never read. Returns (bytes before, after).
    """
    data = code_dir / "botocore" / "data"
    path = data / "endpoints.json"
    before = path.stat().st_size
    endpoints = json.loads(path.read_bytes())
    prefixes = endpoint_prefixes(data, keep)
    for partition in endpoints["partitions"]:
        partition["services"] = {
            name: entry for name, entry in partition["services"].items() if name in prefixes
        }
    path.write_text(json.dumps(endpoints, separators=(",", ":")), encoding="utf-8")
    return before, path.stat().st_size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training_jobs.function_zip",
        description="Keep only the botocore data of the services the function calls.",
    )
    parser.add_argument(
        "code_dir", type=Path, help="the built function, e.g. .aws-sam/build/PredictFunction"
    )
    args = parser.parse_args(argv)
    if not (args.code_dir / "jira_priority").is_dir():
        print(
            f"{args.code_dir} is not the built function (no jira_priority in it)", file=sys.stderr
        )
        return 1
    removed = trim_service_data(args.code_dir)
    before, after = trim_endpoints(args.code_dir)
    print(
        f"kept the botocore data of {', '.join(KEPT)}: removed {len(removed)} service "
        f"directories, endpoints.json {before / 1e6:.1f} MB -> {after / 1e6:.2f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
