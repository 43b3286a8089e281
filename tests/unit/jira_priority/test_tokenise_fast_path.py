"""Property: the ASCII fast path of ``tokenise`` gives the regex's tokens, exactly.

``tokenise`` answers ASCII text with bytes.translate and split, and only falls
back to the ``_TOKEN`` regex for other text; both must give the same tokens
(underscores at a token's edges dropped, inside kept), or training and serving
would see different words depending on a ticket's characters.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jira_priority.text import _TOKEN, tokenise

ASCII = st.text(alphabet=st.characters(max_codepoint=127), max_size=300)
WORDY = st.lists(
    st.sampled_from(["a", "Z", "9", "_", "__", " ", "-", ".", "\t", "\n", "x_y", "_q_", "É", "ß"]),
    max_size=60,
).map("".join)


@given(text=ASCII, max_tokens=st.integers(min_value=0, max_value=40))
def test_ascii_fast_path_equals_the_regex(text: str, max_tokens: int) -> None:
    assert tokenise(text, max_tokens) == _TOKEN.findall(text.lower())[:max_tokens]


@given(text=WORDY, max_tokens=st.integers(min_value=0, max_value=40))
def test_underscores_and_mixed_scripts_give_the_regex_tokens(text: str, max_tokens: int) -> None:
    assert tokenise(text, max_tokens) == _TOKEN.findall(text.lower())[:max_tokens]


def test_edge_underscores_are_dropped_and_inner_ones_kept() -> None:
    assert tokenise("__label__4 my_var __ _x_ a__b") == ["label__4", "my_var", "x", "a__b"]
