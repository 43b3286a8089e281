"""Progress lines for the user on stderr; stdout stays for results others may parse.

Errors are not printed here: ``training_jobs.cli`` prints every one, ``COMMAND: message``.
Text that comes from outside (a server's answer, a file's contents) goes through
``printable`` before it reaches a terminal: an ESC or OSC sequence in a Jira error
message or a priority name would otherwise drive the user's terminal, a CR or LF
forge lines, and 10 kB of it bury the message.
"""

from __future__ import annotations

import sys

#: How much of one piece of outside text a message quotes.
OUTSIDE_TEXT_LIMIT = 200
#: The longest line the error handler prints.
MESSAGE_LIMIT = 2000


def printable(text: object, limit: int | None = OUTSIDE_TEXT_LIMIT) -> str:
    """``text`` as one visible line: every character Python does not call printable (controls,
    CR/LF, ESC, bidi and zero-width format characters, line separators) shown as its escape
    (``\\x1b``, ``\\n``, ``\\u202e``), and at most ``limit`` characters of it kept."""
    text = str(text)
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"… ({len(text) - limit:,} more characters)"
        text = text[:limit]
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text + cut


def say(message: str) -> None:
    """A line for the user on stderr (stdout stays for results others may parse)."""
    print(printable(message, limit=None), file=sys.stderr, flush=True)
