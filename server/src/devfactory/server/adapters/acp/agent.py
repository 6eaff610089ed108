"""``devfactory acp``: DevFactory as an Agent Client Protocol agent (ACP v1, stdio).

Implements ``initialize``, ``session/new``, ``session/load`` (replays the session's runs),
``session/prompt`` (``session.AcpSession``), ``session/cancel`` and ``session/set_mode``
(review, yolo). Each session works on the folder the client names (``cwd``) through one
daemon per folder, spawned on first use and shut down with the adapter. Errors the client
can fix (an unknown session, a bad mode, a folder that does not exist) are JSON-RPC errors
that say which field and why; malformed messages are refused by the SDK; both leave the
adapter serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, cast

from acp import PROTOCOL_VERSION, RequestError, run_agent
from acp.interfaces import Agent, Client
from acp.schema import (
    AgentCapabilities,
    ClientCapabilities,
    Implementation,
    InitializeResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionMode,
    SessionModeState,
    SetSessionModeResponse,
)

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import ExecutionMode

from ...version import __version__
from ..daemon import spawn_daemon
from .session import AcpSession
from .store import SessionRecord, SessionStore

log = logging.getLogger(__name__)

MODES = [
    SessionMode(
        id=ExecutionMode.REVIEW.value,
        name="Review",
        description="Each proposed change waits for you to apply or reject it.",
    ),
    SessionMode(
        id=ExecutionMode.YOLO.value,
        name="Yolo",
        description="Proposed changes are applied when the run completes (undoable snapshot).",
    ),
]


def invalid(field: str, message: str) -> RequestError:
    """An invalid-params error naming the field, with a message that says the fix."""
    return RequestError(-32602, message, {"field": field})


def mode_state(mode: ExecutionMode) -> SessionModeState:
    return SessionModeState(current_mode_id=mode.value, available_modes=MODES)


class DevFactoryAgent:
    """The ACP agent: sessions over DevFactory daemons."""

    def __init__(self) -> None:
        self.conn: Client | None = None
        self.capabilities = ClientCapabilities()
        self.sessions: dict[str, AcpSession] = {}
        self._daemons: dict[Path, DaemonClient] = {}
        self._daemon_lock = asyncio.Lock()
        self._stack = AsyncExitStack()

    def on_connect(self, conn: Client) -> None:
        self.conn = conn

    async def aclose(self) -> None:
        """Stop every daemon this adapter started (their runs stop with them)."""
        await self._stack.aclose()

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        self.capabilities = client_capabilities or ClientCapabilities()
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True),
                mcp_capabilities=McpCapabilities(http=False, sse=False),
            ),
            agent_info=Implementation(name="devfactory", title="DevFactory", version=__version__),
        )

    async def _daemon(self, cwd: str) -> DaemonClient:
        root = Path(cwd)
        if not root.is_absolute() or not root.is_dir():
            raise invalid("cwd", f"cwd must be an absolute path to a folder; got {cwd!r}")
        root = root.resolve()
        async with self._daemon_lock:
            if root not in self._daemons:
                self._daemons[root] = await self._stack.enter_async_context(
                    spawn_daemon(root, "devfactory-acp")
                )
            return self._daemons[root]

    def _open(self, session_id: str, daemon: DaemonClient, record: SessionRecord) -> AcpSession:
        assert self.conn is not None
        session = AcpSession(
            session_id,
            daemon=daemon,
            conn=self.conn,
            capabilities=self.capabilities,
            store=SessionStore(daemon.root),
            record=record,
        )
        self.sessions[session_id] = session
        return session

    def _session(self, session_id: str) -> AcpSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise invalid(
                "sessionId",
                f"unknown session {session_id!r}: create one with session/new, or open a "
                "past one with session/load",
            )
        return session

    async def new_session(
        self, cwd: str, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> NewSessionResponse:
        daemon = await self._daemon(cwd)
        from ...config import load_settings

        settings, _ = load_settings(daemon.root, None)
        session_id = f"devfactory-{uuid.uuid4().hex}"
        record = SessionRecord(mode=settings.default_mode)
        session = self._open(session_id, daemon, record)
        session.store.save(session_id, record)
        return NewSessionResponse(session_id=session_id, modes=mode_state(record.mode))

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> LoadSessionResponse:
        daemon = await self._daemon(cwd)
        record = SessionStore(daemon.root).get(session_id)
        if record is None:
            raise invalid(
                "sessionId", f"unknown session {session_id!r} in {daemon.root}: nothing to load"
            )
        session = self._open(session_id, daemon, record)
        await session.replay()
        return LoadSessionResponse(modes=mode_state(record.mode))

    async def set_session_mode(
        self, session_id: str, mode_id: str, **kwargs: Any
    ) -> SetSessionModeResponse:
        session = self._session(session_id)
        try:
            mode = ExecutionMode(mode_id)
        except ValueError:
            known = ", ".join(mode.id for mode in MODES)
            raise invalid("modeId", f"unknown mode {mode_id!r}; the modes are {known}") from None
        await session.set_mode(mode)
        return SetSessionModeResponse()

    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        if session.working:
            raise RequestError(
                -32600, f"session {session_id!r} is still working on a prompt; cancel it first"
            )
        stop_reason = await session.prompt(prompt)
        return PromptResponse(stop_reason=stop_reason)

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            log.info("session/cancel for unknown session %r", session_id)
            return  # a notification: nothing to answer
        await session.cancel()


async def serve() -> None:
    """Serve ACP on stdin/stdout until the client closes it."""
    agent = DevFactoryAgent()
    try:
        # The SDK routes the methods an agent defines; the rest answer "method not found".
        await run_agent(cast(Agent, agent))
    finally:
        with contextlib.suppress(Exception):
            await agent.aclose()
