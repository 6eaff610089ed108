"""Agent runs: ``devfactory/runs/*``, ``devfactory/hitl/*`` and ``devfactory/snapshots/*``.

Sets up the workspace repository, snapshots, worktrees and the run manager during
initialize; recovers runs stranded by a crashed daemon before anything else; starts queued
runs once the client is ready. A working run shows as LSP work-done progress
(``runs/progress.py``).
"""

from __future__ import annotations

from devfactory.protocol.enums import SnapshotType
from devfactory.protocol.hitl import HitlList, HitlListParams, HitlRequest, HitlRespondParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import (
    Run,
    RunCreateParams,
    RunDirectiveParams,
    RunIdParams,
    RunList,
    RunListParams,
)
from devfactory.protocol.snapshots import (
    Snapshot,
    SnapshotCreateParams,
    SnapshotList,
    SnapshotListParams,
    SnapshotRestoreParams,
    SnapshotRestoreResult,
)

from .. import rpc
from ..app import DevFactoryServer
from ..runs.manager import RunManager
from ..runs.progress import RunProgress
from ..services import Services
from ..workspace.repository import WorkspaceRepository
from ..workspace.snapshots import SnapshotService
from ..workspace.worktrees import WorktreeManager


def setup(server: DevFactoryServer) -> None:
    async def start(services: Services) -> None:
        assert services.events is not None, "the events feature must start first"
        repo = WorkspaceRepository(
            services.paths, private=not services.is_git_repo, audit=services.record_git
        )
        services.snapshots = SnapshotService(
            repo, services.store, services.events, services.project.id
        )
        services.runs = RunManager(
            server=server,
            services=services,
            snapshots=services.snapshots,
            worktrees=WorktreeManager(repo, services.paths),
            lock=services.daemon,
        )
        await services.runs.recover()
        services.events.foreign_listeners.append(services.runs.on_foreign_event)
        progress = RunProgress(server, lambda work, name: server.run_task(work, name=name))
        services.events.subscribe(progress.on_event)

    async def schedule(services: Services) -> None:
        if services.runs is not None:
            await services.runs.schedule()

    async def stop(services: Services) -> None:
        if services.runs is not None:
            await services.runs.shutdown()

    server.on_initialize.append(start)
    server.on_initialized.append(schedule)
    server.on_shutdown.append(stop)

    def runs() -> RunManager:
        manager = server.services.runs
        assert manager is not None
        return manager

    @rpc.request(server, Requests.RUNS_CREATE)
    async def create(params: RunCreateParams) -> Run:
        return await runs().create(params)

    @rpc.request(server, Requests.RUNS_GET)
    async def get(params: RunIdParams) -> Run:
        return await runs().get(params.run_id)

    @rpc.request(server, Requests.RUNS_LIST)
    async def list_runs(params: RunListParams) -> RunList:
        services = server.services
        found = await services.store.runs.list(services.project.id, params.status, params.limit)
        return RunList(runs=found)

    @rpc.request(server, Requests.RUNS_START)
    async def start_run(params: RunIdParams) -> Run:
        return await runs().start(params.run_id)

    @rpc.request(server, Requests.RUNS_PAUSE)
    async def pause(params: RunIdParams) -> Run:
        return await runs().pause(params.run_id)

    @rpc.request(server, Requests.RUNS_RESUME)
    async def resume(params: RunIdParams) -> Run:
        return await runs().resume(params.run_id)

    @rpc.request(server, Requests.RUNS_CANCEL)
    async def cancel(params: RunIdParams) -> Run:
        return await runs().cancel(params.run_id)

    @rpc.request(server, Requests.RUNS_RETRY)
    async def retry(params: RunIdParams) -> Run:
        return await runs().retry(params.run_id)

    @rpc.request(server, Requests.RUNS_DIRECTIVE)
    async def directive(params: RunDirectiveParams) -> Run:
        return await runs().directive(params.run_id, params.text)

    @rpc.request(server, Requests.HITL_RESPOND)
    async def respond(params: HitlRespondParams) -> HitlRequest:
        return await runs().respond(params)

    @rpc.request(server, Requests.HITL_LIST)
    async def list_questions(params: HitlListParams) -> HitlList:
        services = server.services
        found = await services.store.hitl.list(services.project.id, params.run_id, params.status)
        return HitlList(requests=found)

    @rpc.request(server, Requests.SNAPSHOTS_CREATE)
    async def create_snapshot(params: SnapshotCreateParams) -> Snapshot:
        snapshots = server.services.snapshots
        assert snapshots is not None
        return await snapshots.create(SnapshotType.MANUAL, params.description)

    @rpc.request(server, Requests.SNAPSHOTS_LIST)
    async def list_snapshots(params: SnapshotListParams) -> SnapshotList:
        services = server.services
        found = await services.store.snapshots.list(
            services.project.id, params.run_id, params.limit
        )
        return SnapshotList(snapshots=found)

    @rpc.request(server, Requests.SNAPSHOTS_RESTORE)
    async def restore(params: SnapshotRestoreParams) -> SnapshotRestoreResult:
        snapshots = server.services.snapshots
        assert snapshots is not None
        restored, safety, files = await snapshots.restore(params.snapshot_id)
        return SnapshotRestoreResult(restored=restored, safety=safety, files=files)
