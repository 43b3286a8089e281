"""Running the local API: the model checked once, the socket bound, uvicorn serving it.

With one worker the server runs in this process, with the model already
loaded. With more, uvicorn's supervisor starts that many worker processes,
each listening on the one address through a socket of its own (see
``WorkerListener``), each loading the model like one Lambda execution
environment; a worker that dies is replaced. The model is still loaded here
first, so that a bad model stops ``serve`` with one line before any worker
starts.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from training_jobs.local_api.asgi import LocalApi
from training_jobs.local_api.function import FunctionLoadError, load_function
from training_jobs.local_api.options import KEEP_ALIVE_SECONDS, ServeOptions
from training_jobs.local_api.protocol import GatewayH11Protocol

server_log = logging.getLogger("training_jobs.local_api")


class ServeError(Exception):
    """``serve`` cannot start; the message is one line for the user."""


#: Our access log and uvicorn's own errors on stderr; uvicorn's start-up chatter and
#: its access log (which has query strings) off.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "training_jobs.local_api": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "uvicorn.error": {"level": "ERROR"},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}


def uvicorn_config(app: LocalApi) -> uvicorn.Config:
    options = app.options
    return uvicorn.Config(
        app,
        http=GatewayH11Protocol,
        ws="none",
        lifespan="on",
        interface="asgi3",
        workers=options.workers,
        backlog=max(128, options.max_connections),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=options.max_header_bytes,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        access_log=False,
        log_config=LOG_CONFIG,
    )


def _tcp_socket(host: str, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so,
    # and without it every answer (head and body are two writes) waits ~40 ms for
    # the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def bind(host: str, port: int, backlog: int) -> socket.socket:
    """The listening socket of a single-process server."""
    try:
        sock = _tcp_socket(host, reuse_port=False)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


class WorkerListener(socket.socket):
    """The address the workers listen on, each through a socket of its own.

    The parent holds it bound, not listening (which reserves the port, the one
    picked for port 0 too). Handed to a worker process, as uvicorn's supervisor
    hands its sockets, it is rebuilt there as a new SO_REUSEPORT socket on the
    same address, so the kernel spreads new connections over the workers; with
    one shared socket, whichever worker woke first took them (16 keep-alive
    clients: 14 on one worker of two).
    """

    backlog = 128

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        host, port = self.getsockname()[:2]
        return (_listen_in_worker, (host, port, self.backlog))


def _listen_in_worker(host: str, port: int, backlog: int) -> socket.socket:
    sock = _tcp_socket(host, reuse_port=True)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def reserve(host: str, port: int, backlog: int) -> WorkerListener:
    """The address for worker processes, bound in this process but not listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = WorkerListener(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.backlog = backlog
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return listener


def wait_until_listening(host: str, port: int, timeout: float = 60) -> bool:
    """Whether a worker accepts connections on the address within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def serve(options: ServeOptions) -> None:
    """Serve until interrupted; ServeError if the options, the model or the port are not usable."""
    problems = options.problems()
    if problems:
        raise ServeError("; ".join(problems))
    started = time.perf_counter()
    try:
        function = load_function(options.model, options.function_timeout)
    except FunctionLoadError as exc:
        raise ServeError(str(exc)) from exc
    load_seconds = time.perf_counter() - started
    model_id = function.predictor.model_id
    if options.workers == 1:
        config = uvicorn_config(LocalApi(options, function))
        sock = bind(options.host, options.port, config.backlog)
        announce(options, sock.getsockname()[1], model_id, load_seconds)
        config.configure_logging()
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            sock.close()
            server_log.info("stopped")
        return
    function.close()  # each worker process loads its own
    config = uvicorn_config(LocalApi(options))
    listener = reserve(options.host, options.port, config.backlog)
    port = listener.getsockname()[1]

    def announce_when_listening() -> None:
        if wait_until_listening(options.host, port):
            announce(options, port, model_id, load_seconds)

    threading.Thread(target=announce_when_listening, daemon=True).start()
    config.configure_logging()
    try:
        supervisor = Multiprocess(config, sockets=[listener])
        supervisor.run()
    finally:
        listener.close()
        server_log.info("stopped")
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        raise ServeError("a worker process could not load the model; stopped")


def announce(options: ServeOptions, port: int, model_id: str, load_seconds: float) -> None:
    host = options.host
    key_note = " (x-api-key required)" if options.api_key else ""
    workers = f"{options.workers} worker processes" if options.workers > 1 else "1 worker"
    print(
        f"serving POST /predict and GET /health on http://{host}:{port}{key_note}\n"
        f"  model {model_id} ready in {load_seconds:.2f} s; {workers}, "
        f"at most {options.max_connections} connections each; Ctrl-C stops\n"
        f"  try: curl -s http://{host}:{port}/predict"
        f"{' -H x-api-key:...' if options.api_key else ''} "
        "-H 'Content-Type: application/json' "
        '-d \'{"title": "NameNode crashes on startup", "k": 3}\'',
        file=sys.stderr,
        flush=True,
    )
