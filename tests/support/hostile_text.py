"""Ticket text that once made the normaliser quadratic: shared by its property tests and its
benchmark (tests/benchmarks/normaliser.py)."""

from __future__ import annotations

#: Pieces that open a construct the patterns look for, close one, or break tokens.
MARKUP = [
    "[", "]", "|", "{", "}", ":", "&", ";", "#", "_", " ", "\n",
    "{code", "{code:", "{noformat:", "{quote}", "{color:red}", "{panel:title=",
    "[a|", "[a|b]", "|b]", "http://", "https://x", "ftp://", "&amp;", "&#x41;", "&lt",
]  # fmt: skip
#: What may follow a long unbroken token inside a link or macro.
CLOSERS = ["", "]", "}", "|]", " }"]


def repeated(piece: str, size: int) -> str:
    """``piece`` repeated to exactly ``size`` characters (``[`` for an empty piece)."""
    piece = piece or "["
    return (piece * (size // len(piece) + 1))[:size]
