"""Progress lines for the user on stderr; stdout stays for results others may parse.

Errors are not printed here: ``training_jobs.cli`` prints every one, ``COMMAND: message``.
"""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """A line for the user on stderr (stdout stays for results others may parse)."""
    print(message, file=sys.stderr, flush=True)
