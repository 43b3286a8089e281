from __future__ import annotations

import pytest

from jira_priority import text as text_module
from jira_priority.text import MAX_TOKENS, normalise_ticket, tokenise


def test_lower_cases_and_splits_on_punctuation() -> None:
    assert normalise_ticket("NameNode crashes: NPE!", "See FSNamesystem.java:734") == (
        "namenode crashes npe see fsnamesystem java 734"
    )


def test_newlines_tabs_and_markup_never_survive() -> None:
    text = normalise_ticket(
        "Title\r\nline two", "{code:java}\n\tthrow new X();\n{code}\n{noformat}a{noformat}"
    )
    assert not {"\n", "\t", "{", "}"} & set(text)
    assert text == "title line two throw new x a"


def test_links_and_urls_become_one_token() -> None:
    assert normalise_ticket("see [the docs|https://hadoop.apache.org/x?y=1] and http://a.b/c") == (
        "see the docs url and url"
    )


def test_html_entities_are_decoded() -> None:
    assert normalise_ticket("a &lt; b &amp;&amp; c &gt; d") == "a b c d"


def test_no_token_can_pose_as_a_label() -> None:
    assert normalise_ticket("__label__6 please") == "label__6 please"


def test_long_text_is_truncated_title_first() -> None:
    title = "title words here"
    description = " ".join(f"w{i}" for i in range(10_000))
    tokens = normalise_ticket(title, description).split(" ")
    assert len(tokens) == MAX_TOKENS
    assert tokens[:3] == ["title", "words", "here"]


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


def test_underscores_go_only_at_the_edges_of_a_token() -> None:
    assert tokenise("_x_ a__b 12_34_ ___ __label__4") == ["x", "a__b", "12_34", "label__4"]


@pytest.mark.parametrize(
    "text",
    [
        "NameNode crashes: NPE in FSNamesystem.java:123 (see HDFS-42)!",
        "tabs\tand\nnewlines\r\nand\x0bcontrol\x1fcharacters~`|\\^",
        "under_score __label__1 and ünïcode words side by side",
    ],
)
def test_the_ascii_fast_path_gives_the_tokens_of_the_pattern(text: str) -> None:
    assert tokenise(text) == text_module._TOKEN.findall(text.lower())
