"""Time of the text normaliser on hostile input, as ratios to ordinary text of the same size.

Each hostile description (one opener repeated: the shapes that made the old
patterns quadratic) is timed beside ordinary words of the same length in the
same run. A linear normaliser keeps every ratio small and flat as the size
grows; a quadratic one doubles it with every doubling. A size is skipped when
the growth measured so far says it would take more than --max-seconds, so the
old code finishes too.

    .venv/bin/python -m tests.benchmarks.normaliser
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

from jira_priority.text import normalise_ticket

SIZES = (4_096, 8_192, 16_384, 32_767, 1_048_576)
HOSTILE = {"[": "[", "{": "{", "{code:": "{code:", "[a|": "[a|"}
ORDINARY = "NameNode crashes on startup after an upgrade with a NullPointerException "


def best_of(runs: int, call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def fill(piece: str, size: int) -> str:
    return (piece * (size // len(piece) + 1))[:size]


def project(measured: list[tuple[int, float]], size: int) -> float:
    """Seconds ``size`` would take at the growth of the last two sizes (at least linear)."""
    if len(measured) < 2:
        return 0.0
    (small, t_small), (large, t_large) = measured[-2:]
    growth = math.log(max(t_large, 1e-9) / max(t_small, 1e-9)) / math.log(large / small)
    return t_large * (size / large) ** max(1.0, growth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument(
        "--max-seconds", type=float, default=10.0, help="skip sizes projected to take longer"
    )
    args = parser.parse_args()
    print(f"{'input':<10} {'chars':>9} {'seconds':>9} {'ordinary s':>11} {'ratio':>8}")
    for name, piece in HOSTILE.items():
        runs, measured = args.runs, []
        for size in SIZES:
            projected = project(measured, size)
            if projected > args.max_seconds:
                print(f"{name:<10} {size:>9,} skipped: about {projected:,.0f} s projected")
                break
            ordinary = fill(ORDINARY, size)
            baseline = best_of(args.runs, lambda text=ordinary: normalise_ticket("t", text))
            hostile = fill(piece, size)
            seconds = best_of(runs, lambda text=hostile: normalise_ticket("t", text))
            ratio = seconds / baseline
            print(f"{name:<10} {size:>9,} {seconds:>9.4f} {baseline:>11.5f} {ratio:>8.1f}")
            runs = 1 if seconds > 0.5 else runs  # the old code: one run is plenty
            measured.append((size, seconds))


if __name__ == "__main__":
    main()
