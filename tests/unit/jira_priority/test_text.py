from __future__ import annotations

import csv
import gzip
import html
import re
import time

import pytest

from jira_priority import text as text_module
from jira_priority.text import MAX_CHARS, MAX_TOKENS, normalise_ticket, tokenise
from tests.support.events import REPO_ROOT


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


# --- bounded, linear work on hostile text (issue 9, item 1) ------------------------

#: Jira's own limit for a description: what a client can legitimately send.
JIRA_FIELD_LIMIT = 32_767


@pytest.mark.parametrize(
    "unit",
    ["[", "{", "{code:", "{noformat:", "[a|", "[a|b", "|", "&", "]["],
    ids=repr,
)
def test_a_description_of_repeated_openers_is_normalised_quickly(unit: str) -> None:
    # The old patterns rescanned the rest of the text from every opener:
    # 32,767 "[" took ~17 s.
    description = unit * (JIRA_FIELD_LIMIT // len(unit))

    started = time.perf_counter()
    normalise_ticket("title", description)

    assert time.perf_counter() - started < 0.5


def test_a_megabyte_of_openers_costs_no_more_than_the_character_bound() -> None:
    started = time.perf_counter()
    tokens = tokenise("[" * 1_048_576 + " word")

    assert time.perf_counter() - started < 0.5
    assert tokens == []  # " word" lies beyond MAX_CHARS


def test_characters_beyond_the_bound_are_never_read() -> None:
    text = "x" * (MAX_CHARS - 2) + " y z"

    assert tokenise(text, max_tokens=10_000) == ["x" * (MAX_CHARS - 2), "y"]


def test_the_bound_applies_to_title_and_description_together() -> None:
    title = "t" * MAX_CHARS

    assert normalise_ticket(title, "description") == title


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("[a [b|c] d", ["a", "b", "url", "d"]),
        ("[[[x|y] z", ["x", "url", "z"]),
        ("[a|b [c] d] e", ["a", "url", "d", "e"]),
        ("[a|b", ["a", "b"]),
        ("[a] [b|c] [d", ["a", "b", "url", "d"]),
        ("{code:java}x{code} {color:red}y", ["x", "y"]),
        ("{code:a{b}c} d", ["c", "d"]),
        ("{code:x {code}", []),
        ("{CODE}x{Code:title=a}", ["x"]),
        ("{code:no closer", ["code", "no", "closer"]),
        ("{quote} [see|http://x/y] {quote", ["see", "url", "quote"]),
        ("http://a[b|c] d", ["url", "b", "url", "d"]),
    ],
)
def test_markup_gives_the_same_tokens_as_before(text: str, tokens: list[str]) -> None:
    assert tokenise(text) == tokens
    assert _old_tokenise(text) == tokens


# The normaliser before the linear patterns, kept as the reference: the new one
# must give the same tokens for real tickets, or every trained model would skew.
_OLD_MACRO = re.compile(r"\{(?:code|noformat|quote|panel|color|html)(?::[^}]*)?\}", re.IGNORECASE)
_OLD_LINK = re.compile(r"\[([^\]|]*)\|[^\]]*\]")
_OLD_URL = re.compile(r"(?:https?|ftp|file)://\S+", re.IGNORECASE)


def _old_tokenise(text: str, max_tokens: int = MAX_TOKENS) -> list[str]:
    text = html.unescape(text)
    text = _OLD_LINK.sub(r" \1 url ", text)
    text = _OLD_URL.sub(" url ", text)
    text = _OLD_MACRO.sub(" ", text)
    tokens = [token for word in re.findall(r"\w+", text.lower()) if (token := word.strip("_"))]
    return tokens[:max_tokens]


JIRA_DATA = REPO_ROOT.parent / "shared" / "data" / "jira" / "apache_bugs.csv.gz"
#: Every SAMPLE_EVERY-th ticket of the shared data (about 4,000 of 39,991).
SAMPLE_EVERY = 10


def _sample_tickets() -> list[tuple[str, str]]:
    csv.field_size_limit(1 << 30)
    with gzip.open(JIRA_DATA, "rt", encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        return [
            (row["title"], row["description"])
            for index, row in enumerate(rows)
            if index % SAMPLE_EVERY == 0
        ]


@pytest.mark.skipif(not JIRA_DATA.is_file(), reason="the shared Jira data is not on this machine")
def test_real_tickets_get_the_same_tokens_as_before() -> None:
    tickets = _sample_tickets()

    changed = [
        index
        for index, (title, description) in enumerate(tickets)
        if normalise_ticket(title, description).split()
        != _old_tokenise(" ".join(part for part in (title, description) if part))
    ]

    assert len(tickets) > 3_900
    assert changed == []
