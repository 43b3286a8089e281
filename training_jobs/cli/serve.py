"""``serve``: the Lambda behind a local HTTP server, like ``sam local start-api``."""

from __future__ import annotations

import argparse

import click

from training_jobs.cli.options import model_option
from training_jobs.serve import API_GATEWAY_MAX_BODY_BYTES, DEFAULT_PORT


@click.command(
    "serve",
    short_help="serve POST /predict on 127.0.0.1 with the embedded model, like sam local start-api",
)
@model_option()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="address to listen on (this machine only by default)",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="port to listen on; 0 picks a free one",
)
@click.option(
    "--api-key",
    default=None,
    help="require this value in the x-api-key header, as API Gateway does "
    "(default: no key, like sam local start-api)",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=API_GATEWAY_MAX_BODY_BYTES,
    show_default=True,
    help="refuse larger bodies with 413 before reading them; the function's own limit "
    "(MAX_BODY_BYTES) applies below this",
)
def command(model: str, host: str, port: int, api_key: str | None, max_body_bytes: int) -> int:
    """Serve POST /predict and GET /health on HOST:PORT with the embedded model: each request
    becomes the API Gateway proxy event API Gateway would send, answered by the Lambda's own
    handler."""
    from training_jobs.errors import require_extra

    require_extra("train", "fasttext")
    from training_jobs import serve

    options = argparse.Namespace(
        model=model, host=host, port=port, api_key=api_key, max_body_bytes=max_body_bytes
    )
    return serve.run(options)
