"""Time of the text normaliser on hostile input, as ratios to ordinary text of the same size.

Each hostile description (one opener repeated: the shapes that made the old
patterns quadratic, and every piece the property tests in
tests/unit/jira_priority/test_text_properties.py draw from) is timed beside
ordinary words of the same length in the same run. A linear normaliser keeps every
ratio small and flat as the size grows, and the growth exponent (how the time grows
from one size to the next: 1 linear, 2 quadratic) near 1 or below; a quadratic
one doubles the ratio with every doubling. A size is skipped when the growth
measured so far says it would take more than --max-seconds, so the old code
finishes too. This is where linearity is measured: the unit tests assert no
wall-clock budget (a busy machine stretches any run).

    .venv/bin/python -m tests.benchmarks.normaliser [--all-pieces]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

from jira_priority.text import normalise_ticket
from tests.support.hostile_text import MARKUP

SIZES = (4_096, 8_192, 16_384, 32_767, 1_048_576)
HOSTILE = {"[": "[", "{": "{", "{code:": "{code:", "[a|": "[a|"}
#: With --all-pieces: every markup piece of the property tests, and a long token in a link.
ALL_PIECES = {
    **HOSTILE,
    **{repr(piece): piece for piece in MARKUP if piece.strip()},
    "[token|": "[" + "x" * 40_000 + "|",
}
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


def growth(measured: list[tuple[int, float]]) -> float:
    """The exponent of the time's growth over the last two sizes (1 linear, 2 quadratic)."""
    (small, t_small), (large, t_large) = measured[-2:]
    return math.log(max(t_large, 1e-9) / max(t_small, 1e-9)) / math.log(large / small)


def project(measured: list[tuple[int, float]], size: int) -> float:
    """Seconds ``size`` would take at the growth of the last two sizes (at least linear)."""
    if len(measured) < 2:
        return 0.0
    large, t_large = measured[-1]
    return t_large * (size / large) ** max(1.0, growth(measured))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument(
        "--max-seconds", type=float, default=10.0, help="skip sizes projected to take longer"
    )
    parser.add_argument(
        "--all-pieces", action="store_true", help="every markup piece of the property tests"
    )
    args = parser.parse_args()
    header = ("input", "chars", "seconds", "ordinary s", "ratio", "growth")
    print("{:<10} {:>9} {:>9} {:>11} {:>8} {:>7}".format(*header))
    for name, piece in (ALL_PIECES if args.all_pieces else HOSTILE).items():
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
            measured.append((size, seconds))
            grew = f"{growth(measured):>7.2f}" if len(measured) > 1 else f"{'':>7}"
            print(f"{name:<10} {size:>9,} {seconds:>9.4f} {baseline:>11.5f} {ratio:>8.1f} {grew}")
            runs = 1 if seconds > 0.5 else runs  # the old code: one run is plenty


if __name__ == "__main__":
    main()
