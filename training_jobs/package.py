"""``package``: a locally trained model as the model.tar.gz a BlazingText endpoint loads.

Packs ``model.bin`` and its sidecars (``postprocessing.json``) from a model
directory (what ``train-local`` writes), optionally uploads the archive to S3,
and prints its location: the ``--model-data-url`` of ``deploy``, and the
``MODEL_URI`` that lets the Lambda in front of the endpoint read the
post-processing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jira_priority.model_files import ModelFileError
from training_jobs.aws import (
    ENV_REGION,
    Aws,
    ToolError,
    _env,
    one_line_errors,
    parse_s3_uri,
    require_region,
)
from training_jobs.console import doc_summary, say
from training_jobs.modelling.packaging import ARCHIVE_NAME, package_model


@one_line_errors
def handle(args: argparse.Namespace) -> int:
    output = Path(args.output)
    try:
        members = package_model(Path(args.model), output)
    except ModelFileError as exc:
        raise ToolError(str(exc)) from None
    say(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB): {', '.join(members)}")
    if not args.upload:
        print(output)
        return 0
    bucket, key = parse_s3_uri(args.upload)
    if not key or key.endswith("/"):
        key = f"{key}{ARCHIVE_NAME}"
    Aws(require_region(args)).s3.upload_file(str(output), bucket, key)
    uri = f"s3://{bucket}/{key}"
    say(
        f"uploaded -> {uri}; deploy it with `python -m training_jobs deploy --model-data-url {uri}`"
    )
    print(uri)
    return 0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "package",
        help="pack a local model.bin and its postprocessing.json as a BlazingText model.tar.gz",
        description=doc_summary(__doc__),
    )
    parser.add_argument(
        "--model", default="artifacts/model",
        help="model directory or model.bin (default: artifacts/model)",
    )  # fmt: skip
    parser.add_argument(
        "--output",
        default=f"build/{ARCHIVE_NAME}",
        help=f"archive to write (default: build/{ARCHIVE_NAME})",
    )
    parser.add_argument(
        "--upload", metavar="S3_URI",
        help="also upload it there (s3://bucket/key, or a prefix ending in /)",
    )  # fmt: skip
    parser.add_argument(
        "--region",
        default=_env(*ENV_REGION),
        help="AWS region for --upload (default: $AWS_REGION, then $AWS_DEFAULT_REGION)",
    )
    parser.set_defaults(handler=handle)
