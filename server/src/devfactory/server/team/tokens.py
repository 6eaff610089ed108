"""API tokens: ``dft_`` + 30 random base62 characters + a 6-character CRC32 checksum.

The prefix makes a token recognisable (secret scanners, a paste in a chat), the checksum
lets anyone tell a typo or a random string from a real token offline, as GitHub's ``ghp_``
tokens do. The database keeps only the token's SHA-256 (the secret has 178 random bits, so
a fast hash is enough: nothing to brute-force) and its first characters as a hint.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib

PREFIX = "dft_"
SECRET_LENGTH = 30
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + SECRET_LENGTH + CHECKSUM_LENGTH
HINT_LENGTH = len(PREFIX) + 4

_ALPHABET = string.digits + string.ascii_letters


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(secret: str) -> str:
    return _base62(zlib.crc32(secret.encode("ascii")), CHECKSUM_LENGTH)


def new_token() -> str:
    """A fresh token (shown once to whoever creates it)."""
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
    return f"{PREFIX}{secret}{_checksum(secret)}"


def format_problem(token: str) -> str | None:
    """Why ``token`` cannot be a DevFactory token (offline: prefix, length, checksum), or None."""
    if not token.startswith(PREFIX):
        return f"a DevFactory token starts with {PREFIX!r}"
    if len(token) != TOKEN_LENGTH or not all(c in _ALPHABET for c in token[len(PREFIX) :]):
        return f"a DevFactory token is {TOKEN_LENGTH} characters: {PREFIX} and base62"
    secret = token[len(PREFIX) : len(PREFIX) + SECRET_LENGTH]
    if not hmac.compare_digest(_checksum(secret), token[-CHECKSUM_LENGTH:]):
        return "the token's checksum does not match: it was mistyped or cut"
    return None


def digest(token: str) -> str:
    """What the database stores of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hint(token: str) -> str:
    """The token's first characters, to recognise it in ``devfactory token list``."""
    return token[:HINT_LENGTH]
