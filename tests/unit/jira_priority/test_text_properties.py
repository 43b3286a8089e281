"""Property: whatever markup a ticket holds, the normaliser reads a bounded prefix of it and
answers clean tokens, in bounded time.

The inputs are the shapes that once made the patterns quadratic (an opener
repeated, an unbroken token inside a link, arbitrary mixtures), up to three times
the characters read. What is checked is what the answer is, not how fast it comes:
linearity is measured as a ratio to ordinary text by tests/benchmarks/normaliser.py.
The one time bound here, 1 s of this thread's CPU per example, keeps a margin of
more than 100x (the worst of 3,000 examples took 8.5 ms on a busy machine; the
quadratic patterns took ~17 s on 32,767 characters). It is CPU time, not the clock:
other processes competing for the cores do not count.
"""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from jira_priority.text import MAX_CHARS, MAX_TOKENS, normalise_ticket, tokenise
from tests.support.hostile_text import CLOSERS, MARKUP, repeated

#: CPU seconds one normalisation may take: 100x and more over what the linear code takes.
CPU_SECONDS_BOUND = 1.0


def assert_clean(text: str) -> None:
    """Normalise ``text`` as a description and check the answer."""
    started = time.thread_time()
    answer = normalise_ticket("title", text)
    cpu_seconds = time.thread_time() - started

    words = answer.split()
    assert answer == " ".join(words)  # one line, single spaces
    assert len(words) <= MAX_TOKENS
    assert words[:3] == ["title"] * 3  # the title first, as often as it weighs
    # each word is a token as tokenise makes it: lower case, no markup, no edge underscores
    assert all(tokenise(word) == [word] for word in words)
    # only the first MAX_CHARS characters are read
    assert answer == normalise_ticket("title", text[:MAX_CHARS])
    assert cpu_seconds < CPU_SECONDS_BOUND, f"{cpu_seconds:.3f} s of CPU for {len(text)} chars"


pieces = st.lists(st.sampled_from(MARKUP) | st.text(max_size=3), min_size=1, max_size=6).map(
    "".join
)


@given(piece=pieces.filter(bool), size=st.integers(min_value=8_000, max_value=3 * MAX_CHARS))
def test_repeated_markup_is_normalised_to_clean_tokens(piece: str, size: int) -> None:
    assert_clean(repeated(piece, size))


@given(
    token=st.text(alphabet=st.characters(categories=["L", "N", "Pc"]), min_size=1, max_size=8),
    size=st.integers(min_value=8_000, max_value=3 * MAX_CHARS),
    closer=st.sampled_from(CLOSERS),
)
def test_long_unbroken_tokens_are_normalised_to_clean_tokens(
    token: str, size: int, closer: str
) -> None:
    assert_clean("[" + repeated(token, size) + closer)


@given(
    body=st.lists(st.sampled_from(MARKUP) | st.characters(), max_size=400).map("".join),
    size=st.integers(min_value=0, max_value=2 * MAX_CHARS),
)
def test_arbitrary_markup_mixtures_are_normalised_to_clean_tokens(body: str, size: int) -> None:
    assert_clean(repeated(body, size))
