from __future__ import annotations

import time

from jira_priority.text import (
    MAX_TOKENS,
    TITLE_REPEATS,
    drop_code_blocks,
    normalise_ticket,
    tokenise,
)


def test_lower_cases_and_splits_on_punctuation() -> None:
    assert normalise_ticket("NameNode crashes: NPE!", "See FSNamesystem.java:734") == (
        "namenode crashes npe namenode crashes npe namenode crashes npe see fsnamesystem java 734"
    )


def test_newlines_tabs_and_markup_never_survive() -> None:
    text = normalise_ticket(
        None, "Title\r\nline two {quote}\tquoted{quote} [x|http://a.b] {color:red}red{color}"
    )
    assert not {"\n", "\t", "{", "}"} & set(text)
    assert text == "title line two quoted x url red"


def test_links_and_urls_become_one_token() -> None:
    assert normalise_ticket(
        None, "see [the docs|https://hadoop.apache.org/x?y=1] and http://a.b/c"
    ) == ("see the docs url and url")


def test_html_entities_are_decoded() -> None:
    assert normalise_ticket(None, "a &lt; b &amp;&amp; c &gt; d") == "a b c d"


def test_no_token_can_pose_as_a_label() -> None:
    assert normalise_ticket(None, "__label__6 please") == "label__6 please"


def test_long_text_is_truncated_title_first() -> None:
    title = "title words here"
    description = " ".join(f"w{i}" for i in range(10_000))
    tokens = normalise_ticket(title, description).split(" ")
    assert len(tokens) == MAX_TOKENS
    assert tokens[:6] == ["title", "words", "here", "title", "words", "here"]
    assert tokens[3 * TITLE_REPEATS] == "w0"


def test_empty_or_symbol_only_text_gives_nothing() -> None:
    assert normalise_ticket("  ... !!! ", None) == ""
    assert normalise_ticket(None, None) == ""


def test_non_ascii_words_are_kept() -> None:
    assert tokenise("Fehler beim Übersetzen: 文件 损坏") == [
        "fehler",
        "beim",
        "übersetzen",
        "文件",
        "损坏",
    ]


def test_the_title_is_repeated_before_the_description() -> None:
    assert normalise_ticket("Disk full", "on restart") == " ".join(
        ["disk full"] * TITLE_REPEATS + ["on restart"]
    )


def test_a_long_title_is_cut_like_any_text() -> None:
    title = " ".join(f"t{i}" for i in range(MAX_TOKENS + 10))
    tokens = normalise_ticket(title, "description").split(" ")
    assert tokens == [f"t{i}" for i in range(MAX_TOKENS)]


def test_code_and_noformat_block_content_is_dropped() -> None:
    description = (
        "before {code:java}\nthrow new X();\n{code} middle "
        "{noformat}2024 ERROR log{noformat} {CODE}upper{CODE} after"
    )
    assert normalise_ticket(None, description) == "before middle after"


def test_an_unclosed_block_runs_to_the_end() -> None:
    assert drop_code_blocks("keep {code}never closed").split() == ["keep"]


def test_code_blocks_in_the_title_are_kept() -> None:
    # Titles are short and code in them is what the reporter chose to show.
    assert normalise_ticket("{code}NPE{code}") == " ".join(["npe"] * TITLE_REPEATS)


def test_dropping_blocks_is_linear_on_hostile_markup() -> None:
    # Many unclosed, parameterised openers: a backtracking pattern would be quadratic.
    hostile = "{code:" + "x" * 150 + " " + "{noformat:" * 20_000
    started = time.perf_counter()
    drop_code_blocks(hostile * 5)
    assert time.perf_counter() - started < 1.0
