"""Git config files without their credentials, for the sandbox.

A command sees the repository's git directory (read-only, so ``git status`` and ``git log``
work) and the home folder's ``.gitconfig``; either can hold a credential: a token in a remote's
URL (``https://user:ghp_…@github.com/…``), an ``http.extraHeader`` with a bearer token (what CI
checkouts write), a ``url.….insteadOf`` rewrite carrying one. The sandbox binds a copy without
them over each such file; git reads everything else as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from ..safefs import SafeTree

_USERINFO = re.compile(r"(?<=://)[^/@\s\"]+@")
"""The ``user:password@`` of a URL."""
_SECRET_VALUE = re.compile(r"^(\s*(?:extraheader|password|token)\s*=).*$", re.I | re.M)
"""A key whose whole value is a secret."""
HIDDEN = "(hidden in the sandbox)"


def without_credentials(text: str) -> str:
    """``text`` (a git config file) with every URL's user info and secret value taken out."""
    return _SECRET_VALUE.sub(rf"\1 {HIDDEN}", _USERINFO.sub("", text))


def credential_free_binds(configs: Iterable[str], folder: str) -> list[str]:
    """bwrap flags binding a copy without credentials over each of ``configs`` that holds
    one; the copies are written (atomically) under ``folder``, which the sandbox hides."""
    flags: list[str] = []
    for path in configs:
        try:
            text = Path(path).read_text("utf-8", "surrogateescape")
        except OSError:  # absent, or unreadable to the daemon too
            continue
        clean = without_credentials(text)
        if clean == text:
            continue
        name = f"git-config-{hashlib.sha256(path.encode()).hexdigest()[:16]}"
        Path(folder).mkdir(parents=True, exist_ok=True)
        SafeTree(Path(folder)).write(name, clean.encode("utf-8", "surrogateescape"))
        flags += ["--ro-bind", str(Path(folder, name)), path]
    return flags
