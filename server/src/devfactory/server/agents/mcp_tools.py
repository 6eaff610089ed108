"""Tools from MCP servers (``[mcp.servers.NAME]`` in devfactory.toml), offered to a run's model.

Each configured server is started for the run (stdio, in the run's worktree), its tools are
listed (narrowed to ``allowed_tools``) and offered next to ours as ``mcp__NAME__TOOL``. Every
call is recorded as an ``mcp_tool_called`` event; a tool outside the server's ``auto_approve``
list is a question to the user first (refusing is the first choice, so an automatic answer
stays safe). A server that does not start, or dies mid-run, is reported
(``mcp_server_failed``) and the run goes on without its tools.

Each server's MCP client lives in a task of its own: the SDK's task groups must be left by
the task that entered them, and a crashing server must not cancel the run's task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import McpServerFailed, McpToolCalled
from devfactory.protocol.settings import McpServerSettings

from .providers.base import ToolSpec

if TYPE_CHECKING:
    from mcp import Client

log = logging.getLogger(__name__)

Ask = Callable[[str, list[str]], Awaitable[str]]
Emit = Callable[..., Awaitable[Any]]

PREFIX = "mcp__"
CONNECTION_CLOSED = -32000
"""The JSON-RPC code the SDK gives a call whose server went away (``mcp_types``)."""
MAX_RESULT = 20_000
"""Characters of a tool's result given to the model (and recorded, up to MAX_RECORDED)."""
MAX_RECORDED = 4000
REFUSE = "Refuse"
ALLOW_ONCE = "Allow this call"
_NAME = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """The name the model sees: provider APIs allow ``[A-Za-z0-9_-]{1,64}``."""
    return _NAME.sub("_", f"{PREFIX}{server}__{tool}")[:64]


class ServerGone(Exception):
    """The MCP server stopped (or stopped answering)."""


class McpServer:
    """One MCP server process and its client, held by a task of its own."""

    def __init__(self, name: str, settings: McpServerSettings, cwd: Path) -> None:
        self.name = name
        self.settings = settings
        self.cwd = cwd
        self.client: Client | None = None
        self._ready: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> list[Any]:
        """Start the server; its tools (``mcp.types.Tool``). Raises why it could not start."""
        self._task = asyncio.create_task(self._hold(), name=f"mcp-server-{self.name}")
        try:
            return await asyncio.wait_for(asyncio.shield(self._ready), self.settings.timeout_s)
        except TimeoutError:
            raise ServerGone(f"did not answer within {self.settings.timeout_s:g} s") from None

    async def _hold(self) -> None:
        from mcp import Client, StdioServerParameters

        params = StdioServerParameters(
            command=self.settings.command,
            args=list(self.settings.args),
            env=dict(self.settings.env),
            cwd=self.cwd,
        )
        try:
            async with Client(params, read_timeout_seconds=self.settings.timeout_s) as client:
                tools = (await client.list_tools()).tools
                self.client = client
                self._ready.set_result(tools)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(ServerGone(describe(exc)))
            if not isinstance(exc, Exception):
                raise
        finally:
            self.client = None

    @property
    def alive(self) -> bool:
        return self.client is not None and self._task is not None and not self._task.done()

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Call ``tool``; ServerGone when the server stops or does not answer in time."""
        if not self.alive or self.client is None or self._task is None:
            raise ServerGone("it is not running")
        call = asyncio.ensure_future(self.client.call_tool(tool, arguments))
        done, _ = await asyncio.wait(
            {call, self._task}, timeout=self.settings.timeout_s, return_when="FIRST_COMPLETED"
        )
        if call in done:
            try:
                return call.result()
            except Exception as exc:
                if not self.alive or getattr(exc, "code", None) == CONNECTION_CLOSED:
                    self.client = None  # gone: later calls fail at once
                    raise ServerGone(describe(exc)) from None
                raise
        call.cancel()
        if self._task in done:
            raise ServerGone("it stopped")
        raise ServerGone(f"no answer within {self.settings.timeout_s:g} s")

    async def close(self) -> None:
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        except (TimeoutError, Exception):
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


def describe(exc: BaseException) -> str:
    """A one-line reason, looking inside the exception groups anyio raises."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def result_text(result: Any) -> str:
    """What the model reads of a ``CallToolResult``: its text, else its structured content."""
    parts = [getattr(block, "text", None) or f"[{block.type}]" for block in result.content]
    if not parts and result.structured_content is not None:
        parts = [json.dumps(result.structured_content)]
    text = "\n".join(parts) or "(no output)"
    if len(text) > MAX_RESULT:
        text = text[:MAX_RESULT] + "\n... (truncated)"
    return f"error: {text}" if result.is_error else text


class McpTools:
    """The MCP servers' tools of one run: started with it, closed with it."""

    def __init__(
        self, servers: dict[str, McpServerSettings], *, cwd: Path, emit: Emit, ask: Ask
    ) -> None:
        self.servers = {name: McpServer(name, config, cwd) for name, config in servers.items()}
        self.emit = emit
        self.ask = ask
        self.specs: list[ToolSpec] = []
        self._routes: dict[str, tuple[McpServer, str]] = {}
        self._allowed_for_run: set[str] = set()

    async def start(self) -> None:
        """Start every server; one that fails is reported and left out."""
        await asyncio.gather(*(self._start(server) for server in self.servers.values()))

    async def _start(self, server: McpServer) -> None:
        try:
            tools = await server.start()
        except Exception as exc:
            await self._failed(server, f"did not start: {describe(exc)}")
            return
        allowed = server.settings.allowed_tools
        for tool in tools:
            if allowed is not None and tool.name not in allowed:
                continue
            name = tool_name(server.name, tool.name)
            self._routes[name] = (server, tool.name)
            self.specs.append(
                ToolSpec(
                    name=name,
                    description=f"[MCP server {server.name}] {tool.description or tool.name}",
                    parameters=tool.input_schema or {"type": "object"},
                )
            )

    def handles(self, name: str) -> bool:
        return name in self._routes

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run the call (after approval) and record it; the model reads the returned text."""
        server, tool = self._routes[name]
        approval = await self._approval(server, tool, name, arguments)
        if approval == "refused":
            text = f"error: the user refused the call of {tool} ({server.name})"
            await self._record(server, tool, arguments, approval, text, is_error=True)
            return text
        try:
            text = result_text(await server.call(tool, arguments))
        except ServerGone as exc:
            await self._failed(server, f"stopped during the run: {exc}")
            text = f"error: the MCP server {server.name} is not available ({exc})"
        except Exception as exc:  # a protocol error from the server: the model may adapt
            text = f"error: {tool} ({server.name}) failed: {describe(exc)}"
        await self._record(
            server, tool, arguments, approval, text, is_error=text.startswith("error")
        )
        return text

    async def _approval(
        self, server: McpServer, tool: str, name: str, arguments: dict[str, Any]
    ) -> str:
        if tool in server.settings.auto_approve or name in self._allowed_for_run:
            return "auto"
        for_run = f"Allow {tool} for the rest of this run"
        shown = json.dumps(arguments)[:500]
        answer = await self.ask(
            f"The agent wants to call `{tool}` of the MCP server `{server.name}` with {shown}. "
            "Allow it?",
            [REFUSE, ALLOW_ONCE, for_run],
        )
        if answer.strip() == for_run:
            self._allowed_for_run.add(name)
            return "user"
        return "user" if answer.strip() == ALLOW_ONCE else "refused"

    async def _record(
        self,
        server: McpServer,
        tool: str,
        arguments: dict[str, Any],
        approval: str,
        text: str,
        *,
        is_error: bool,
    ) -> None:
        await self.emit(
            EventType.MCP_TOOL_CALLED,
            f"{tool} ({server.name})",
            McpToolCalled(
                server=server.name,
                tool=tool,
                arguments=arguments,
                approval=approval,
                is_error=is_error,
                result=text[:MAX_RECORDED],
            ),
            message=text[:MAX_RECORDED],
            severity=Severity.WARNING if is_error else Severity.INFO,
        )

    async def _failed(self, server: McpServer, reason: str) -> None:
        """Report the server's failure once and withdraw its tools."""
        gone = [name for name, (owner, _) in self._routes.items() if owner is server]
        for name in gone:
            del self._routes[name]
        self.specs = [spec for spec in self.specs if spec.name not in gone]
        message = f"MCP server {server.name} {reason}; the run goes on without its tools"
        log.warning("%s", message)
        await self.emit(
            EventType.MCP_SERVER_FAILED,
            f"MCP server {server.name} unavailable",
            McpServerFailed(server=server.name, message=message),
            message=message,
            severity=Severity.WARNING,
        )

    async def aclose(self) -> None:
        await asyncio.gather(*(server.close() for server in self.servers.values()))
