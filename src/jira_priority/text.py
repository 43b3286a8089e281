"""The one text normaliser: what training sees is exactly what serving sends.

BlazingText (like fastText) splits on white space and treats every distinct
string as a token, so the text must be lower-cased and tokenised the same way
in data preparation, local training and the Lambda. ``normalise_ticket`` is
that single definition.
"""

from __future__ import annotations

import html
import re

#: Tokens kept per ticket. Titles carry most of the signal and long
#: descriptions are mostly stack traces and logs, so a ticket is cut after this
#: many tokens (title first). Changing it changes the model's input: retrain.
MAX_TOKENS = 256
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
# [link text|http://...] and bare URLs become the single token "url".
_JIRA_LINK = re.compile(r"\[([^\]|]*)\|[^\]]*\]")
_URL = re.compile(r"(?:https?|ftp|file)://\S+", re.IGNORECASE)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenise(text: str, max_tokens: int = MAX_TOKENS) -> list[str]:
    """Lower-cased word tokens of ``text``, at most ``max_tokens`` of them.

    Underscores at the edges of a token are dropped, so no token can start
    with BlazingText's ``__label__`` prefix and be mistaken for a label.
    """
    text = html.unescape(text)
    text = _JIRA_LINK.sub(r" \1 url ", text)
    text = _URL.sub(" url ", text)
    text = _JIRA_MACRO.sub(" ", text)
    tokens: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group().strip("_")
        if token:
            tokens.append(token)
            if len(tokens) >= max_tokens:
                break
    return tokens


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

    May be empty. At most ``max_tokens`` tokens, the title's first.
    """
    tokens = tokenise(title, max_tokens) * TITLE_REPEATS if title else []
    if description and len(tokens) < max_tokens:
        tokens.extend(tokenise(drop_code_blocks(description), max_tokens - len(tokens)))
    return " ".join(tokens[:max_tokens])
