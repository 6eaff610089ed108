"""The factory's repositories on a real database: records and their events written together,
compare-and-set status changes, the task DAG, a run's end acted on once, replay by initiative."""

from __future__ import annotations

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
from devfactory.storage.repositories.events import NewEvent
from devfactory.storage.repositories.factory_rows import (
    InitiativeRun,
    NewArtifact,
    NewInitiative,
    NewPhase,
    NewProposal,
    NewTask,
)


def initiative_event(project_id: int):
    def build(initiative: Initiative) -> NewEvent:
        payload = InitiativeEvent(
            initiative_id=initiative.id, name=initiative.name, status=initiative.status
        )
        return NewEvent(
            project_id,
            None,
            EventType.INITIATIVE_CREATED,
            Severity.INFO,
            "Initiative created",
            "",
            encode_payload(EventType.INITIATIVE_CREATED, payload),
            "t",
        )

    return build


def task_event(project_id: int):
    def build(task: Task) -> NewEvent:
        payload = TaskEvent(
            initiative_id=task.initiative_id,
            task_id=task.id,
            phase_id=task.phase_id,
            title=task.title,
            status=task.status,
        )
        return NewEvent(
            project_id,
            None,
            EventType.TASK_STATUS_CHANGED,
            Severity.INFO,
            "Task",
            "",
            encode_payload(EventType.TASK_STATUS_CHANGED, payload),
            "t",
        )

    return build


async def test_an_initiative_its_plan_and_its_events(store: Store) -> None:
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    new = NewInitiative(
        project_id=project.id, name="Todo", goal="A todo API", mode=InitiativeMode.YOLO,
        branch="df/todo",
    )  # fmt: skip
    initiative, event = await store.initiatives.create(new, initiative_event(project.id))
    assert event is not None and event.payload["initiativeId"] == initiative.id
    assert initiative.status is InitiativeStatus.ACTIVE

    first, _ = await store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="Model")
    )
    second, _ = await store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="API", depends_on=[first.id])
    )
    assert (first.position, second.position, second.depends_on) == (0, 1, [first.id])
    assert [p.id for p in await store.initiatives.phases(initiative.id)] == [first.id, second.id]
    moved = await store.initiatives.update_phase(
        first.id, expect_status=PhaseStatus.APPROVED, status=PhaseStatus.IN_PROGRESS
    )
    assert moved is not None and moved[0].status is PhaseStatus.IN_PROGRESS
    stale = await store.initiatives.update_phase(
        first.id, expect_status=PhaseStatus.APPROVED, status=PhaseStatus.COMPLETED
    )
    assert stale is None, "compare-and-set: the phase is no longer approved"

    def task(title: str, phase: int, deps: list[int]) -> NewTask:
        return NewTask(
            initiative_id=initiative.id, phase_id=phase, title=title, agent=AgentRole.BACKEND,
            depends_on=deps,
        )  # fmt: skip

    api, _ = await store.tasks.create(task("API", second.id, []), task_event(project.id))
    model, _ = await store.tasks.create(task("Model", first.id, []), task_event(project.id))
    await store.tasks.update(api.id, depends_on=[model.id])
    run = await store.runs.create(
        project_id=project.id, title="r", prompt="p", status=RunStatus.QUEUED, agent="backend",
        provider="scripted", model=None, mode="review", metadata=RunMetadata(),
    )  # fmt: skip
    await store.tasks.add_run(
        InitiativeRun(run_id=run.id, initiative_id=initiative.id, task_id=model.id)
    )
    checkpoint = Checkpoint(question="Looks right?", choices=["yes", "no"])
    updated = await store.tasks.update(
        model.id,
        expect_status=TaskStatus.PENDING,
        event=task_event(project.id),
        status=TaskStatus.BLOCKED,
        checkpoint=checkpoint,
    )
    assert updated is not None and updated[1] is not None
    assert updated[1].payload["status"] == "blocked"
    tasks = await store.tasks.list(initiative.id)
    assert [(t.title, t.depends_on, t.run_ids) for t in tasks] == [
        ("Model", [], [run.id]),
        ("API", [model.id], []),
    ]
    assert tasks[0].checkpoint == checkpoint
    assert await store.tasks.get(model.id) == tasks[0]

    assert [r.run_id for r in await store.tasks.unhandled_runs(project.id)] == [run.id]
    assert await store.tasks.mark_handled(run.id)
    assert not await store.tasks.mark_handled(run.id), "a run's end is acted on once"
    assert await store.tasks.unhandled_runs(project.id) == []

    replayed = await store.events.list(project.id)
    assert [e.type for e in replayed] == [
        EventType.INITIATIVE_CREATED,
        EventType.TASK_STATUS_CHANGED,
        EventType.TASK_STATUS_CHANGED,
        EventType.TASK_STATUS_CHANGED,
    ]


async def test_proposals_artifacts_conversations_chats_comments(store: Store) -> None:
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    initiative, _ = await store.initiatives.create(
        NewInitiative(
            project_id=project.id, name="T", goal="g", mode=InitiativeMode.REVIEW_PER_PHASE,
            branch="df/t",
        ),
        initiative_event(project.id),
    )  # fmt: skip
    proposal, _ = await store.proposals.create(
        NewProposal(
            initiative_id=initiative.id, target=ProposalTarget.TASK,
            action=ProposalAction.CREATE, title="Add", metadata={"key": "t1"},
        )
    )  # fmt: skip
    accepted = await store.proposals.update(
        proposal.id, expect_status=ProposalStatus.PENDING, status=ProposalStatus.ACCEPTED
    )
    assert accepted is not None and accepted[0].metadata == {"key": "t1"}
    again = await store.proposals.update(
        proposal.id, expect_status=ProposalStatus.PENDING, status=ProposalStatus.DISMISSED
    )
    assert again is None, "a proposal is decided once"

    artifact, _ = await store.proposals.add_artifact(
        NewArtifact(
            initiative_id=initiative.id, kind=ArtifactKind.SPEC, name="software_specification",
            source_role=AgentRole.ANALYST, content={"core_idea": "x"},
        )
    )  # fmt: skip
    assert await store.proposals.artifacts(initiative.id, "software_specification") == [artifact]

    phase, _ = await store.initiatives.create_phase(NewPhase(initiative_id=initiative.id, name="P"))
    task, _ = await store.tasks.create(
        NewTask(initiative_id=initiative.id, phase_id=phase.id, title="T", agent=AgentRole.QA)
    )
    asked = await store.conversations.ask(initiative.id, None, task.id, "Which port?")
    answered = await store.conversations.close(asked.id, ConversationStatus.ANSWERED, "8080")
    assert answered is not None and answered.answer == "8080"
    assert await store.conversations.close(asked.id, ConversationStatus.CANCELLED, None) is None

    chat = await store.conversations.start_chat(initiative.id, phase.id, None, AgentRole.ARCHITECT)
    await store.conversations.add_message(chat.id, "user", "split it")
    await store.conversations.add_message(chat.id, "agent", "proposed", run_id=None)
    found = await store.conversations.chat(chat.id)
    assert found is not None and [m.text for m in found.messages] == ["split it", "proposed"]

    comment = await store.initiatives.add_comment(phase.id, "a.py", 3, DiffSide.NEW, "rename")
    await store.initiatives.resolve_comments([comment.id])
    assert await store.initiatives.comments(phase.id) == []
    resolved = await store.initiatives.comments(phase.id, include_resolved=True)
    assert msgspec.structs.replace(comment, resolved=True) == resolved[0]


async def test_one_initiatives_events_replay_through_the_index(store: Store) -> None:
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    ids = []
    for name in ("A", "B", "A2"):
        new = NewInitiative(
            project_id=project.id, name=name, goal="g", mode=InitiativeMode.YOLO, branch=name
        )
        initiative, _ = await store.initiatives.create(new, initiative_event(project.id))
        ids.append(initiative.id)
    found = await store.events.list(project.id, initiative_id=ids[1])
    assert [e.payload["name"] for e in found] == ["B"]
    plan = await store.db.fetchall(
        "EXPLAIN QUERY PLAN SELECT * FROM agent_events WHERE json_extract(payload,"
        " '$.initiativeId') = ? AND json_extract(payload, '$.initiativeId') IS NOT NULL"
        " AND id > ? AND project_id = ? ORDER BY id LIMIT ?",
        (1, 0, project.id, 10),
    )
    assert "agent_events_initiative" in " ".join(str(tuple(row)) for row in plan)
