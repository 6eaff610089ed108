"""A fake ACP editor: the ``agent-client-protocol`` SDK's client side, recording what it gets.

It plays Zed's part in a session: it keeps every ``session/update``, answers each
``session/request_permission`` with the next scripted choice (an option's name or id;
``None`` dismisses it), serves ``fs/read_text_file`` from its unsaved buffers or the disk,
and records ``fs/write_text_file``::

    editor = FakeEditor(answers=["Yes", "Apply"])
    async with spawn_agent_process(editor, *ACP_COMMAND, cwd=root) as (conn, _process):
        await conn.initialize(protocol_version=1, client_capabilities=editor.capabilities)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    ToolCallUpdate,
    WriteTextFileResponse,
)

Answer = str | None | Callable[[], str | None]
"""An option's name or id, None to dismiss, or what the user does before answering."""


class FakeEditor:
    def __init__(self, answers: list[Answer] | None = None, *, fs: bool = True) -> None:
        self.answers = list(answers or [])
        self.capabilities = ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs), terminal=False
        )
        self.updates: list[Any] = []
        self.permissions: list[tuple[ToolCallUpdate, list[PermissionOption]]] = []
        self.buffers: dict[str, str] = {}
        """Unsaved editor text by absolute path (read_text_file answers with it)."""
        self.reads: list[str] = []
        self.writes: dict[str, str] = {}
        self.updated = asyncio.Event()

    def of_kind(self, kind: str) -> list[Any]:
        """The updates whose ``sessionUpdate`` is ``kind`` (``tool_call``, ``plan``...)."""
        return [u for u in self.updates if u.session_update == kind]

    def text(self, kind: str) -> str:
        """The text of every ``kind`` chunk (``agent_message_chunk``...), joined."""
        return "".join(u.content.text for u in self.of_kind(kind))

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)
        self.updated.set()

    async def request_permission(
        self,
        session_id: str,
        tool_call: ToolCallUpdate,
        options: list[PermissionOption],
        **kwargs: Any,
    ) -> RequestPermissionResponse:
        self.permissions.append((tool_call, options))
        answer = self.answers.pop(0) if self.answers else None
        if callable(answer):  # the user does something while the request waits, then answers
            answer = answer()
        if answer is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        option = next(o for o in options if answer in (o.name, o.option_id))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=option.option_id)
        )

    async def read_text_file(
        self,
        session_id: str,
        path: str,
        line: int | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        text = self.buffers.get(path)
        return ReadTextFileResponse(content=text if text is not None else Path(path).read_text())

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        self.writes[path] = content
        return WriteTextFileResponse()
