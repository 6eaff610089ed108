"""Snapshots of the workspace: ``devfactory/snapshots/create|list|restore``.

Provides the ``SnapshotService`` that runs (pre_run, final), commands (pre_command) and review
(pre_apply) take their snapshots with, over the workspace's repository: its own git
repository, or a private one when the folder is not the top of one (a plain folder, or a
folder inside a repository).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from devfactory.protocol.enums import SnapshotType
from devfactory.protocol.methods import Requests
from devfactory.protocol.snapshots import (
    Snapshot,
    SnapshotCreateParams,
    SnapshotList,
    SnapshotListParams,
    SnapshotRestoreParams,
    SnapshotRestoreResult,
)

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace


async def start(
    workspace: Workspace, events: services.EventBus
) -> AsyncIterator[services.SnapshotService]:
    from ..safefs import protected_files
    from ..workspace.repository import WorkspaceRepository

    repo = WorkspaceRepository(
        workspace.paths,
        private=not workspace.is_git_repo,
        audit=workspace.record_git,
        outer=workspace.git if workspace.inside_repository else None,
    )
    yield services.SnapshotService(
        repo,
        workspace.store,
        events,
        workspace.project.id,
        protected_files(workspace.root, workspace.settings),
    )


def setup(server: DevFactoryServer) -> None:
    @rpc.request(server, Requests.SNAPSHOTS_CREATE)
    async def create(params: SnapshotCreateParams) -> Snapshot:
        snapshots = await server.need(services.SnapshotService)
        return await snapshots.create(SnapshotType.MANUAL, params.description)

    @rpc.request(server, Requests.SNAPSHOTS_LIST)
    async def list_snapshots(params: SnapshotListParams) -> SnapshotList:
        workspace = await server.need(Workspace)
        found = await workspace.store.snapshots.list(
            workspace.project.id, params.run_id, params.limit
        )
        return SnapshotList(snapshots=found)

    @rpc.request(server, Requests.SNAPSHOTS_RESTORE)
    async def restore(params: SnapshotRestoreParams) -> SnapshotRestoreResult:
        snapshots = await server.need(services.SnapshotService)
        restored, safety, files = await snapshots.restore(params.snapshot_id)
        return SnapshotRestoreResult(restored=restored, safety=safety, files=files)
