"""Per-ticket latency of the embedded path, layer by layer, as ratios to the model alone.

Every layer is timed in the same run on the same tickets (real validation
tickets from build/data/validation.txt), one ticket per request, so machine
noise hits all of them alike:

  model       fastText's predict on the already-normalised text (the baseline)
  predictor   EmbeddedPredictor.predict: the checks and conversions around it
  handler     lambda_handler in-process: event, validation, normalising, JSON
  http        POST /predict through `training_jobs serve` on 127.0.0.1, keep-alive

Also the model's load time. The handler runs at log level WARNING (its one
INFO line per request is not timed) and its metrics go to /dev/null. Run
after `make model`:

    make bench-latency          (or: .venv/bin/python -m tests.benchmarks.latency)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO_ROOT / "artifacts" / "model" / "model.bin"
DEFAULT_TICKETS = REPO_ROOT / "build" / "data" / "validation.txt"


def timed(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def summary(name: str, samples: list[float], baseline: float) -> str:
    median = statistics.median(samples)
    p99 = statistics.quantiles(samples, n=100)[98]
    return (
        f"{name:<10} median {median * 1000:8.3f} ms   p99 {p99 * 1000:8.3f} ms   "
        f"ratio to model {median / baseline:7.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model.bin or .ftz")
    parser.add_argument("--tickets", type=Path, default=DEFAULT_TICKETS, help="prepared file")
    parser.add_argument("--runs", type=int, default=500, help="tickets per layer (default 500)")
    args = parser.parse_args()
    for path in (args.model, args.tickets):
        if not path.exists():
            print(f"{path} is missing: run `make model` first", file=sys.stderr)
            return 1

    import fasttext
    import uvicorn
    from training_jobs.local_api.asgi import LocalApi
    from training_jobs.local_api.function import load_function
    from training_jobs.local_api.options import ServeOptions
    from training_jobs.local_api.server import bind, uvicorn_config

    lines = args.tickets.read_text(encoding="utf-8").splitlines()[: args.runs]
    texts = [line.split(" ", 1)[1] for line in lines if " " in line]

    started = time.perf_counter()
    model = fasttext.load_model(str(args.model))
    load_seconds = time.perf_counter() - started

    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # read when the handler module loads
    options = ServeOptions(model=str(args.model), port=0)
    function = load_function(options.model, options.function_timeout)  # sets powertools' variables
    handler, predictor = function.handler, function.predictor
    from tests.support.events import FakeLambdaContext, load_event

    event = load_event("predict-text")
    context = FakeLambdaContext()
    config = uvicorn_config(LocalApi(options, function))
    config.log_config = None  # no access log: not timed
    sock = bind("127.0.0.1", 0, config.backlog)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    connection = http.client.HTTPConnection("127.0.0.1", sock.getsockname()[1], timeout=10)

    cycle = iter(texts * 4)

    def through_model() -> Any:
        return model.predict(next(cycle), k=1)

    def through_predictor() -> Any:
        return predictor.predict([next(cycle)], 1)

    def through_handler() -> Any:
        result = handler(dict(event, body=json.dumps({"text": next(cycle)})), context)
        assert result["statusCode"] == 200, result
        return result

    def through_http() -> Any:
        connection.request(
            "POST",
            "/predict",
            body=json.dumps({"text": next(cycle)}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        return body

    sink = open(os.devnull, "w")  # noqa: SIM115 - closed in the finally below
    try:
        layers = {}
        for name, call in (
            ("model", through_model),
            ("predictor", through_predictor),
            ("handler", through_handler),
            ("http", through_http),
        ):
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                call()  # warm
                cycle = iter(texts * 4)
                layers[name] = timed(call, len(texts))
    finally:
        sink.close()
        connection.close()
        server.should_exit = True
        thread.join()
        sock.close()

    baseline = statistics.median(layers["model"])
    size_mb = args.model.stat().st_size / 1e6
    print(f"model {args.model.name}: {size_mb:.1f} MB, loaded in {load_seconds:.3f} s")
    print(f"tickets per layer: {len(texts)} (one per request)")
    for name, samples in layers.items():
        print(summary(name, samples, baseline))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
