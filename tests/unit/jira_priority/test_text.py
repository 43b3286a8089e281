from __future__ import annotations

import csv
import gzip
import html
import re
import time

import pytest

from jira_priority import text as text_module
from jira_priority.text import (
    MAX_CHARS,
    MAX_TOKENS,
    TITLE_REPEATS,
    drop_code_blocks,
    normalise_ticket,
    tokenise,
)
from tests.support.events import REPO_ROOT


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
    # 20,000 unclosed, parameterised openers: a backtracking pattern would rescan the
    # 200 kB from each (seconds to minutes); one pass takes ~2 ms of CPU, 500x under the
    # bound. CPU time of this thread: a busy machine does not stretch it.
    hostile = "{code:" + "x" * 150 + " " + "{noformat:" * 20_000
    started = time.thread_time()
    drop_code_blocks(hostile)
    assert time.thread_time() - started < 1.0


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

    started = time.thread_time()  # CPU time: under 1 ms now, 500x under the bound
    normalise_ticket("title", description)

    assert time.thread_time() - started < 0.5


def test_a_megabyte_of_openers_costs_no_more_than_the_character_bound() -> None:
    started = time.thread_time()  # CPU time: under 0.1 ms now, 5,000x under the bound
    tokens = tokenise("[" * 1_048_576 + " word")

    assert time.thread_time() - started < 0.5
    assert tokens == []  # " word" lies beyond MAX_CHARS


def test_characters_beyond_the_bound_are_never_read() -> None:
    text = "x" * (MAX_CHARS - 2) + " y z"

    assert tokenise(text, max_tokens=10_000) == ["x" * (MAX_CHARS - 2), "y"]


def test_the_bound_applies_to_title_and_description_each() -> None:
    title = "t" * (MAX_CHARS + 5)
    description = "d" * (MAX_CHARS + 5) + " tail"

    assert normalise_ticket(title, description).split() == ["t" * MAX_CHARS] * TITLE_REPEATS + [
        "d" * MAX_CHARS
    ]


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

    joined = [" ".join(part for part in ticket if part) for ticket in tickets]
    changed = [index for index, text in enumerate(joined) if tokenise(text) != _old_tokenise(text)]

    assert len(tickets) > 3_900
    assert changed == []


def test_normalised_text_read_as_a_description_normalises_to_itself() -> None:
    # evaluate and the gate score prepared lines this way: the title must not weigh twice.
    once = normalise_ticket("NameNode crashes: NPE!", "See {code}x.y(){code} http://a.b/c")

    assert normalise_ticket(None, once) == once
    assert normalise_ticket("", once) == once
