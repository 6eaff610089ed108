"""The index feature: ``devfactory/search``, ``devfactory/index/status``,
``devfactory/index/rebuild``, ``devfactory/project/map`` and ``workspace/symbol``, plus the
document listener that keeps saved files fresh and unsaved buffers searchable.

Starting the feature only creates the service; the first pass runs in the background so the
editor is never kept waiting.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from devfactory.protocol._base import NoParams
from devfactory.protocol.index import (
    IndexRebuildParams,
    IndexRebuildResult,
    IndexStatus,
    SearchParams,
    SearchResult,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import ProjectMap, ProjectMapParams

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace
from ..documents import DocumentEvent, DocumentEventKind

log = logging.getLogger(__name__)

MAX_WORKSPACE_SYMBOLS = 200

SYMBOL_KINDS: dict[str, types.SymbolKind] = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "interface": types.SymbolKind.Interface,
    "trait": types.SymbolKind.Interface,
    "struct": types.SymbolKind.Struct,
    "enum": types.SymbolKind.Enum,
    "type": types.SymbolKind.TypeParameter,
    "module": types.SymbolKind.Module,
}


async def start(
    server: DevFactoryServer, workspace: Workspace, events: services.EventBus | None
) -> AsyncIterator[services.IndexService]:
    from ..index.progress import IndexProgress

    index = services.IndexService(
        store=workspace.store,
        project_id=workspace.project.id,
        root=workspace.root,
        settings=workspace.settings.index,
        cache_dir=workspace.paths.state / "cache",
        spawn=lambda coro: server.run_task(coro, name="index"),
        progress=lambda title: IndexProgress(server, title),
        events=lambda: events,
    )
    server.run_task(index.start(), name="index-start")
    yield index
    await index.stop()


def setup(server: DevFactoryServer) -> None:
    server.document_listeners.append(lambda event: on_document(server, event))

    @rpc.request(server, Requests.SEARCH)
    async def search(params: SearchParams) -> SearchResult:
        return await (await server.need(services.IndexService)).search(params)

    @rpc.request(server, Requests.INDEX_STATUS)
    async def status(params: NoParams) -> IndexStatus:
        return await (await server.need(services.IndexService)).status()

    @rpc.request(server, Requests.INDEX_REBUILD)
    async def rebuild(params: IndexRebuildParams) -> IndexRebuildResult:
        index = await server.need(services.IndexService)
        return await index.rebuild(full=params.full, embed=params.embed)

    @rpc.request(server, Requests.PROJECT_MAP)
    async def project_map(params: ProjectMapParams) -> ProjectMap:
        index = await server.need(services.IndexService)
        if params.write:
            return await index.write_project_map(run_id=None)
        return await index.project_map()

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        params: types.WorkspaceSymbolParams,
    ) -> list[types.SymbolInformation] | None:
        index = await server.find(services.IndexService)
        if index is None:
            return None
        rows = await index.symbols(params.query.strip(), MAX_WORKSPACE_SYMBOLS)
        return [
            types.SymbolInformation(
                name=row.name or "",
                kind=SYMBOL_KINDS.get(row.kind or "", types.SymbolKind.Object),
                location=types.Location(
                    uri=from_fs_path(str(index.root / row.path)) or "",
                    range=types.Range(
                        start=types.Position(line=row.start_line - 1, character=0),
                        end=types.Position(line=row.end_line - 1, character=0),
                    ),
                ),
                container_name=_container(row.symbol, row.name),
            )
            for row in rows
        ]


def _container(symbol: str | None, name: str | None) -> str | None:
    if not symbol or not name or not symbol.endswith(name):
        return None
    return symbol[: -len(name)].rstrip(".") or None


async def on_document(server: DevFactoryServer, event: DocumentEvent) -> None:
    """Saved files are re-indexed now; unsaved text is searchable through the overlay."""
    if event.path is None or (service := await server.find(services.IndexService)) is None:
        return
    try:
        path = Path(event.path).resolve().relative_to(service.root).as_posix()
    except ValueError:
        return  # a file outside the workspace
    if event.kind in (DocumentEventKind.OPENED, DocumentEventKind.CHANGED):
        if event.text is not None:
            service.buffer_changed(path, event.text)
    elif event.kind is DocumentEventKind.SAVED:
        service.buffer_closed(path)
        server.run_task(service.update([path]), name=f"index-save:{path}")
    else:
        service.buffer_closed(path)
