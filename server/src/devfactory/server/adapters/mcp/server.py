"""``devfactory mcp``: the workspace's index and history as a Model Context Protocol server.

Other agents (Claude Code, Cursor, Continue, Copilot) start it over stdio and get tools
``search_code``, ``find_symbol``, ``project_map``, ``list_runs`` and ``run_events``, and the
resources ``devfactory://project/map`` (PROJECT_MAP.md) and
``devfactory://runs/{run_id}/timeline``. Every answer comes from a child daemon through
``devfactory/*`` requests. It is read-only unless run creation is allowed (``--allow-runs`` or
the ``mcp.allowRunCreation`` setting), which adds ``create_run``: the run's changes still wait
for review in the editor or ``devfactory approve``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import msgspec
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import AgentRole, ExecutionMode, RunStatus, SearchGroupBy, SearchMode
from devfactory.protocol.errors import RpcError
from devfactory.protocol.events import EventList, EventsParams
from devfactory.protocol.index import SearchHit, SearchParams, SearchResult
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import ProjectMap, ProjectMapParams
from devfactory.protocol.runs import Run, RunCreateParams, RunIdParams, RunList, RunListParams

from ...safefs import FileTooLarge, PathRefused, SafeTree
from ...version import __version__
from .timeline import timeline_markdown

MAP_MAX_BYTES = 4 * 1024 * 1024
"""A PROJECT_MAP.md larger than this is generated afresh instead of read."""

INSTRUCTIONS = (
    "DevFactory knows this workspace: a hybrid (lexical + semantic) code index, the project map "
    "(languages, frameworks, routes, entry points) and the history of every agent run. Search "
    "with search_code, look up definitions with find_symbol, orient with project_map, and read "
    "what earlier runs did with list_runs and run_events."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
MAX_SYMBOL_CANDIDATES = 200

Call = Callable[[str, Any], Awaitable[Any]]


def daemon_caller(client: DaemonClient) -> Call:
    """``client.call`` with the daemon's errors turned into MCP tool errors the caller reads."""

    async def call(method: str, params: Any) -> Any:
        try:
            return await client.call(method, params)
        except RpcError as exc:
            raise ToolError(exc.message) from None
        except ConnectionError:
            raise ToolError(
                "the DevFactory daemon stopped: see .devfactory/logs/daemon.log in the workspace"
            ) from None

    return call


def format_hits(hits: list[SearchHit]) -> str:
    """Hits as an agent reads them best: location, symbol, then the snippet."""
    if not hits:
        return "no results"
    return "\n\n".join(
        f"{hit.path}:{hit.start_line}-{hit.end_line}"
        f"{f' {hit.symbol}' if hit.symbol else ''}{f' ({hit.kind})' if hit.kind else ''}\n"
        f"{hit.snippet}"
        for hit in hits
    )


def is_symbol(hit: SearchHit, name: str) -> bool:
    """``name`` is the hit's symbol, or its last dotted part(s): ``parse`` finds ``url.parse``."""
    symbol = hit.symbol or ""
    return symbol == name or symbol.endswith("." + name)


def build_server(client: DaemonClient, *, allow_runs: bool = False) -> MCPServer:
    """The MCP server over one daemon connection."""
    call = daemon_caller(client)
    server: MCPServer = MCPServer(
        name="devfactory", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    @server.tool(annotations=READ_ONLY)
    async def search_code(
        query: str,
        limit: int = 10,
        mode: Literal["hybrid", "lexical", "semantic"] = "hybrid",
        paths: list[str] | None = None,
        group_by: Literal["chunk", "file"] = "chunk",
    ) -> str:
        """Search the workspace's code and docs: hybrid lexical + semantic ranking, definitions
        first. ``paths``: glob patterns a hit's path must match (e.g. ``src/**/*.py``).
        ``group_by`` ``file``: ``limit`` files, best first, each with its best locations (to
        find the files a change needs)."""
        result: SearchResult = await call(
            Requests.SEARCH,
            SearchParams(
                query=query,
                limit=limit,
                mode=SearchMode(mode),
                paths=paths,
                group_by=SearchGroupBy(group_by),
                chunks_per_file=2,
            ),
        )
        if result.files is None:
            return format_hits(result.hits)
        if not result.files:
            return "no results"
        return "\n\n".join(f"# {file.path}\n{format_hits(file.hits)}" for file in result.files)

    @server.tool(annotations=READ_ONLY)
    async def find_symbol(name: str, limit: int = 10) -> str:
        """Find where a function, class or method is defined, by name (``parse_url``) or
        qualified name (``pkg.module.Class.method``)."""
        result: SearchResult = await call(
            Requests.SEARCH,
            SearchParams(query=name, limit=MAX_SYMBOL_CANDIDATES, mode=SearchMode.LEXICAL),
        )
        found = [hit for hit in result.hits if is_symbol(hit, name)][: max(limit, 1)]
        if not found:
            return f"no definition of {name!r} in the index (try search_code)"
        return format_hits(found)

    @server.tool(annotations=READ_ONLY)
    async def project_map() -> str:
        """The project map: languages, frameworks, entry points, routes, models, config files."""
        found: ProjectMap = await call(Requests.PROJECT_MAP, ProjectMapParams(write=False))
        return found.markdown

    @server.tool(annotations=READ_ONLY)
    async def list_runs(status: list[RunStatus] | None = None, limit: int = 20) -> list[Any]:
        """DevFactory agent runs on this workspace, newest first: prompt, status, provider,
        branch, timestamps and token usage."""
        found: RunList = await call(Requests.RUNS_LIST, RunListParams(status=status, limit=limit))
        return list(msgspec.to_builtins(found.runs))

    @server.tool(annotations=READ_ONLY)
    async def run_events(run_id: int, since: int = 0, limit: int = 200) -> dict[str, Any]:
        """The recorded steps of a run (prompt, plan, files read and changed, commands and
        their output, questions, summary), oldest first; page on with ``since = lastId``."""
        await call(Requests.RUNS_GET, RunIdParams(run_id=run_id))  # an unknown run is an error
        found: EventList = await call(
            Requests.EVENTS, EventsParams(run_id=run_id, since=since, limit=limit)
        )
        result: dict[str, Any] = msgspec.to_builtins(found)
        return result

    if allow_runs:

        @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
        async def create_run(
            prompt: str,
            provider: str | None = None,
            model: str | None = None,
            agent: AgentRole = AgentRole.BACKEND,
        ) -> dict[str, Any]:
            """Start a DevFactory agent run on the task ``prompt``. It works in its own git
            worktree; its changes wait for the user's review (never applied from here). Follow
            it with run_events."""
            run: Run = await call(
                Requests.RUNS_CREATE,
                RunCreateParams(
                    prompt=prompt,
                    provider=provider,
                    model=model,
                    agent=agent,
                    mode=ExecutionMode.REVIEW,
                ),
            )
            result: dict[str, Any] = msgspec.to_builtins(run)
            return result

    @server.resource(
        "devfactory://project/map",
        name="PROJECT_MAP.md",
        description="The project map DevFactory keeps at the workspace root.",
        mime_type="text/markdown",
    )
    async def project_map_file() -> str:
        # Through SafeTree, as every read of the workspace: a committed PROJECT_MAP.md that
        # links to ~/.ssh/id_rsa must not reach another agent's context.
        with contextlib.suppress(PathRefused, FileTooLarge):
            written = SafeTree(client.root).read("PROJECT_MAP.md", MAP_MAX_BYTES)
            if written is not None:
                return written.decode("utf-8", "replace")
        found: ProjectMap = await call(Requests.PROJECT_MAP, ProjectMapParams(write=False))
        return found.markdown

    @server.resource(
        "devfactory://runs/{run_id}/timeline",
        name="run timeline",
        description="Every recorded step of a DevFactory run, as Markdown.",
        mime_type="text/markdown",
    )
    async def run_timeline(run_id: str) -> str:
        if not run_id.isdigit():
            raise ResourceNotFoundError(f"no run {run_id!r}: run ids are numbers (list_runs)")
        try:
            return await timeline_markdown(client, int(run_id))
        except RpcError as exc:
            raise ResourceNotFoundError(exc.message) from None

    return server


async def serve(workspace: Path, *, allow_runs: bool) -> None:
    """Serve MCP on stdio until the client closes it."""
    from ..daemon import spawn_daemon

    async with spawn_daemon(workspace, "devfactory-mcp") as client:
        await build_server(client, allow_runs=allow_runs).run_stdio_async()
