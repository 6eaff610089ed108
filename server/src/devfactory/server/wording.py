"""Small helpers for the sentences the daemon shows people (event titles, messages)."""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``"1 file"``, ``"2 files"``; pass ``plural_form`` for nouns that do not take an s."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"
