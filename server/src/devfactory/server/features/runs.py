"""Agent runs: ``devfactory/runs/*`` (``runs/message`` and ``runs/rewind`` through
``runs/talk.py``) and ``devfactory/hitl/*``.

Provides the ``RunManager``, wired to what runs work with: events, snapshots and worktrees,
and when this daemon has them, command execution, the index's search and review (the
proposals port). Starting it recovers the runs of a daemon that died before anything else
sees them, then starts the queued ones.
A working run shows as LSP work-done progress (``runs/progress.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

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

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace

if TYPE_CHECKING:
    from ..runs.talk import RunTalk


def client_option(server: DevFactoryServer, name: str) -> bool:
    """Whether the client set ``{"devfactory": {name: true}}`` in its ``experimental``
    capabilities: ``ownRunsOnly`` (start only the runs this daemon queues: the CLI), or
    ``teamWorker`` (a ``devfactory worker``: it drives the segments it is given, starts
    nothing of its own accord and leaves other daemons' runs to them)."""
    experimental = getattr(server.client_capabilities, "experimental", None)
    if not isinstance(experimental, dict):
        return False
    options = experimental.get("devfactory")
    return isinstance(options, dict) and options.get(name) is True


async def start(
    server: DevFactoryServer,
    workspace: Workspace,
    events: services.EventBus,
    snapshots: services.SnapshotService,
    commands: services.CommandService | None,
    index: services.IndexService | None,
    review: services.ReviewService | None,
) -> AsyncIterator[services.RunManager]:
    from ..review.proposals import ReviewProposals
    from ..runs.context import RunContext
    from ..runs.ports import NoProposals
    from ..runs.progress import RunProgress
    from ..workspace.checkpoints import CheckpointService
    from ..workspace.worktrees import WorktreeManager

    context = RunContext(
        store=workspace.store,
        project_id=workspace.project.id,
        settings=workspace.settings,
        root=workspace.root,
        events=events,
        notify=server.send,
        snapshots=snapshots,
        worktrees=WorktreeManager(snapshots.repo, workspace.paths),
        checkpoints=CheckpointService(snapshots.repo),
        proposals=NoProposals() if review is None else ReviewProposals(review),
        commands=commands,
        search=None if index is None else index.search,
    )
    team_worker = client_option(server, "teamWorker")
    manager = services.RunManager(
        context,
        lock=workspace.daemon,
        spawn=server.run_task,
        own_runs_only=team_worker or client_option(server, "ownRunsOnly"),
    )
    if not team_worker:
        await manager.recover()
    events.foreign_listeners.append(manager.on_foreign_event)
    progress = RunProgress(server, lambda work, name: server.run_task(work, name=name))
    unsubscribe = events.subscribe(progress.on_event)
    server.run_task(manager.schedule(), name="schedule")
    yield manager
    await manager.shutdown()
    unsubscribe()


def setup(server: DevFactoryServer) -> None:
    async def talk() -> RunTalk:
        """Messages and rewinds, with attachments read as the editor shows them and
        ``@symbol`` mentions found through the index (when this daemon has one)."""
        from ..agents.attachments import symbol_finder
        from ..runs.talk import RunTalk

        manager = await server.need(services.RunManager)
        index = await server.find(services.IndexService)

        def open_text(rel: str) -> str | None:
            document = server.workspace.text_documents.get((manager.context.root / rel).as_uri())
            return None if document is None else document.source

        return RunTalk(
            manager,
            open_text=open_text,
            find_symbol=symbol_finder(index.symbols if index else None),
        )

    @rpc.request(server, Requests.RUNS_CREATE)
    async def create(params: RunCreateParams) -> Run:
        return await (await talk()).create(params)

    @rpc.request(server, Requests.RUNS_MESSAGE)
    async def message(params: RunMessageParams) -> Run:
        return await (await talk()).message(params.run_id, params.text, params.context)

    @rpc.request(server, Requests.RUNS_REWIND)
    async def rewind(params: RunRewindParams) -> RunRewindResult:
        return await (await talk()).rewind(params.run_id, params.step)

    @rpc.request(server, Requests.RUNS_GET)
    async def get(params: RunIdParams) -> Run:
        return await (await server.need(services.RunManager)).get(params.run_id)

    @rpc.request(server, Requests.RUNS_LIST)
    async def list_runs(params: RunListParams) -> RunList:
        runs = await server.need(services.RunManager)
        return RunList(
            runs=await runs.list_runs(params.status, params.limit),
            total_usage=await runs.store.runs.total_usage(runs.context.project_id),
        )

    @rpc.request(server, Requests.RUNS_START)
    async def start_run(params: RunIdParams) -> Run:
        return await (await server.need(services.RunManager)).start(params.run_id)

    @rpc.request(server, Requests.RUNS_PAUSE)
    async def pause(params: RunIdParams) -> Run:
        return await (await server.need(services.RunManager)).pause(params.run_id)

    @rpc.request(server, Requests.RUNS_RESUME)
    async def resume(params: RunIdParams) -> Run:
        return await (await server.need(services.RunManager)).resume(params.run_id)

    @rpc.request(server, Requests.RUNS_CANCEL)
    async def cancel(params: RunIdParams) -> Run:
        return await (await server.need(services.RunManager)).cancel(params.run_id)

    @rpc.request(server, Requests.RUNS_RETRY)
    async def retry(params: RunIdParams) -> Run:
        return await (await server.need(services.RunManager)).retry(params.run_id)

    @rpc.request(server, Requests.RUNS_DIRECTIVE)
    async def directive(params: RunDirectiveParams) -> Run:
        return await (await server.need(services.RunManager)).directive(params.run_id, params.text)

    @rpc.request(server, Requests.HITL_RESPOND)
    async def respond(params: HitlRespondParams) -> HitlRequest:
        return await (await server.need(services.RunManager)).respond(params)

    @rpc.request(server, Requests.HITL_LIST)
    async def list_questions(params: HitlListParams) -> HitlList:
        await server.need(services.RunManager)  # recovery has cancelled the questions of dead runs
        workspace = await server.need(Workspace)
        found = await workspace.store.hitl.list(workspace.project.id, params.run_id, params.status)
        return HitlList(requests=found)
