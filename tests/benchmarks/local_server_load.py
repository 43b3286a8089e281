"""Load on the local server: keep-alive clients, with slow and dropping clients alongside.

For each server, in the same run and on the same tickets (real validation
tickets from build/data/validation.txt, one per request):

  baseline    the http.server-based server this replaced (tests/benchmarks/baseline_server.py)
  1 worker    python -m training_jobs serve --workers 1
  2 workers   python -m training_jobs serve --workers 2

``--clients`` keep-alive clients send ``POST /predict`` back to back for
``--seconds``; beside them ``--slow`` clients trickle a request head one byte
a second, and ``--droppers`` clients keep connecting, sending half a request
and resetting the connection. Reported: requests/s, p50 and p99 latency of the
keep-alive clients, their errors (anything but a 200, or no answer within 10 s:
must be 0), what the slow and dropping clients got, and the servers' resident
memory (all their processes) before and after. Everything is on 127.0.0.1,
ports 3950-3999, and bounded: at most 256 clients and 120 s per server.
Run after `make model`:

    make bench-local-server     (or: .venv/bin/python -m tests.benchmarks.local_server_load)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO_ROOT / "artifacts" / "model" / "model.bin"
DEFAULT_TICKETS = REPO_ROOT / "build" / "data" / "validation.txt"
HOST = "127.0.0.1"
FIRST_PORT = 3950
MAX_CLIENTS = 256
MAX_SECONDS = 120
ANSWER_TIMEOUT = 10.0


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    slow: Counter[str] = field(default_factory=Counter)
    dropped: int = 0


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(found.group(1))) if found else b""
    return status, body


def predict_request(text: str) -> bytes:
    body = json.dumps({"text": text}).encode()
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def keep_alive_client(
    port: int, texts: list[str], offset: int, stop_at: float, results: Results
) -> None:
    reader = writer = None
    index = offset
    while time.monotonic() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            assert reader is not None
            started = time.perf_counter()
            writer.write(predict_request(texts[index % len(texts)]))
            status, _ = await asyncio.wait_for(read_answer(reader), ANSWER_TIMEOUT)
            elapsed = time.perf_counter() - started
            index += 1
            if status == 200:
                results.latencies.append(elapsed)
            else:
                results.errors[f"status {status}"] += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            results.errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.1)
    if writer is not None:
        writer.close()


async def slow_client(port: int, stop_at: float, results: Results) -> None:
    """Trickle a request head, one byte a second, until the server answers or closes."""
    head = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            results.slow["connect failed"] += 1
            await asyncio.sleep(1)
            continue
        outcome = "still sending at the end"
        try:
            for byte in head:
                if time.monotonic() >= stop_at:
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    answer = await asyncio.wait_for(reader.read(64), 1.0)
                except TimeoutError:
                    continue
                outcome = answer.split(b"\r\n", 1)[0].decode() if answer else "closed"
                break
        except OSError:
            outcome = "closed"
        results.slow[outcome] += 1
        writer.close()


async def dropping_client(port: int, stop_at: float, results: Results) -> None:
    """Connect, send half a request, reset the connection; again and again."""
    half = (
        f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: text/plain\r\n"
        "Content-Length: 4000\r\n\r\nthe namenode crashed and".encode()
    )
    while time.monotonic() < stop_at:
        try:
            _, writer = await asyncio.open_connection(HOST, port)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.write(half)
            await asyncio.sleep(0.05)
            writer.transport.abort()
            results.dropped += 1
        except OSError:
            pass
        await asyncio.sleep(0.05)


async def load(port: int, texts: list[str], args: argparse.Namespace) -> Results:
    results = Results()
    stop_at = time.monotonic() + args.seconds
    tasks = [keep_alive_client(port, texts, n * 97, stop_at, results) for n in range(args.clients)]
    tasks += [slow_client(port, stop_at, results) for _ in range(args.slow)]
    tasks += [dropping_client(port, stop_at, results) for _ in range(args.droppers)]
    await asyncio.gather(*tasks)
    return results


def family(pid: int) -> list[int]:
    """The process and its children."""
    return [pid] + [
        int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat") if _parent(stat) == pid
    ]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process and its children so far."""
    ticks = 0
    for each in family(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime and stime
    return ticks / os.sysconf("SC_CLK_TCK")


def resident_mb(pid: int) -> float:
    """VmRSS of the process and its children, in MB."""
    total_kb = 0
    for each in family(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total_kb += int(found.group(1)) if found else 0
    return total_kb / 1024


def _parent(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1) as probe:
                probe.sendall(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if probe.recv(12).startswith(b"HTTP/1.1 200"):
                    return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server on port {port} did not start: {' '.join(command)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure(
    name: str, command: list[str], port: int, texts: list[str], args: argparse.Namespace
) -> dict[str, object]:
    process = start(command, port)
    try:
        before = resident_mb(process.pid)
        cpu_before = cpu_seconds(process.pid)
        results = asyncio.run(load(port, texts, args))
        cpu = cpu_seconds(process.pid) - cpu_before
        after = resident_mb(process.pid)
    finally:
        stop(process)
    latencies = sorted(results.latencies)
    return {
        "server": name,
        "requests_per_s": len(latencies) / args.seconds,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000
        if len(latencies) > 1
        else float("nan"),
        "cpu_ms_per_request": cpu * 1000 / max(len(latencies), 1),
        "errors": sum(results.errors.values()),
        "error_kinds": dict(results.errors),
        "slow": dict(results.slow),
        "dropped": results.dropped,
        "rss_before_mb": before,
        "rss_after_mb": after,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model.bin or .ftz")
    parser.add_argument("--tickets", type=Path, default=DEFAULT_TICKETS, help="prepared file")
    parser.add_argument("--clients", type=int, default=16, help="keep-alive clients (default 16)")
    parser.add_argument("--seconds", type=float, default=15, help="per server (default 15)")
    parser.add_argument("--slow", type=int, default=20, help="slow clients (default 20)")
    parser.add_argument("--droppers", type=int, default=4, help="dropping clients (default 4)")
    args = parser.parse_args()
    if not 1 <= args.clients + args.slow + args.droppers <= MAX_CLIENTS:
        parser.error(f"at most {MAX_CLIENTS} clients in all")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS}]")
    for path in (args.model, args.tickets):
        if not path.exists():
            print(f"{path} is missing: run `make model` first", file=sys.stderr)
            return 1
    lines = args.tickets.read_text(encoding="utf-8").splitlines()[:2000]
    texts = [line.split(" ", 1)[1] for line in lines if " " in line]
    python = sys.executable
    serve = [python, "-m", "training_jobs", "serve", "--model", str(args.model), "--port"]
    servers = [
        (
            "baseline (http.server)",
            [python, "-m", "tests.benchmarks.baseline_server", str(args.model), str(FIRST_PORT)],
            FIRST_PORT,
        ),
        ("local_api, 1 worker", [*serve, str(FIRST_PORT + 1), "--workers", "1"], FIRST_PORT + 1),
        ("local_api, 2 workers", [*serve, str(FIRST_PORT + 2), "--workers", "2"], FIRST_PORT + 2),
    ]
    print(
        f"{args.clients} keep-alive clients, {args.slow} slow, {args.droppers} dropping; "
        f"{args.seconds:g} s per server; {len(texts)} validation tickets",
        flush=True,
    )
    rows = [measure(name, command, port, texts, args) for name, command, port in servers]
    baseline = rows[0]
    print(
        f"{'server':<24}{'req/s':>9}{'ratio':>7}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'CPU ms/req':>11}{'RSS before':>12}{'RSS after':>11}"
    )
    for row in rows:
        ratio = float(row["requests_per_s"]) / max(float(baseline["requests_per_s"]), 1e-9)
        print(
            f"{row['server']:<24}{row['requests_per_s']:>9.0f}{ratio:>7.2f}"
            f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['errors']:>8}"
            f"{row['cpu_ms_per_request']:>11.2f}"
            f"{row['rss_before_mb']:>10.0f}MB{row['rss_after_mb']:>9.0f}MB"
        )
    for row in rows:
        print(
            f"{row['server']}: errors {row['error_kinds'] or 0}; slow clients {row['slow']}; "
            f"dropped requests {row['dropped']}"
        )
    return 0 if all(row["errors"] == 0 for row in rows[1:]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
