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
#: Characters of a ticket (title, a space, then description) read at all; the
#: rest is dropped before any pattern runs. The 256 tokens of every one of the
#: 39,991 Apache tickets in the shared data lie within the first 16,384
#: characters, so this cut changes none of them (tests/unit/test_text.py).
MAX_CHARS = 32_768

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
# For ASCII text without underscores the same tokens come from str.translate and
# split (C loops, ~2.5x faster than the regex): every ASCII character that is not
# a letter or digit becomes a space.
_ASCII_SEPARATORS = str.maketrans(
    {chr(code): " " for code in range(128) if not chr(code).isalnum()}
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
    text = text.lower()
    if text.isascii() and "_" not in text:
        return text.translate(_ASCII_SEPARATORS).split()[:max_tokens]
    return _TOKEN.findall(text)[:max_tokens]


def normalise_ticket(
    title: str | None, description: str | None = None, max_tokens: int = MAX_TOKENS
) -> str:
    """Title and description as one line of space-separated tokens (may be empty)."""
    joined = " ".join(part[:MAX_CHARS] for part in (title, description) if part)
    return " ".join(tokenise(joined, max_tokens))
