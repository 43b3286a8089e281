"""The one text normaliser: what training sees is exactly what serving sends.

BlazingText (like fastText) splits on white space and treats every distinct
string as a token, so the text must be lower-cased and tokenised the same way
in data preparation, local training and the Lambda. ``normalise_ticket`` is
that single definition.

Ticket text comes from any client, so the work per ticket is bounded and
linear: at most MAX_CHARS characters are read, and no pattern can rescan the
text from each of many openers (``[[[[...`` or ``{code:{code:...``).
"""

from __future__ import annotations

import html
import re

#: Tokens kept per ticket. Titles carry most of the signal and long
#: descriptions are mostly stack traces and logs, so a ticket is cut after this
#: many tokens (title first). Changing it changes the model's input: retrain.
MAX_TOKENS = 256
#: Characters of a title, and of a description, read at all; the rest is dropped
#: before any pattern runs. The 256 tokens of every one of the 39,991 Apache
#: tickets in the shared data lie within the first 16,384 characters, so this
#: cut changes none of them (tests/unit/jira_priority/test_text.py).
MAX_CHARS = 32_768
#: The title's tokens appear this many times before the description's: fastText
#: averages token vectors, so this weighs the title three to one (measured: +0.03
#: macro-F1 on the shared data). Changing it changes the model's input: retrain.
TITLE_REPEATS = 3

# The braces of a {code} / {noformat} block, with optional parameters ({code:java}).
# Bounded parameters, so each position is looked at a bounded number of times: linear.
_CODE_BLOCK_BRACE = re.compile(r"\{(?:code|noformat)(?::[^{}\n]{0,200})?\}", re.IGNORECASE)

# Jira wiki markup: {code}, {code:java}, {noformat}, {quote}, {panel:title=x},
# {color:red} ... The braces and their parameters go; the content stays.
_JIRA_MACRO = re.compile(r"\{(?:code|noformat|quote|panel|color|html)(?::[^}]*)?\}", re.IGNORECASE)
# [link text|http://...] and bare URLs become the single token "url". The link
# text stops at a "[": in "[a [b|c]" the link starts at the last "[" before the
# "|", which gives the same tokens as starting at the first, and an attempt
# from one "[" never scans past the next one.
_JIRA_LINK = re.compile(r"\[([^\[\]|]*)\|[^\]]*\]")
_URL = re.compile(r"(?:https?|ftp|file)://\S+", re.IGNORECASE)
# A run of word characters without its leading and trailing underscores, so no
# token can start with BlazingText's ``__label__`` prefix. Linear: the optional
# group backtracks at most over the run's trailing underscores.
_TOKEN = re.compile(r"[^\W_](?:\w*[^\W_])?", re.UNICODE)
# For ASCII text the same tokens come from bytes.translate and split (C loops,
# ~3x faster than the regex; bytes.translate reads a 256-byte table where
# str.translate looks each character up in a dict): every ASCII character that
# is neither a letter, a digit nor an underscore becomes a space, upper case lower.
_ASCII_SEPARATORS = bytes(
    ord(chr(code).lower()) if chr(code).isalnum() or chr(code) == "_" else ord(" ")
    for code in range(256)
)


def _sub_before_last(pattern: re.Pattern[str], closer: str, replacement: str, text: str) -> str:
    """``pattern.sub`` on the text up to its last ``closer``, the only part it can match.

    Every match of ``pattern`` ends with ``closer``. Where a closer follows, an
    attempt either fails within a few characters or matches up to that closer
    (and the text it scanned is consumed), so the work is linear; past the last
    closer each attempt would scan to the end of the text and fail, which is
    what made the old normaliser quadratic.
    """
    end = text.rfind(closer) + 1
    if end == 0:
        return text
    return pattern.sub(replacement, text[:end]) + text[end:]


def tokenise(text: str, max_tokens: int = MAX_TOKENS) -> list[str]:
    """Lower-cased word tokens of ``text``, at most ``max_tokens`` of them.

    Only the first MAX_CHARS characters are read. Underscores at the edges of a
    token are dropped, so no token can start with BlazingText's ``__label__``
    prefix and be mistaken for a label.
    """
    # Each rewrite only where its marker occurs: a plain ticket skips all three
    # scans (~0.04 ms a ticket, most of the normaliser's time on a batch).
    text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "[" in text:
        text = _sub_before_last(_JIRA_LINK, "]", r" \1 url ", text)
    if "://" in text:
        text = _URL.sub(" url ", text)
    if "{" in text:
        text = _sub_before_last(_JIRA_MACRO, "}", " ", text)
    if not text.isascii():
        return _TOKEN.findall(text.lower())[:max_tokens]
    spaced = text.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii")
    if "_" not in text:
        return spaced.split(maxsplit=max_tokens)[:max_tokens]
    # _TOKEN's runs of word characters, their edge underscores stripped; a run of
    # underscores alone is no token.
    tokens = [token for word in spaced.split() if (token := word.strip("_"))]
    return tokens[:max_tokens]


def drop_code_blocks(text: str) -> str:
    """``text`` without the content of its ``{code}`` and ``{noformat}`` blocks.

    Jira opens and closes both blocks with the same marker, so markers pair up in
    order; an unclosed block runs to the end. Code and logs name the project's
    classes, not how urgent the bug is, and crowd the title out of the token budget.
    One pass over the markers: linear in the text.
    """
    kept: list[str] = []
    position = 0
    inside = False
    for brace in _CODE_BLOCK_BRACE.finditer(text):
        if not inside:
            kept.append(text[position : brace.start()])
        inside = not inside
        position = brace.end()
    if not inside:
        kept.append(text[position:])
    return " ".join(kept)


def normalise_ticket(
    title: str | None, description: str | None = None, max_tokens: int = MAX_TOKENS
) -> str:
    """Title (TITLE_REPEATS times) and description, code blocks dropped, as one line of tokens.

    May be empty. At most ``max_tokens`` tokens, the title's first; at most
    MAX_CHARS characters of each part are read.
    """
    tokens = tokenise(title, max_tokens) * TITLE_REPEATS if title else []
    if description and len(tokens) < max_tokens:
        kept = drop_code_blocks(description[:MAX_CHARS])
        tokens.extend(tokenise(kept, max_tokens - len(tokens)))
    return " ".join(tokens[:max_tokens])
