"""The client's files, through ACP ``fs/*`` where it offers them.

An editor's ``fs/read_text_file`` answers with the buffer as the user sees it, unsaved edits
included; ``fs/write_text_file`` puts text in the buffer (and lets the editor track the edit).
So: files attached to a prompt are read from the editor; before a change is applied the
editor is asked whether the file has unsaved edits (applying would fight them); after it is
applied the editor is given the new text. Without these capabilities the adapter falls back
to the daemon's own view: attached files are named for the agent to read, and the daemon's
conflict check guards the apply.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

from acp.interfaces import Client
from acp.schema import ClientCapabilities

from ...safefs import FileTooLarge, PathRefused, SafeTree

log = logging.getLogger(__name__)

MAX_ATTACHED = 200_000
"""Characters of an attached file put in the prompt."""
MAX_SHOWN = 16 * 1024 * 1024
"""Bytes of an applied file given to the editor's buffer (a larger one is left to reload)."""


class EditorFiles:
    """File access for one session: the editor's when it offers it, else none."""

    def __init__(
        self, root: Path, session_id: str, conn: Client, capabilities: ClientCapabilities
    ) -> None:
        self.root = root
        self.session_id = session_id
        self.conn = conn
        fs = capabilities.fs
        self.can_read = bool(fs and fs.read_text_file)
        self.can_write = bool(fs and fs.write_text_file)

    def relative(self, uri: str) -> str | None:
        """The workspace-relative path of a ``file://`` URI or path inside the workspace."""
        parsed = urlparse(uri)
        if parsed.scheme not in ("", "file"):
            return None
        path = Path(unquote(parsed.path))
        if not path.is_absolute():
            path = self.root / path
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    async def attached(self, uri: str, name: str) -> str:
        """A file the user attached to the prompt, as the agent should see it."""
        rel = self.relative(uri)
        if rel is None:
            return f"Attached: {name} ({uri})"
        if not self.can_read:
            return f"Attached file: {rel} (read it with read_file)"
        text = await self._read(rel)
        if text is None:
            return f"Attached file: {rel} (read it with read_file)"
        return self.embedded(rel, text)

    def embedded(self, uri: str, text: str) -> str:
        """Text the client sent with the prompt (or that the editor holds) as context."""
        rel = self.relative(uri) or uri
        if len(text) > MAX_ATTACHED:
            text = text[:MAX_ATTACHED] + "\n… (truncated)"
        return f"Attached file {rel}, as open in the editor:\n```\n{text}\n```"

    async def _read(self, rel: str) -> str | None:
        try:
            response = await self.conn.read_text_file(
                session_id=self.session_id, path=str(self.root / rel)
            )
        except Exception as exc:  # not open, not text, the client refused: fall back
            log.info("fs/read_text_file %s: %s", rel, exc)
            return None
        return response.content

    async def has_unsaved_edits(self, rel: str) -> bool:
        """True when the editor's text of ``rel`` differs from the file on disk."""
        if not self.can_read:
            return False
        editor = await self._read(rel)
        if editor is None:
            return False
        try:
            disk = (self.root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False  # a new file, or not text: nothing of the user's to lose
        return editor != disk

    async def show_applied(self, rel: str) -> None:
        """Give the editor the file as just applied (the whole change or some hunks, merged
        with the user's saved edits), so its buffer and edit tracking have it."""
        if not self.can_write:
            return
        try:
            data = SafeTree(self.root).read(rel, MAX_SHOWN)  # never through a link
        except (OSError, PathRefused, FileTooLarge):
            return
        if data is None:  # deleted by the change
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        try:
            await self.conn.write_text_file(
                session_id=self.session_id, path=str(self.root / rel), content=text
            )
        except Exception as exc:  # the file is applied on disk either way
            log.info("fs/write_text_file %s: %s", rel, exc)
