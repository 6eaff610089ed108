"""An initiative's result decided change by change, over the real daemon: the user approved
every change of the result run in the editor (or an apply was cut short after applying, before
recording it), and ``initiatives/apply`` then completes the initiative instead of refusing it
for ever."""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.changes import ChangeDecisionParams, ChangeDecisionResult
from devfactory.protocol.enums import EventType, InitiativeMode, InitiativeStatus, PhaseStatus
from devfactory.protocol.events import EventList
from devfactory.protocol.initiatives import (
    InitiativeApplied,
    InitiativeIdParams,
    InitiativeTree,
    Phase,
    PhaseCreateParams,
    PhaseIdParams,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.tasks import TaskCreateParams
from factory_support import coder, hand_planned, wait_tree, write_factory_script
from runs_support import RUN_OPTIONS, call, start_daemon, stop_daemon
from support import DaemonClient, make_git_repo


async def test_apply_completes_an_initiative_whose_changes_were_decided(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "project", {"README.md": "# notes\n"})
    model = write_factory_script(
        tmp_path / "scripts",
        "notes",
        [
            coder(
                "Write the note",
                call("write_file", path="note.md", content="a note\n"),
                summary="note.md",
            )
        ],
    )
    client = await start_daemon(workspace, RUN_OPTIONS)
    try:
        initiative = (await reviewed_to_the_end(client, model, "Write the note")).initiative
        decided: ChangeDecisionResult = await client.call(
            Requests.CHANGES_APPROVE,
            ChangeDecisionParams(run_id=initiative.result_run_id),
        )
        assert len(decided.applied) == 1
        assert (workspace / "note.md").read_text() == "a note\n"

        applied: InitiativeApplied = await client.call(
            Requests.INITIATIVES_APPLY, InitiativeIdParams(initiative_id=initiative.id)
        )
        assert applied.initiative.status is InitiativeStatus.COMPLETED
        assert (applied.applied, applied.conflicts) == ([], [])
    finally:
        await stop_daemon(client)


async def test_apply_names_the_files_it_wrote(tmp_path: Path) -> None:
    """The result names the files written on disk, so an editor reloads exactly those: not
    the one it created itself (``workspace/applyEdit``: the client can create files), nor the
    one whose change conflicted with the user's edit and wrote nothing. So do the
    change_applied events, which reach every editor, asked or not (a yolo initiative)."""
    workspace = make_git_repo(
        tmp_path / "project", {"README.md": "# notes\n", "todo.md": "- one\n"}
    )
    model = write_factory_script(
        tmp_path / "scripts",
        "notes",
        [
            coder(
                "Write the notes",
                call("write_file", path="note.md", content="a note\n"),
                call("edit_file", path="README.md", search="# notes", replace="# Notes"),
                call("edit_file", path="todo.md", search="- one", replace="- two"),
                summary="notes",
            )
        ],
    )
    client = await start_daemon(workspace, RUN_OPTIONS)
    try:
        initiative = (await reviewed_to_the_end(client, model, "Write the notes")).initiative
        (workspace / "todo.md").write_text("- mine\n")

        applied: InitiativeApplied = await client.call(
            Requests.INITIATIVES_APPLY, InitiativeIdParams(initiative_id=initiative.id)
        )
        assert (len(applied.applied), len(applied.conflicts)) == (2, 1)
        assert applied.written == ["README.md"]
        events: EventList = await client.call(Requests.EVENTS, {"runId": applied.run_id})
        written = {
            e.payload["path"]: e.payload.get("written", False)
            for e in events.events
            if e.type is EventType.CHANGE_APPLIED
        }
        assert written == {"README.md": True, "note.md": False}
        assert (workspace / "README.md").read_text() == "# Notes\n"
        assert (workspace / "note.md").exists()
        assert (workspace / "todo.md").read_text() == "- mine\n"
    finally:
        await stop_daemon(client)


async def reviewed_to_the_end(client: DaemonClient, model: Path, task: str) -> InitiativeTree:
    """A reviewed initiative of one phase with one task (``task``, played by ``model``), its
    phase approved: the tree once the initiative waits for its result to be applied."""
    initiative = await hand_planned(client, "Notes", InitiativeMode.REVIEW_PER_PHASE, model)
    phase: Phase = await client.call(
        Requests.PHASES_CREATE, PhaseCreateParams(initiative_id=initiative.id, name="Work")
    )
    await client.call(Requests.TASKS_CREATE, TaskCreateParams(phase_id=phase.id, title=task))
    await wait_tree(
        client, initiative.id, lambda t: t.phases[0].status is PhaseStatus.PENDING_REVIEW
    )
    await client.call(Requests.PHASES_APPROVE, PhaseIdParams(phase_id=phase.id))
    tree: InitiativeTree = await wait_tree(
        client, initiative.id, lambda t: t.initiative.status is InitiativeStatus.PENDING_REVIEW
    )
    return tree
