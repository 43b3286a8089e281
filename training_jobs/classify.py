"""placeholder while being written."""

from typing import Any


def register(subparsers: Any) -> None:
    pass
