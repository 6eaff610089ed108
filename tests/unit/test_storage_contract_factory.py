"""The storage contract of the factory's ports, through the port types only, against every
adapter: records and their events written together, compare-and-set status changes, the task
DAG, a run's end acted on once, proposals decided once, handoffs, questions, chats, phase
comments, and one initiative's events replayed."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from devfactory.protocol.enums import (
    AgentRole,
    ArtifactKind,
    ConversationStatus,
    DiffSide,
    EventType,
    InitiativeMode,
    InitiativeStatus,
    PhaseStatus,
    ProposalAction,
    ProposalStatus,
    ProposalTarget,
    RunStatus,
    Severity,
    TaskStatus,
)
from devfactory.protocol.events import encode_payload
from devfactory.protocol.factory_events import InitiativeEvent, TaskEvent
from devfactory.protocol.initiatives import Initiative
from devfactory.protocol.runs import RunMetadata
from devfactory.protocol.tasks import Checkpoint, Task
from devfactory.storage import Store
from devfactory.storage.ports import (
    InitiativeRun,
    NewArtifact,
    NewEvent,
    NewInitiative,
    NewPhase,
    NewProposal,
    NewTask,
)


def initiative_event(project_id: int) -> Callable[[Initiative], NewEvent]:
    def build(initiative: Initiative) -> NewEvent:
        payload = InitiativeEvent(
            initiative_id=initiative.id, name=initiative.name, status=initiative.status
        )
        return NewEvent(
            project_id, None, EventType.INITIATIVE_CREATED, Severity.INFO, "Initiative created",
            "", encode_payload(EventType.INITIATIVE_CREATED, payload), "t",
        )  # fmt: skip

    return build


def task_event(project_id: int) -> Callable[[Task], NewEvent]:
    def build(task: Task) -> NewEvent:
        payload = TaskEvent(
            initiative_id=task.initiative_id, task_id=task.id, phase_id=task.phase_id,
            title=task.title, status=task.status,
        )  # fmt: skip
        return NewEvent(
            project_id, None, EventType.TASK_STATUS_CHANGED, Severity.INFO, "Task", "",
            encode_payload(EventType.TASK_STATUS_CHANGED, payload), "t",
        )  # fmt: skip

    return build


async def project_id_of(store: Store) -> int:
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    return project.id


async def new_initiative(
    store: Store, project_id: int, name: str = "Todo", mode: InitiativeMode = InitiativeMode.YOLO
) -> Initiative:
    new = NewInitiative(
        project_id=project_id, name=name, goal="A todo API", mode=mode, branch=f"df/{name}"
    )
    initiative, _ = await store.initiatives.create(new, initiative_event(project_id))
    return initiative


async def test_initiatives_are_listed_newest_first_and_change_by_compare_and_set(
    any_store: Store,
) -> None:
    project_id = await project_id_of(any_store)
    new = NewInitiative(
        project_id=project_id, name="Todo", goal="A todo API", mode=InitiativeMode.YOLO,
        branch="df/todo",
    )  # fmt: skip
    first, event = await any_store.initiatives.create(new, initiative_event(project_id))
    assert event is not None and event.payload["initiativeId"] == first.id
    assert (first.status, first.name, first.branch) == (InitiativeStatus.ACTIVE, "Todo", "df/todo")
    assert await any_store.initiatives.get(first.id) == first
    assert await any_store.initiatives.get(first.id + 100) is None
    second, none = await any_store.initiatives.create(msgspec.structs.replace(new, name="Two"))
    assert none is None

    done = await any_store.initiatives.update(
        second.id,
        expect_status=InitiativeStatus.ACTIVE,
        event=initiative_event(project_id),
        status=InitiativeStatus.COMPLETED,
        completed_at="2026-01-01T00:00:00.000Z",
    )
    assert done is not None and done[0].status is InitiativeStatus.COMPLETED
    assert done[1] is not None and done[1].payload["status"] == "completed"
    stale = await any_store.initiatives.update(
        second.id, expect_status=InitiativeStatus.ACTIVE, status=InitiativeStatus.ARCHIVED
    )
    assert stale is None, "compare-and-set: the initiative is no longer active"

    everything = await any_store.initiatives.list(project_id)
    assert [i.id for i in everything] == [second.id, first.id]
    active = await any_store.initiatives.list(project_id, [InitiativeStatus.ACTIVE])
    assert [i.id for i in active] == [first.id]
    assert len(await any_store.initiatives.list(project_id, None, limit=1)) == 1


async def test_phases_in_order_with_compare_and_set_and_review_comments(
    any_store: Store,
) -> None:
    initiative = await new_initiative(any_store, await project_id_of(any_store))
    first, _ = await any_store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="Model")
    )
    second, _ = await any_store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="API", depends_on=[first.id])
    )
    assert (first.position, second.position, second.depends_on) == (0, 1, [first.id])
    assert await any_store.initiatives.get_phase(second.id) == second
    assert [p.id for p in await any_store.initiatives.phases(initiative.id)] == [
        first.id,
        second.id,
    ]
    moved = await any_store.initiatives.update_phase(
        first.id, expect_status=PhaseStatus.APPROVED, status=PhaseStatus.IN_PROGRESS
    )
    assert moved is not None and moved[0].status is PhaseStatus.IN_PROGRESS
    stale = await any_store.initiatives.update_phase(
        first.id, expect_status=PhaseStatus.APPROVED, status=PhaseStatus.COMPLETED
    )
    assert stale is None, "compare-and-set: the phase is no longer approved"

    later = await any_store.initiatives.add_comment(first.id, "b.py", 1, DiffSide.NEW, "later")
    comment = await any_store.initiatives.add_comment(first.id, "a.py", 3, DiffSide.OLD, "why?")
    assert await any_store.initiatives.get_comment(comment.id) == comment
    assert (comment.path, comment.line, comment.side, comment.resolved) == (
        "a.py",
        3,
        DiffSide.OLD,
        False,
    )
    assert await any_store.initiatives.comments(first.id) == [comment, later]
    await any_store.initiatives.resolve_comments([comment.id])
    await any_store.initiatives.resolve_comments([])
    assert await any_store.initiatives.comments(first.id) == [later]
    everything = await any_store.initiatives.comments(first.id, include_resolved=True)
    assert everything == [msgspec.structs.replace(comment, resolved=True), later]


async def test_tasks_their_dependencies_their_runs_and_their_events(any_store: Store) -> None:
    project_id = await project_id_of(any_store)
    initiative = await new_initiative(any_store, project_id)
    first, _ = await any_store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="Model")
    )
    second, _ = await any_store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="API")
    )

    def task(title: str, phase: int, deps: list[int]) -> NewTask:
        return NewTask(
            initiative_id=initiative.id, phase_id=phase, title=title, agent=AgentRole.BACKEND,
            depends_on=deps,
        )  # fmt: skip

    api, _ = await any_store.tasks.create(task("API", second.id, []), task_event(project_id))
    model, _ = await any_store.tasks.create(task("Model", first.id, []), task_event(project_id))
    assert (api.status, api.position, model.position) == (TaskStatus.PENDING, 0, 0)
    await any_store.tasks.update(api.id, depends_on=[model.id, model.id])
    run = await any_store.runs.create(
        project_id=project_id, title="r", prompt="p", status=RunStatus.QUEUED, agent="backend",
        provider="scripted", model=None, mode="review", metadata=RunMetadata(),
    )  # fmt: skip
    executes = InitiativeRun(run_id=run.id, initiative_id=initiative.id, task_id=model.id)
    await any_store.tasks.add_run(executes)
    assert await any_store.tasks.run(run.id) == executes
    assert await any_store.tasks.run(run.id + 100) is None

    checkpoint = Checkpoint(question="Looks right?", choices=["yes", "no"])
    updated = await any_store.tasks.update(
        model.id,
        expect_status=TaskStatus.PENDING,
        event=task_event(project_id),
        status=TaskStatus.BLOCKED,
        checkpoint=checkpoint,
    )
    assert updated is not None and updated[1] is not None
    assert updated[1].payload["status"] == "blocked"
    stale = await any_store.tasks.update(
        model.id, expect_status=TaskStatus.PENDING, status=TaskStatus.COMPLETED
    )
    assert stale is None, "compare-and-set: the task is no longer pending"

    tasks = await any_store.tasks.list(initiative.id)
    assert [(t.title, t.depends_on, t.run_ids) for t in tasks] == [
        ("Model", [], [run.id]),
        ("API", [model.id], []),
    ], "by phase order, dependencies once"
    assert tasks[0].checkpoint == checkpoint
    assert await any_store.tasks.get(model.id) == tasks[0]
    assert await any_store.tasks.get(model.id + 100) is None

    assert await any_store.tasks.unhandled_runs(project_id) == [executes]
    assert await any_store.tasks.mark_handled(run.id)
    assert not await any_store.tasks.mark_handled(run.id), "a run's end is acted on once"
    assert await any_store.tasks.unhandled_runs(project_id) == []

    replayed = await any_store.events.list(project_id)
    assert [e.type for e in replayed] == [
        EventType.INITIATIVE_CREATED,
        EventType.TASK_STATUS_CHANGED,
        EventType.TASK_STATUS_CHANGED,
        EventType.TASK_STATUS_CHANGED,
    ]


async def test_proposals_are_decided_once_and_handoffs_kept(any_store: Store) -> None:
    initiative = await new_initiative(any_store, await project_id_of(any_store))
    proposal, _ = await any_store.proposals.create(
        NewProposal(
            initiative_id=initiative.id, target=ProposalTarget.TASK,
            action=ProposalAction.CREATE, title="Add", metadata={"key": "t1"},
        )
    )  # fmt: skip
    other, _ = await any_store.proposals.create(
        NewProposal(
            initiative_id=initiative.id, target=ProposalTarget.PAGE,
            action=ProposalAction.CREATE, title="Spec",
        )
    )  # fmt: skip
    assert proposal.status is ProposalStatus.PENDING
    assert await any_store.proposals.get(proposal.id) == proposal
    assert await any_store.proposals.get(proposal.id + 100) is None
    accepted = await any_store.proposals.update(
        proposal.id, expect_status=ProposalStatus.PENDING, status=ProposalStatus.ACCEPTED
    )
    assert accepted is not None and accepted[0].metadata == {"key": "t1"}
    again = await any_store.proposals.update(
        proposal.id, expect_status=ProposalStatus.PENDING, status=ProposalStatus.DISMISSED
    )
    assert again is None, "a proposal is decided once"
    assert [p.id for p in await any_store.proposals.list(initiative.id)] == [proposal.id, other.id]
    pending = await any_store.proposals.list(initiative.id, ProposalStatus.PENDING)
    assert [p.id for p in pending] == [other.id]

    spec, _ = await any_store.proposals.add_artifact(
        NewArtifact(
            initiative_id=initiative.id, kind=ArtifactKind.SPEC, name="software_specification",
            source_role=AgentRole.ANALYST, content={"core_idea": "x"},
        )
    )  # fmt: skip
    plan, _ = await any_store.proposals.add_artifact(
        NewArtifact(
            initiative_id=initiative.id, kind=ArtifactKind.PLAN, name="implementation_plan",
            source_role=AgentRole.ARCHITECT, content={"architecture": "y"},
        )
    )  # fmt: skip
    assert spec.content == {"core_idea": "x"}
    assert await any_store.proposals.artifacts(initiative.id) == [spec, plan]
    assert await any_store.proposals.artifacts(initiative.id, "implementation_plan") == [plan]


async def test_questions_between_agents_and_chats(any_store: Store) -> None:
    project_id = await project_id_of(any_store)
    initiative = await new_initiative(any_store, project_id)
    phase, _ = await any_store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="P")
    )
    task, _ = await any_store.tasks.create(
        NewTask(initiative_id=initiative.id, phase_id=phase.id, title="T", agent=AgentRole.QA)
    )
    asked = await any_store.conversations.ask(initiative.id, None, task.id, "Which port?")
    assert (asked.status, asked.to_task_id, asked.answer) == (
        ConversationStatus.PENDING,
        task.id,
        None,
    )
    run = await any_store.runs.create(
        project_id=project_id, title="r", prompt="p", status=RunStatus.QUEUED, agent="qa",
        provider="scripted", model=None, mode="review", metadata=RunMetadata(),
    )  # fmt: skip
    await any_store.conversations.set_answer_run(asked.id, run.id)
    answered = await any_store.conversations.close(asked.id, ConversationStatus.ANSWERED, "8080")
    assert answered is not None
    assert (answered.answer, answered.answer_run_id) == ("8080", run.id)
    closed = await any_store.conversations.close(asked.id, ConversationStatus.CANCELLED, None)
    assert closed is None, "a question is closed once"
    assert await any_store.conversations.get(asked.id) == answered
    assert await any_store.conversations.list(initiative.id) == [answered]

    chat = await any_store.conversations.start_chat(
        initiative.id, phase.id, None, AgentRole.ARCHITECT
    )
    assert (chat.phase_id, chat.agent, chat.messages) == (phase.id, AgentRole.ARCHITECT, [])
    said = await any_store.conversations.add_message(chat.id, "user", "split it")
    await any_store.conversations.add_message(chat.id, "agent", "proposed", run_id=run.id)
    found = await any_store.conversations.chat(chat.id)
    assert found is not None and found.messages[0] == said
    assert [(m.role, m.text, m.run_id) for m in found.messages] == [
        ("user", "split it", None),
        ("agent", "proposed", run.id),
    ]
    assert await any_store.conversations.chat(chat.id + 100) is None
    assert await any_store.conversations.chats(initiative.id) == [found]


async def test_one_initiatives_events_replay(any_store: Store) -> None:
    project_id = await project_id_of(any_store)
    ids = [(await new_initiative(any_store, project_id, name)).id for name in ("A", "B", "A2")]
    found = await any_store.events.list(project_id, initiative_id=ids[1])
    assert [e.payload["name"] for e in found] == ["B"]
    later = await any_store.events.list(project_id, initiative_id=ids[1], since=found[0].id)
    assert later == []
