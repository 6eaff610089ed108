"""The factory: ``devfactory/initiatives/*``, ``devfactory/phases/*``, ``devfactory/tasks/*``,
``devfactory/proposals/*``, ``devfactory/conversations/*`` and ``devfactory/chat/*``, and the
``devfactory/initiativeChanged`` notification.

Built on the runs (a task's execution is a run), review (an initiative's result is applied
like a run's) and the event stream; once the daemon is up it picks up the initiatives a
daemon that died left, then keeps them moving.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from devfactory.protocol.initiatives import (
    Initiative,
    InitiativeApplied,
    InitiativeCreateParams,
    InitiativeIdParams,
    InitiativeList,
    InitiativeListParams,
    InitiativeTree,
    Phase,
    PhaseComment,
    PhaseCommentList,
    PhaseCommentParams,
    PhaseCommentResolveParams,
    PhaseCommentsParams,
    PhaseCreateParams,
    PhaseDiff,
    PhaseIdParams,
    PhaseRequestChangesParams,
    PhaseUpdateParams,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.proposals import (
    ArtifactList,
    ChatListParams,
    ChatSendParams,
    ChatSession,
    ChatSessionList,
    ChatSessionParams,
    ChatStartParams,
    Conversation,
    ConversationAnswerParams,
    ConversationList,
    ConversationListParams,
    Proposal,
    ProposalAcceptParams,
    ProposalDismissParams,
    ProposalList,
    ProposalListParams,
)
from devfactory.protocol.tasks import (
    Task,
    TaskCreateParams,
    TaskIdParams,
    TaskList,
    TaskRespondParams,
    TaskUpdateParams,
)

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace


async def start(
    server: DevFactoryServer,
    workspace: Workspace,
    events: services.EventBus,
    snapshots: services.SnapshotService,
    runs: services.RunManager,
    review: services.ReviewService | None,
) -> AsyncIterator[services.Factory]:
    """The factory over the runs (a task's run), review (the result; without it nothing is
    applied) and the event stream; it picks up what a daemon that died left before any
    request reaches it."""
    from ..factory.adapters import ManagedRuns, ProviderModels, ReviewedResult
    from ..factory.context import FactoryContext

    context = FactoryContext(
        store=workspace.store,
        project_id=workspace.project.id,
        settings=workspace.settings,
        root=workspace.root,
        worktrees=workspace.paths.worktrees,
        events=events,
        notify=server.send,
        spawn=server.run_task,
        repo=snapshots.repo,
        snapshots=snapshots,
        runs=ManagedRuns(runs),
        models=ProviderModels(workspace.settings, workspace.root, workspace.store),
        review=None if review is None else ReviewedResult(review),
    )
    factory = services.Factory(context)
    unsubscribe = events.subscribe(factory.on_event)
    await factory.start()
    yield factory
    unsubscribe()
    await factory.shutdown()


def setup(server: DevFactoryServer) -> None:
    async def factory() -> services.Factory:
        return await server.need(services.Factory)

    # -- initiatives ---------------------------------------------------------------------------

    @rpc.request(server, Requests.INITIATIVES_CREATE)
    async def create(params: InitiativeCreateParams) -> Initiative:
        f = await factory()
        created = await f.initiatives.create(params)
        f.orchestrator.kick()
        return created

    @rpc.request(server, Requests.INITIATIVES_LIST)
    async def list_initiatives(params: InitiativeListParams) -> InitiativeList:
        f = await factory()
        return InitiativeList(initiatives=await f.initiatives.list(params))

    @rpc.request(server, Requests.INITIATIVES_GET)
    async def get(params: InitiativeIdParams) -> InitiativeTree:
        f = await factory()
        return await f.initiatives.tree(params.initiative_id)

    @rpc.request(server, Requests.INITIATIVES_ARCHIVE)
    async def archive(params: InitiativeIdParams) -> Initiative:
        f = await factory()
        return await f.initiatives.archive(params.initiative_id)

    @rpc.request(server, Requests.INITIATIVES_APPLY)
    async def apply(params: InitiativeIdParams) -> InitiativeApplied:
        f = await factory()
        async with f.orchestrator.locked():
            return await f.initiatives.apply(params.initiative_id)

    @rpc.request(server, Requests.INITIATIVES_ARTIFACTS)
    async def artifacts(params: InitiativeIdParams) -> ArtifactList:
        f = await factory()
        initiative = await f.records.initiative(params.initiative_id)
        found = await f.context.store.proposals.artifacts(initiative.id)
        return ArtifactList(artifacts=found)

    # -- phases --------------------------------------------------------------------------------

    @rpc.request(server, Requests.PHASES_CREATE)
    async def create_phase(params: PhaseCreateParams) -> Phase:
        f = await factory()
        created = await f.editor.create_phase(params)
        f.orchestrator.kick()
        return created

    @rpc.request(server, Requests.PHASES_UPDATE)
    async def update_phase(params: PhaseUpdateParams) -> Phase:
        f = await factory()
        updated = await f.editor.update_phase(params)
        f.orchestrator.kick()
        return updated

    @rpc.request(server, Requests.PHASES_APPROVE)
    async def approve_phase(params: PhaseIdParams) -> Phase:
        f = await factory()
        return await f.review.approve(params.phase_id)

    @rpc.request(server, Requests.PHASES_REQUEST_CHANGES)
    async def request_changes(params: PhaseRequestChangesParams) -> TaskList:
        f = await factory()
        return TaskList(tasks=await f.review.request_changes(params))

    @rpc.request(server, Requests.PHASES_DIFF)
    async def diff(params: PhaseIdParams) -> PhaseDiff:
        f = await factory()
        return await f.review.diff(params.phase_id)

    @rpc.request(server, Requests.PHASES_COMMENT)
    async def comment(params: PhaseCommentParams) -> PhaseComment:
        f = await factory()
        return await f.review.comment(params)

    @rpc.request(server, Requests.PHASES_COMMENTS)
    async def comments(params: PhaseCommentsParams) -> PhaseCommentList:
        f = await factory()
        return PhaseCommentList(comments=await f.review.comments(params))

    @rpc.request(server, Requests.PHASES_RESOLVE_COMMENT)
    async def resolve_comment(params: PhaseCommentResolveParams) -> PhaseComment:
        f = await factory()
        return await f.review.resolve(params.comment_id)

    # -- tasks ---------------------------------------------------------------------------------

    @rpc.request(server, Requests.TASKS_CREATE)
    async def create_task(params: TaskCreateParams) -> Task:
        f = await factory()
        created = await f.editor.create_task(params)
        f.orchestrator.kick()
        return created

    @rpc.request(server, Requests.TASKS_UPDATE)
    async def update_task(params: TaskUpdateParams) -> Task:
        f = await factory()
        updated = await f.editor.update_task(params)
        f.orchestrator.kick()
        return updated

    @rpc.request(server, Requests.TASKS_GET)
    async def get_task(params: TaskIdParams) -> Task:
        f = await factory()
        return await f.records.task(params.task_id)

    @rpc.request(server, Requests.TASKS_RESPOND)
    async def respond(params: TaskRespondParams) -> Task:
        f = await factory()
        return await f.review.respond(params)

    @rpc.request(server, Requests.TASKS_RETRY)
    async def retry(params: TaskIdParams) -> Task:
        f = await factory()
        return await f.review.retry(params.task_id)

    # -- proposals -----------------------------------------------------------------------------

    @rpc.request(server, Requests.PROPOSALS_LIST)
    async def list_proposals(params: ProposalListParams) -> ProposalList:
        f = await factory()
        initiative = await f.records.initiative(params.initiative_id)
        found = await f.context.store.proposals.list(initiative.id, params.status)
        return ProposalList(proposals=found)

    @rpc.request(server, Requests.PROPOSALS_ACCEPT)
    async def accept(params: ProposalAcceptParams) -> Proposal:
        f = await factory()
        async with f.orchestrator.locked():
            accepted = await f.proposals.accept(params)
            await f.orchestrator.settle(accepted.initiative_id)
        f.orchestrator.kick()
        return accepted

    @rpc.request(server, Requests.PROPOSALS_DISMISS)
    async def dismiss(params: ProposalDismissParams) -> Proposal:
        f = await factory()
        async with f.orchestrator.locked():
            dismissed = await f.proposals.dismiss(params)
            await f.orchestrator.settle(dismissed.initiative_id)
        return dismissed

    # -- conversations and chats ---------------------------------------------------------------

    @rpc.request(server, Requests.CONVERSATIONS_LIST)
    async def conversations(params: ConversationListParams) -> ConversationList:
        f = await factory()
        initiative = await f.records.initiative(params.initiative_id)
        found = await f.context.store.conversations.list(initiative.id)
        return ConversationList(conversations=found)

    @rpc.request(server, Requests.CONVERSATIONS_ANSWER)
    async def answer(params: ConversationAnswerParams) -> Conversation:
        f = await factory()
        return await f.conversations.answer(params)

    @rpc.request(server, Requests.CHAT_START)
    async def start_chat(params: ChatStartParams) -> ChatSession:
        f = await factory()
        return await f.conversations.start_chat(params)

    @rpc.request(server, Requests.CHAT_SEND)
    async def send(params: ChatSendParams) -> ChatSession:
        f = await factory()
        return await f.conversations.send(params)

    @rpc.request(server, Requests.CHAT_GET)
    async def get_chat(params: ChatSessionParams) -> ChatSession:
        f = await factory()
        return await f.conversations.chat(params.session_id)

    @rpc.request(server, Requests.CHAT_LIST)
    async def list_chats(params: ChatListParams) -> ChatSessionList:
        f = await factory()
        initiative = await f.records.initiative(params.initiative_id)
        found = await f.context.store.conversations.chats(initiative.id)
        return ChatSessionList(sessions=found)
