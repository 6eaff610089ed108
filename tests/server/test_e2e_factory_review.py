"""An initiative reviewed phase by phase, over the real daemon: a refused handoff is corrected,
the plan arrives as proposals the user accepts (one with edits) or dismisses, bad edits are
refused by name, a phase's diff is commented and sent back (a revision task), a checkpoint is
a question, one agent asks another, two tasks' edits conflict and a merge task resolves them,
a chat suggests a change, and the result is applied and undone with one restore."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from devfactory.protocol.enums import (
    DiffSide,
    EventType,
    HitlAction,
    InitiativeStatus,
    PhaseStatus,
    ProposalStatus,
    ProposalTarget,
    TaskCategory,
    TaskStatus,
    TaskType,
)
from devfactory.protocol.initiatives import (
    Initiative,
    InitiativeApplied,
    InitiativeCreateParams,
    InitiativeIdParams,
    PhaseCommentParams,
    PhaseDiff,
    PhaseIdParams,
    PhaseRequestChangesParams,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.proposals import (
    ChatSendParams,
    ChatSession,
    ChatStartParams,
    ConversationList,
    ConversationListParams,
    Proposal,
    ProposalAcceptParams,
    ProposalDismissParams,
    ProposalList,
    ProposalListParams,
)
from devfactory.protocol.snapshots import SnapshotRestoreParams
from devfactory.protocol.tasks import Task, TaskCreateParams, TaskRespondParams, TaskUpdateParams
from factory_support import (
    analyst,
    answer,
    architect,
    coder,
    plan_of,
    planned,
    task_match,
    task_named,
    wait_tree,
    write_factory_script,
)
from runs_support import RUN_OPTIONS, call, replay, start_daemon, stop_daemon, turn
from support import DaemonClient, make_git_repo

OPTIONS = {**RUN_OPTIONS, "maxConcurrentRuns": 2}
PLAN = plan_of(
    planned("model", "Add the Todo model", "Data"),
    planned("api", "Add the API", "Build", depends_on=["model"]),
    planned("ui", "Add the UI", "Build", agent="frontend", depends_on=["model"]),
)
API, UI = 4, 5  # task ids: Specify 1, Plan 2, then the accepted tasks in order


def script(folder: Path) -> Path:
    readme = "# todo\nmodel\n"
    return write_factory_script(
        folder,
        "todo",
        [
            # First: a merge task's title holds the title of the task it merges.
            coder(
                "a merge task",
                call(
                    "write_file",
                    path="README.md",
                    content=readme + "api: GET /todos\nui: a page\n",
                ),
                summary="Kept both lines of README.md",
                match=": Merge task ",
            ),
            analyst("Todo", bad_first=True),
            architect("Todo", PLAN),
            coder(
                "Add the Todo model",
                call("write_file", path="todo/model.py", content="class Todo:\n    pass\n"),
                call("write_file", path="README.md", content=readme),
                summary="Todo lives in todo/model.py",
            ),
            coder(
                "Revise Data (review 1)",
                call("write_file", path="todo/model.py", content="class Todo:\n    title = ''\n"),
                summary="Todo has a title now",
            ),
            coder(
                "Add the API",
                call("write_file", path="todo/api.py", content="ROUTE = '/todos'\n"),
                call("write_file", path="README.md", content=readme + "api: GET /todos\n"),
                summary="GET /todos lists todos",
            ),
            {
                "match": task_match("Add the UI"),
                "turns": [
                    turn("1. Ask the API's agent\n2. Write the page"),
                    turn("", call("ask_agent", task_id=API, question="Which URL lists todos?")),
                    turn("The API's agent says:", quote_last=True),
                    turn("", call("write_file", path="todo/ui.py", content="URL = '/todos'\n")),
                    turn("", call("write_file", path="README.md", content=readme + "ui: a page\n")),
                    turn("", call("finish", summary="The page lists todos from GET /todos")),
                ],
            },
            answer(f"Question for task {API}", "GET /todos"),
            {
                "match": "Add a test task",
                "turns": [
                    turn(
                        "",
                        call(
                            "propose",
                            target="task",
                            action="create",
                            title="Test the API",
                            content="Call GET /todos",
                            metadata={"agent": "qa", "phaseId": 3},
                        ),
                    ),
                    turn("I proposed a QA task for the API."),
                ],
            },
        ],
    )


async def refused(client: DaemonClient, method: str, params: object) -> str:
    with pytest.raises(JsonRpcException) as caught:
        await client.call(method, params)
    return str(caught.value.message)


@pytest.mark.both_databases
async def test_an_initiative_reviewed_phase_by_phase(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "project", {"README.md": "# todo\n"})
    model = script(tmp_path / "scripts")
    client = await start_daemon(workspace, OPTIONS)
    try:
        initiative: Initiative = await client.call(
            Requests.INITIATIVES_CREATE,
            InitiativeCreateParams(goal="Todo", provider="scripted", model=str(model)),
        )
        planned_tree = await wait_tree(
            client,
            initiative.id,
            lambda t: len(t.proposals) == 6 and t.phases[0].status is PhaseStatus.COMPLETED,
            what="the plan's proposals",
        )
        history = await replay(client)
        rejected = [e for e in history if e.type is EventType.HANDOFF_REJECTED]
        assert len(rejected) == 1 and "`$.requirements`" in rejected[0].message
        assert any(
            "Expected `array`, got `str`" in e.message
            for e in history
            if e.type is EventType.AI_MESSAGE
        )
        assert "provider 'gpt-9' is not configured; known: " in await refused(
            client, Requests.INITIATIVES_CREATE, InitiativeCreateParams(goal="x", provider="gpt-9")
        )
        page, data, build, model_task, api, ui = planned_tree.proposals
        assert [p.target for p in (page, data, build)] == [
            ProposalTarget.PAGE,
            ProposalTarget.PHASE,
            ProposalTarget.PHASE,
        ]

        # Proposals: order matters, a dismissed one stays dismissed.
        assert "needs proposal" in await refused(
            client, Requests.PROPOSALS_ACCEPT, ProposalAcceptParams(proposal_id=api.id)
        )
        await client.call(Requests.PROPOSALS_DISMISS, ProposalDismissParams(proposal_id=page.id))
        assert (
            await refused(
                client, Requests.PROPOSALS_ACCEPT, ProposalAcceptParams(proposal_id=page.id)
            )
            == f"proposal {page.id} is already dismissed; it cannot be accepted"
        )
        for proposal in (data, build, model_task):
            await client.call(
                Requests.PROPOSALS_ACCEPT, ProposalAcceptParams(proposal_id=proposal.id)
            )
        edited: Proposal = await client.call(
            Requests.PROPOSALS_ACCEPT,
            ProposalAcceptParams(proposal_id=api.id, metadata={**api.metadata, "priority": "high"}),
        )
        await client.call(Requests.PROPOSALS_ACCEPT, ProposalAcceptParams(proposal_id=ui.id))
        current = await wait_tree(client, initiative.id, lambda t: len(t.tasks) == 5)
        assert (task_named(current, "Add the API").id, task_named(current, "Add the UI").id) == (
            API,
            UI,
        )
        assert task_named(current, "Add the API").priority.value == "high"
        assert edited.status is ProposalStatus.ACCEPTED and edited.created_id == API

        # Bad edits are refused, naming the field.
        data_phase, build_phase = current.phases[1], current.phases[2]
        assert (
            await refused(
                client,
                Requests.TASKS_CREATE,
                TaskCreateParams(phase_id=build_phase.id, title="X", depends_on=[999]),
            )
            == "dependsOn: no task 999 in this initiative; name tasks that exist (or create them first)"
        )
        assert (
            await refused(
                client, Requests.TASKS_UPDATE, TaskUpdateParams(task_id=3, depends_on=[API])
            )
            == "tasks depend on each other in a cycle: task 3 -> task 4 -> task 3"
        )

        # A checkpoint after the API: the user verifies it.
        check: Task = await client.call(
            Requests.TASKS_CREATE,
            TaskCreateParams(
                phase_id=build_phase.id,
                title="Check the API by hand",
                type=TaskType.CHECKPOINT_HUMAN_VERIFY,
                depends_on=[API],
            ),
        )

        # The Data phase waits for review: comment, send it back, approve the revision.
        current = await wait_tree(
            client, initiative.id, lambda t: t.phases[1].status is PhaseStatus.PENDING_REVIEW
        )
        diff: PhaseDiff = await client.call(
            Requests.PHASES_DIFF, PhaseIdParams(phase_id=data_phase.id)
        )
        assert sorted(f.path for f in diff.files) == ["README.md", "todo/model.py"]
        await client.call(
            Requests.PHASES_COMMENT,
            PhaseCommentParams(
                phase_id=data_phase.id, path="todo/model.py", line=2, side=DiffSide.NEW,
                body="A todo needs a title",
            ),
        )  # fmt: skip
        assert "path: 'nope.py' is not in phase" in await refused(
            client,
            Requests.PHASES_COMMENT,
            PhaseCommentParams(phase_id=data_phase.id, path="nope.py", line=1, body="?"),
        )
        revisions = await client.call(
            Requests.PHASES_REQUEST_CHANGES, PhaseRequestChangesParams(phase_id=data_phase.id)
        )
        (revision,) = revisions.tasks
        assert revision.category is TaskCategory.REFINE
        assert "todo/model.py:2: A todo needs a title" in revision.description
        await wait_tree(
            client,
            initiative.id,
            lambda t: (
                t.phases[1].status is PhaseStatus.PENDING_REVIEW
                and task_named(t, revision.title).status is TaskStatus.COMPLETED
            ),
            what="the revision",
        )
        await client.call(Requests.PHASES_APPROVE, PhaseIdParams(phase_id=data_phase.id))
        assert "phaseId: phase 2 (Data) is completed" in await refused(
            client, Requests.TASKS_CREATE, TaskCreateParams(phase_id=data_phase.id, title="Late")
        )

        # Build: API and UI in parallel; the UI asks the API's agent; README conflicts.
        current = await wait_tree(
            client,
            initiative.id,
            lambda t: task_named(t, check.title).status is TaskStatus.BLOCKED,
            what="the checkpoint's question",
        )
        question = task_named(current, check.title).checkpoint
        assert question is not None and "GET /todos lists todos" in question.question
        await client.call(
            Requests.TASKS_RESPOND, TaskRespondParams(task_id=check.id, action=HitlAction.APPROVE)
        )
        current = await wait_tree(
            client,
            initiative.id,
            lambda t: t.phases[2].status is PhaseStatus.PENDING_REVIEW,
            what="the Build phase's review",
        )
        merges = [t for t in current.tasks if t.category is TaskCategory.MERGE]
        assert len(merges) == 1 and merges[0].status is TaskStatus.COMPLETED
        assert merges[0].parent_id in (API, UI)
        assert task_named(current, "Add the UI").status is TaskStatus.COMPLETED
        conversations: ConversationList = await client.call(
            Requests.CONVERSATIONS_LIST, ConversationListParams(initiative_id=initiative.id)
        )
        (asked,) = conversations.conversations
        assert (asked.from_task_id, asked.to_task_id, asked.answer) == (UI, API, "GET /todos")
        history = await replay(client)
        assert any(
            e.type is EventType.MERGE_CONFLICT and e.payload["conflicts"] == ["README.md"]
            for e in history
        )
        assert any(
            "GET /todos" in e.message
            for e in history
            if e.type is EventType.AI_MESSAGE and "API's agent" in e.message
        )

        # A chat about the Build phase suggests a task; it arrives as a proposal.
        chat: ChatSession = await client.call(
            Requests.CHAT_START,
            ChatStartParams(initiative_id=initiative.id, phase_id=build_phase.id),
        )
        chat = await client.call(
            Requests.CHAT_SEND, ChatSendParams(session_id=chat.id, text="Add a test task")
        )
        assert [m.role for m in chat.messages] == ["user", "agent"]
        assert chat.messages[1].text == "I proposed a QA task for the API."
        pending: ProposalList = await client.call(
            Requests.PROPOSALS_LIST, ProposalListParams(initiative_id=initiative.id)
        )
        (suggested,) = pending.proposals
        assert (suggested.title, suggested.chat_session_id) == ("Test the API", chat.id)
        await client.call(
            Requests.PROPOSALS_DISMISS, ProposalDismissParams(proposal_id=suggested.id)
        )

        # Approve the last phase; the result is applied, and one restore undoes it.
        await client.call(Requests.PHASES_APPROVE, PhaseIdParams(phase_id=build_phase.id))
        current = await wait_tree(
            client, initiative.id, lambda t: t.initiative.status is InitiativeStatus.PENDING_REVIEW
        )
        applied: InitiativeApplied = await client.call(
            Requests.INITIATIVES_APPLY, InitiativeIdParams(initiative_id=initiative.id)
        )
        assert applied.initiative.status is InitiativeStatus.COMPLETED and not applied.conflicts
        assert (
            workspace / "README.md"
        ).read_text() == "# todo\nmodel\napi: GET /todos\nui: a page\n"
        assert (workspace / "todo" / "model.py").read_text() == "class Todo:\n    title = ''\n"
        assert applied.snapshot_id is not None
        await client.call(
            Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=applied.snapshot_id)
        )
        assert (workspace / "README.md").read_text() == "# todo\n"
        assert not (workspace / "todo").exists()
    finally:
        await stop_daemon(client)
