"""The factory: ``devfactory/initiatives/*``, ``devfactory/phases/*``, ``devfactory/tasks/*``,
``devfactory/proposals/*``, ``devfactory/conversations/*`` and ``devfactory/chat/*``, and the
``devfactory/initiativeChanged`` notification.

Built on the runs (a task's execution is a run), review (an initiative's result is applied
like a run's) and the event stream; once the daemon is up it picks up the initiatives a
daemon that died left, then keeps them moving.
"""

from __future__ import annotations

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

from .. import rpc
from ..app import DevFactoryServer
from ..factory.adapters import ManagedRuns, ProviderModels, ReviewedResult
from ..factory.context import FactoryContext
from ..factory.service import Factory
from ..services import Services


def setup(server: DevFactoryServer) -> None:
    async def start(services: Services) -> None:
        assert services.events and services.runs and services.snapshots, "runs start first"
        context = FactoryContext(
            store=services.store,
            project_id=services.project.id,
            settings=services.settings,
            root=services.root,
            worktrees=services.paths.worktrees,
            events=services.events,
            notify=server.send,
            spawn=server.run_task,
            repo=services.snapshots.repo,
            snapshots=services.snapshots,
            runs=ManagedRuns(services.runs),
            models=ProviderModels(services.settings, services.root, services.store),
            review=None if services.review is None else ReviewedResult(services.review),
        )
        services.factory = Factory(context)
        services.events.subscribe(services.factory.on_event)

    async def resume(services: Services) -> None:
        if services.factory is not None:
            await services.factory.start()

    async def stop(services: Services) -> None:
        if services.factory is not None:
            await services.factory.shutdown()

    server.on_initialize.append(start)
    server.on_initialized.append(resume)
    server.on_shutdown.append(stop)

    def factory() -> Factory:
        found = server.services.factory
        assert found is not None
        return found

    # -- initiatives ---------------------------------------------------------------------------

    @rpc.request(server, Requests.INITIATIVES_CREATE)
    async def create(params: InitiativeCreateParams) -> Initiative:
        created = await factory().initiatives.create(params)
        factory().orchestrator.kick()
        return created

    @rpc.request(server, Requests.INITIATIVES_LIST)
    async def list_initiatives(params: InitiativeListParams) -> InitiativeList:
        return InitiativeList(initiatives=await factory().initiatives.list(params))

    @rpc.request(server, Requests.INITIATIVES_GET)
    async def get(params: InitiativeIdParams) -> InitiativeTree:
        return await factory().initiatives.tree(params.initiative_id)

    @rpc.request(server, Requests.INITIATIVES_ARCHIVE)
    async def archive(params: InitiativeIdParams) -> Initiative:
        return await factory().initiatives.archive(params.initiative_id)

    @rpc.request(server, Requests.INITIATIVES_APPLY)
    async def apply(params: InitiativeIdParams) -> InitiativeApplied:
        async with factory().orchestrator.lock:
            return await factory().initiatives.apply(params.initiative_id)

    @rpc.request(server, Requests.INITIATIVES_ARTIFACTS)
    async def artifacts(params: InitiativeIdParams) -> ArtifactList:
        initiative = await factory().records.initiative(params.initiative_id)
        found = await server.services.store.proposals.artifacts(initiative.id)
        return ArtifactList(artifacts=found)

    # -- phases --------------------------------------------------------------------------------

    @rpc.request(server, Requests.PHASES_CREATE)
    async def create_phase(params: PhaseCreateParams) -> Phase:
        created = await factory().editor.create_phase(params)
        factory().orchestrator.kick()
        return created

    @rpc.request(server, Requests.PHASES_UPDATE)
    async def update_phase(params: PhaseUpdateParams) -> Phase:
        updated = await factory().editor.update_phase(params)
        factory().orchestrator.kick()
        return updated

    @rpc.request(server, Requests.PHASES_APPROVE)
    async def approve_phase(params: PhaseIdParams) -> Phase:
        return await factory().review.approve(params.phase_id)

    @rpc.request(server, Requests.PHASES_REQUEST_CHANGES)
    async def request_changes(params: PhaseRequestChangesParams) -> TaskList:
        return TaskList(tasks=await factory().review.request_changes(params))

    @rpc.request(server, Requests.PHASES_DIFF)
    async def diff(params: PhaseIdParams) -> PhaseDiff:
        return await factory().review.diff(params.phase_id)

    @rpc.request(server, Requests.PHASES_COMMENT)
    async def comment(params: PhaseCommentParams) -> PhaseComment:
        return await factory().review.comment(params)

    @rpc.request(server, Requests.PHASES_COMMENTS)
    async def comments(params: PhaseCommentsParams) -> PhaseCommentList:
        return PhaseCommentList(comments=await factory().review.comments(params))

    @rpc.request(server, Requests.PHASES_RESOLVE_COMMENT)
    async def resolve_comment(params: PhaseCommentResolveParams) -> PhaseComment:
        return await factory().review.resolve(params.comment_id)

    # -- tasks ---------------------------------------------------------------------------------

    @rpc.request(server, Requests.TASKS_CREATE)
    async def create_task(params: TaskCreateParams) -> Task:
        created = await factory().editor.create_task(params)
        factory().orchestrator.kick()
        return created

    @rpc.request(server, Requests.TASKS_UPDATE)
    async def update_task(params: TaskUpdateParams) -> Task:
        updated = await factory().editor.update_task(params)
        factory().orchestrator.kick()
        return updated

    @rpc.request(server, Requests.TASKS_GET)
    async def get_task(params: TaskIdParams) -> Task:
        return await factory().records.task(params.task_id)

    @rpc.request(server, Requests.TASKS_RESPOND)
    async def respond(params: TaskRespondParams) -> Task:
        return await factory().review.respond(params)

    @rpc.request(server, Requests.TASKS_RETRY)
    async def retry(params: TaskIdParams) -> Task:
        return await factory().review.retry(params.task_id)

    # -- proposals -----------------------------------------------------------------------------

    @rpc.request(server, Requests.PROPOSALS_LIST)
    async def list_proposals(params: ProposalListParams) -> ProposalList:
        initiative = await factory().records.initiative(params.initiative_id)
        found = await server.services.store.proposals.list(initiative.id, params.status)
        return ProposalList(proposals=found)

    @rpc.request(server, Requests.PROPOSALS_ACCEPT)
    async def accept(params: ProposalAcceptParams) -> Proposal:
        async with factory().orchestrator.lock:
            accepted = await factory().proposals.accept(params)
            await factory().orchestrator.settle(accepted.initiative_id)
        factory().orchestrator.kick()
        return accepted

    @rpc.request(server, Requests.PROPOSALS_DISMISS)
    async def dismiss(params: ProposalDismissParams) -> Proposal:
        async with factory().orchestrator.lock:
            dismissed = await factory().proposals.dismiss(params)
            await factory().orchestrator.settle(dismissed.initiative_id)
        return dismissed

    # -- conversations and chats ---------------------------------------------------------------

    @rpc.request(server, Requests.CONVERSATIONS_LIST)
    async def conversations(params: ConversationListParams) -> ConversationList:
        initiative = await factory().records.initiative(params.initiative_id)
        found = await server.services.store.conversations.list(initiative.id)
        return ConversationList(conversations=found)

    @rpc.request(server, Requests.CONVERSATIONS_ANSWER)
    async def answer(params: ConversationAnswerParams) -> Conversation:
        return await factory().conversations.answer(params)

    @rpc.request(server, Requests.CHAT_START)
    async def start_chat(params: ChatStartParams) -> ChatSession:
        return await factory().conversations.start_chat(params)

    @rpc.request(server, Requests.CHAT_SEND)
    async def send(params: ChatSendParams) -> ChatSession:
        return await factory().conversations.send(params)

    @rpc.request(server, Requests.CHAT_GET)
    async def get_chat(params: ChatSessionParams) -> ChatSession:
        return await factory().conversations.chat(params.session_id)

    @rpc.request(server, Requests.CHAT_LIST)
    async def list_chats(params: ChatListParams) -> ChatSessionList:
        initiative = await factory().records.initiative(params.initiative_id)
        found = await server.services.store.conversations.chats(initiative.id)
        return ChatSessionList(sessions=found)
