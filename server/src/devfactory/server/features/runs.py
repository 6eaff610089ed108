"""Agent runs: ``devfactory/runs/*``, ``devfactory/hitl/*`` and ``devfactory/snapshots/*``.

Sets up the workspace repository, snapshots, worktrees and the run manager during
initialize; recovers runs stranded by a crashed daemon before anything else; starts queued
runs once the client is ready. A working run shows as LSP work-done progress
(``runs/progress.py``).
"""

from __future__ import annotations

import asyncio

from devfactory.protocol.context import ProjectRules, ProjectRulesParams
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
    RunMessageParams,
    RunRewindParams,
    RunRewindResult,
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
from ..agents.attachments import AttachmentError, relative_path
from ..agents.rules import load_catalog, project_rules
from ..app import DevFactoryServer
from ..errors import InvalidParams
from ..runs.manager import RunManager
from ..runs.progress import RunProgress
from ..runs.talk import RunTalk
from ..safefs import PathRefused, check_path
from ..services import Services
from ..workspace.checkpoints import CheckpointService
from ..workspace.repository import WorkspaceRepository
from ..workspace.snapshots import SnapshotService
from ..workspace.worktrees import WorktreeManager


def _check_limit(limit: int, maximum: int = 1000) -> None:
    if not 1 <= limit <= maximum:
        raise InvalidParams(f"limit must be between 1 and {maximum}, got {limit}")


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
            checkpoints=CheckpointService(repo),
            lock=services.daemon,
        )
        talk = RunTalk(services.runs, open_text)
        talks.append(talk)
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

    talks: list[RunTalk] = []

    def open_text(rel: str) -> str | None:
        """The text of an open editor buffer (what the user sees), by workspace path."""
        uri = (server.services.root / rel).as_uri()
        document = server.workspace.text_documents.get(uri)
        return None if document is None else document.source

    @rpc.request(server, Requests.RUNS_CREATE)
    async def create(params: RunCreateParams) -> Run:
        return await talks[-1].create(params)

    @rpc.request(server, Requests.RUNS_MESSAGE)
    async def message(params: RunMessageParams) -> Run:
        return await talks[-1].message(params.run_id, params.text, params.context)

    @rpc.request(server, Requests.RUNS_REWIND)
    async def rewind(params: RunRewindParams) -> RunRewindResult:
        return await talks[-1].rewind(params.run_id, params.step)

    @rpc.request(server, Requests.PROJECT_RULES)
    async def rules(params: ProjectRulesParams) -> ProjectRules:
        services = server.services
        path = None
        if params.path:
            try:
                path = check_path(relative_path(params.path, services.root))
            except (AttachmentError, PathRefused) as exc:
                raise InvalidParams(f"path: {exc}") from None
        agent = services.settings.agent
        catalog = await asyncio.to_thread(load_catalog, services.root, agent.instructions)
        return project_rules(catalog, path, agent.rules_max_chars)

    @rpc.request(server, Requests.RUNS_GET)
    async def get(params: RunIdParams) -> Run:
        return await runs().get(params.run_id)

    @rpc.request(server, Requests.RUNS_LIST)
    async def list_runs(params: RunListParams) -> RunList:
        _check_limit(params.limit)
        services = server.services
        found = await services.store.runs.list(services.project.id, params.status, params.limit)
        return RunList(
            runs=found, total_usage=await services.store.runs.total_usage(services.project.id)
        )

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
        _check_limit(params.limit)
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
