"""``serve``: the Lambda behind a local HTTP server, like ``sam local start-api``.

The server is ``training_jobs.local_api``; this command only turns options into
a call to it.
"""

from __future__ import annotations

import click

from training_jobs.cli.options import model_option
from training_jobs.local_api.gateway import API_GATEWAY_MAX_BODY_BYTES
from training_jobs.local_api.options import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT_SECONDS,
)

#: Where the API key may come from instead of --api-key, so that it is not in `ps`.
API_KEY_VARIABLE = "JIRA_PRIORITY_API_KEY"


@click.command("serve")
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
    envvar=API_KEY_VARIABLE,
    show_envvar=True,
    help="require this value in the x-api-key header, as API Gateway does "
    "(default: no key, like sam local start-api)",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=0),
    default=API_GATEWAY_MAX_BODY_BYTES,
    show_default=True,
    help="refuse larger bodies with 413 before reading them; the function's own limit "
    "(MAX_BODY_BYTES) applies below this",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="worker processes, each like one Lambda execution environment with its own copy "
    "of the model",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_CONNECTIONS,
    show_default=True,
    help="connections each worker holds at once; more are answered 503",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_REQUEST_TIMEOUT_SECONDS,
    show_default=True,
    help="seconds for a whole request (head and body) to arrive, counted from the "
    "connection's start or the previous answer, not restarted by each byte; later is 408",
)
def command(
    model: str,
    host: str,
    port: int,
    api_key: str | None,
    max_body_bytes: int,
    workers: int,
    max_connections: int,
    request_timeout: float,
) -> int:
    """Serve POST /predict and GET /health with the embedded model: each request becomes the
    API Gateway proxy event API Gateway would send, answered by the Lambda's own handler; what
    API Gateway decides itself (routes, API key, size limits) is decided the same way, with the
    same error bodies."""
    from training_jobs.errors import CommandError, require_extra

    require_extra("train", "fasttext", "uvicorn")
    from training_jobs.local_api.options import ServeOptions
    from training_jobs.local_api.server import ServeError, serve

    options = ServeOptions(
        model=model,
        host=host,
        port=port,
        api_key=api_key or None,
        max_body_bytes=max_body_bytes,
        workers=workers,
        max_connections=max_connections,
        request_timeout=request_timeout,
    )
    problems = options.problems()
    if problems:
        raise CommandError("; ".join(problems), exit_code=2)
    try:
        serve(options)
    except ServeError as error:
        raise CommandError(str(error)) from error
    return 0
