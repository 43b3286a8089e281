"""``serve``: the Lambda behind a local HTTP server, like ``sam local start-api``.

Each request becomes the API Gateway REST proxy event that API Gateway (and
``sam local start-api``) would send, and is answered by the same
``jira_priority.app`` handler with the embedded backend; what API Gateway
decides itself (routes, API key, size limits) is decided the same way, with
the same error bodies. The server is ``training_jobs.local_api``; this module
only turns options into a call to it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from training_jobs.console import doc_summary, fail

DEFAULT_MODEL = Path("artifacts/model/model.bin")
#: Where the API key may come from instead of --api-key, so that it is not in `ps`.
API_KEY_VARIABLE = "JIRA_PRIORITY_API_KEY"


def run(args: argparse.Namespace) -> int:
    from training_jobs.local_api import ServeError, ServeOptions, serve

    options = ServeOptions(
        model=args.model,
        host=args.host,
        port=args.port,
        api_key=args.api_key or None,
        max_body_bytes=args.max_body_bytes,
        workers=args.workers,
        max_connections=args.max_connections,
        request_timeout=args.request_timeout,
    )
    problems = options.problems()
    if problems:
        return fail("serve", "; ".join(problems), 2)
    try:
        serve(options)
    except ServeError as exc:
        return fail("serve", str(exc))
    return 0


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """``--model``: the embedded backend's model, local or on S3 (``classify`` and ``serve``)."""
    parser.add_argument(
        "--model",
        default=os.fspath(DEFAULT_MODEL),
        help="model.bin, model.ftz, model.tar.gz or a directory holding one, as a path "
        f"or s3:// URI (default: {DEFAULT_MODEL})",
    )


def register(subparsers: Any) -> None:
    from training_jobs.local_api.gateway import API_GATEWAY_MAX_BODY_BYTES
    from training_jobs.local_api.options import (
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_PORT,
        DEFAULT_REQUEST_TIMEOUT_SECONDS,
    )

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve POST /predict on 127.0.0.1 with the embedded model, like sam local start-api",
        description=doc_summary(__doc__),
    )
    add_model_argument(parser)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_VARIABLE),  # argparse's stand-in for click's envvar=
        help="require this value in the x-api-key header, as API Gateway does; "
        f"${API_KEY_VARIABLE} is read when this is not given (default: no key, "
        "like sam local start-api)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=API_GATEWAY_MAX_BODY_BYTES,
        help="refuse larger bodies with 413 before reading them; the function's own "
        f"limit (MAX_BODY_BYTES) applies below this (default: {API_GATEWAY_MAX_BODY_BYTES})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, each like one Lambda execution environment with its own "
        "copy of the model (default: 1)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        help="connections each worker holds at once; more are answered 503 "
        f"(default: {DEFAULT_MAX_CONNECTIONS})",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT_SECONDS,
        help="seconds for a whole request (head and body) to arrive, counted from the "
        "connection's start or the previous answer, not restarted by each byte; "
        f"later is 408 (default: {DEFAULT_REQUEST_TIMEOUT_SECONDS:g})",
    )
    parser.set_defaults(handler=run)
