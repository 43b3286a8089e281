"""Property: the normaliser's time is linear in its input, whatever the input.

Each example is timed against ordinary text of the same bounded size measured
in the same run, so the budget follows the machine: hostile text may cost a
small constant factor more per character than words do, never a factor that
grows with its length (the old patterns took ~1,000x on 16 K characters).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jira_priority.text import MAX_CHARS, normalise_ticket

#: How much more per character hostile text may cost than ordinary words.
#: Measured: up to ~14x for "[a|b]" repeated (one substitution per 5 characters).
PER_CHAR_FACTOR = 50
#: Fixed allowance for timer resolution and a busy machine.
SLACK_SECONDS = 0.005

#: Pieces that open a construct the patterns look for, close one, or break tokens.
MARKUP = [
    "[", "]", "|", "{", "}", ":", "&", ";", "#", "_", " ", "\n",
    "{code", "{code:", "{noformat:", "{quote}", "{color:red}", "{panel:title=",
    "[a|", "[a|b]", "|b]", "http://", "https://x", "ftp://", "&amp;", "&#x41;", "&lt",
]  # fmt: skip


def _best_of(runs: int, call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


@pytest.fixture(scope="module")
def seconds_per_char() -> float:
    """Ordinary text's cost per character, the baseline of this run."""
    ordinary = ("NameNode crashes on startup after upgrade " * MAX_CHARS)[:MAX_CHARS]
    return _best_of(5, lambda: normalise_ticket(None, ordinary)) / MAX_CHARS


def _assert_linear(text: str, seconds_per_char: float) -> None:
    budget = PER_CHAR_FACTOR * seconds_per_char * min(len(text), MAX_CHARS) + SLACK_SECONDS
    elapsed = _best_of(3, lambda: normalise_ticket("title", text))
    if elapsed > budget:
        # A busy machine (another process on the same core) can stretch three runs
        # alike; a quadratic pattern stays over budget however often it is timed.
        elapsed = _best_of(10, lambda: normalise_ticket("title", text))
    assert elapsed <= budget, f"{elapsed:.4f} s for {len(text)} characters (budget {budget:.4f})"


pieces = st.lists(st.sampled_from(MARKUP) | st.text(max_size=3), min_size=1, max_size=6).map(
    "".join
)


@given(piece=pieces.filter(bool), size=st.integers(min_value=8_000, max_value=3 * MAX_CHARS))
def test_repeated_markup_costs_time_linear_in_its_size(
    piece: str, size: int, seconds_per_char: float
) -> None:
    text = (piece * (size // len(piece) + 1))[:size]
    _assert_linear(text, seconds_per_char)


@given(
    token=st.text(alphabet=st.characters(categories=["L", "N", "Pc"]), min_size=1, max_size=8),
    size=st.integers(min_value=8_000, max_value=3 * MAX_CHARS),
    closer=st.sampled_from(["", "]", "}", "|]", " }"]),
)
def test_long_unbroken_tokens_cost_time_linear_in_their_size(
    token: str, size: int, closer: str, seconds_per_char: float
) -> None:
    text = "[" + (token * (size // len(token) + 1))[:size] + closer
    _assert_linear(text, seconds_per_char)


@given(
    body=st.lists(st.sampled_from(MARKUP) | st.characters(), max_size=400).map("".join),
    size=st.integers(min_value=8_000, max_value=2 * MAX_CHARS),
)
def test_arbitrary_markup_mixtures_cost_time_linear_in_their_size(
    body: str, size: int, seconds_per_char: float
) -> None:
    text = ((body or "[") * (size // max(len(body), 1) + 1))[:size]
    _assert_linear(text, seconds_per_char)
