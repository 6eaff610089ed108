"""FTS5 match expressions, as the ports take them, turned into PostgreSQL tsquery text.

The subset the daemon writes (``ranking.fts_expression``) and people type: bare words, quoted
phrases, ``word*`` prefixes, ``AND``/``OR``/``NOT``, parentheses, and juxtaposition meaning
AND. Words are split at every non-alphanumeric character and lower-cased, as the lexical
column was (and as SQLite's unicode61 tokenizer does), so ``"parse_url"`` is the phrase
``parse <-> url``.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r'\s*(?:(")((?:[^"]|"")*)"|(\()|(\))|([^\s()"]+))')
_WORD = re.compile(r"[^\W_]+")
_OPERATORS = {"AND": "&", "OR": "|", "NOT": "& !"}
_NOTHING = "('a' & !'a')"
"""A query no text matches, standing for a term without a word."""


class MatchSyntaxError(ValueError):
    """The expression is not one the adapter understands; the message says where."""


def words(text: str) -> list[str]:
    """The lower-cased alphanumeric runs of ``text``: what the lexical column holds."""
    return [word.lower() for word in _WORD.findall(text)]


def to_tsquery(match: str) -> str | None:
    """``match`` as tsquery text for ``to_tsquery('simple', ...)``, None if it has no word."""
    parts: list[str] = []
    depth = 0
    position = 0
    expect_term = True
    for token in _TOKEN.finditer(match):
        if token.start() != position:
            break
        position = token.end()
        quote, phrase, opening, closing, bare = token.groups()
        if opening:
            if not expect_term:
                parts.append("&")
            parts.append("(")
            depth += 1
        elif closing:
            if depth == 0 or expect_term:
                raise MatchSyntaxError(f"unexpected ')' in {match!r}")
            parts.append(")")
            depth -= 1
        elif bare in _OPERATORS:
            if expect_term:
                raise MatchSyntaxError(f"{bare} needs a term before it in {match!r}")
            parts.append(_OPERATORS[bare])
            expect_term = True
            continue
        else:
            term = _phrase(phrase.replace('""', '"')) if quote else _bare(bare)
            if not expect_term:
                parts.append("&")
            parts.append(term)
        expect_term = opening is not None
    if position != len(match.rstrip()) and match[position:].strip():
        raise MatchSyntaxError(f"cannot read {match[position:]!r} in {match!r}")
    if depth or (expect_term and parts):
        raise MatchSyntaxError(f"{match!r} ends early")
    text = " ".join(parts)
    return None if text.replace(_NOTHING, "").strip("()&|! ") == "" else text


def _phrase(text: str, prefix: bool = False) -> str:
    """Words in a row; a phrase of no word matches nothing, as in FTS5."""
    lexemes = [f"'{word}'" for word in words(text)]
    if not lexemes:
        return _NOTHING
    if prefix:
        lexemes[-1] += ":*"
    return "(" + " <-> ".join(lexemes) + ")"


def _bare(text: str) -> str:
    return _phrase(text.removesuffix("*"), prefix=text.endswith("*"))
