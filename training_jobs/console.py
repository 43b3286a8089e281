"""What every command shares on the terminal: progress lines, one-line failures, help text.

Results go to stdout, where others may parse them; progress and errors go to
stderr, an error as ``COMMAND: message``.
"""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """A line for the user on stderr (stdout stays for results others may parse)."""
    print(message, file=sys.stderr, flush=True)


def fail(command: str, message: str, status: int = 1) -> int:
    """Print ``COMMAND: message`` on stderr; returns ``status``, the exit status to return."""
    print(f"{command}: {message}", file=sys.stderr)
    return status


def doc_summary(doc: str | None) -> str | None:
    """A command module's first docstring paragraph as ``--help`` shows it (no ````)."""
    return doc.split("\n\n")[0].replace("``", "") if doc else None
