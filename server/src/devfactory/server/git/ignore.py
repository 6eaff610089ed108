"""A gitignore line that matches one path and nothing else.

Git reads ``*``, ``?``, ``[``, a backslash, a leading ``!`` or ``#`` and trailing spaces as
pattern syntax; each is escaped with a backslash, and the path is anchored (a leading ``/``) so
that ``build/`` here does not also ignore ``src/build/``. A name holding a line break has no
such line.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\*?\[!# ])")


def literal_pattern(path: str) -> str | None:
    """The anchored pattern for ``path`` (relative, POSIX; a trailing ``/`` keeps it to a
    folder), or None when no line can name it."""
    if "\n" in path or "\r" in path:
        return None
    return "/" + _SPECIAL.sub(r"\\\1", path)
