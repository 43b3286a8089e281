"""The one kind of failure a command reports to its user, and the extras check.

Every failure the user can act on derives from ``CommandError``; the command
line's single error handler prints it as one line, ``COMMAND: message``, and
exits with its ``exit_code``. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib


class CommandError(Exception):
    """A failure the user can act on: one line on stderr and an exit status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def require_extra(extra: str, *modules: str) -> None:
    """CommandError naming the extra to install when one of ``modules`` cannot be imported."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            raise CommandError(
                f"needs {module}, which the {extra!r} extra installs: "
                f"pip install 'jira-priority[{extra}]'"
            ) from None
