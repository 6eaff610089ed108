"""Review in an editor with no plugin: diagnostics, code actions, applyEdit, safe apply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from lsprotocol import types

from devfactory.protocol.changes import ChangeDecisionResult, ChangeDiff, ChangeList
from devfactory.protocol.enums import ChangeAction, ChangeStatus, EventType
from devfactory.protocol.events import EventList, EventNotification
from devfactory.protocol.methods import Commands, Requests
from devfactory.protocol.runs import Run
from devfactory.protocol.snapshots import SnapshotRestoreResult
from support import DaemonClient, git, make_git_repo, wait_for_run, write_script

ORIGINAL = "def greet():\n    return 'hi'\n\n\ndef add(a, b):\n    return a - b\n"
PROPOSED = "def greet():\n    return 'hello'\n\n\ndef add(a, b):\n    return a + b\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = make_git_repo(tmp_path / "ws", {"app.py": ORIGINAL, "README.md": "# demo\n"})
    write_script(
        root,
        [
            {"text": "Plan:\n1. Fix greet\n2. Fix add"},
            {
                "toolCalls": [
                    {
                        "name": "edit_file",
                        "arguments": {"path": "app.py", "search": "'hi'", "replace": "'hello'"},
                    }
                ]
            },
            {
                "toolCalls": [
                    {
                        "name": "edit_file",
                        "arguments": {"path": "app.py", "search": "a - b", "replace": "a + b"},
                    }
                ]
            },
            {
                "toolCalls": [
                    {"name": "write_file", "arguments": {"path": "NOTES.md", "content": "notes\n"}}
                ]
            },
            {
                "toolCalls": [
                    {"name": "finish", "arguments": {"summary": "greet says hello; add adds"}}
                ]
            },
        ],
    )
    return root


async def completed_run(client: DaemonClient, mode: str = "review") -> Run:
    run = await client.call(
        Requests.RUNS_CREATE,
        {
            "prompt": "fix greet and add",
            "provider": "scripted",
            "model": "script.json",
            "mode": mode,
        },
    )
    return await wait_for_run(client, run.id, {"completed", "failed"})


async def app_change(client: DaemonClient, run: Run):
    changes: ChangeList = await client.call(
        Requests.CHANGES_LIST, {"runId": run.id, "path": "app.py"}
    )
    assert len(changes.changes) == 1
    return changes.changes[0]


@pytest.mark.both_databases
async def test_proposed_hunks_are_diagnostics_with_code_actions_and_approve_applies_in_the_buffer(
    daemon: DaemonClient, workspace: Path
):
    run = await completed_run(daemon)
    assert run.status.value == "completed", run.failed_reason
    change = await app_change(daemon, run)
    assert change.action is ChangeAction.UPDATE
    assert [h.status for h in change.hunks] == [ChangeStatus.PROPOSED] * 2

    uri = daemon.open_document(workspace / "app.py")
    await daemon.notes.wait_for("devfactory/changeProposed")  # already sent; documents a contract

    async def diagnostics_arrive() -> list[types.Diagnostic]:
        while True:
            found = [d for d in daemon.diagnostics.get(uri, []) if d.source == "devfactory"]
            if len(found) == 2:
                return found
            await daemon.wait_for_notification("textDocument/publishDiagnostics")

    diagnostics = await asyncio.wait_for(diagnostics_arrive(), 10)
    assert all(d.severity == types.DiagnosticSeverity.Hint for d in diagnostics)
    assert {d.range.start.line for d in diagnostics} == {1, 5}
    assert f"run {run.id}" in diagnostics[0].message

    actions = await daemon.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(1, 0), end=types.Position(1, 5)),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    titles = [a.title for a in actions]
    assert titles == [
        "DevFactory: Approve this hunk",
        "DevFactory: Reject this hunk",
        f"DevFactory: Approve all changes of run {run.id}",
        f"DevFactory: Reject all changes of run {run.id}",
        f"DevFactory: Show diff of change {change.id}",
    ]
    approve = actions[0].command
    assert approve.command == Commands.APPROVE
    assert list(approve.arguments) == [change.id, 0]

    await daemon.workspace_execute_command_async(
        types.ExecuteCommandParams(command=approve.command, arguments=approve.arguments)
    )
    assert len(daemon.applied_edits) == 1
    expected_first = ORIGINAL.replace("'hi'", "'hello'")
    assert daemon.documents[uri][1] == expected_first
    assert (workspace / "app.py").read_text() == ORIGINAL  # the buffer got it, not the disk

    after_first = await app_change(daemon, run)
    assert [h.status for h in after_first.hunks] == [ChangeStatus.APPLIED, ChangeStatus.PROPOSED]
    assert after_first.status is ChangeStatus.PROPOSED

    await daemon.workspace_execute_command_async(
        types.ExecuteCommandParams(command=Commands.APPROVE, arguments=[change.id, 1])
    )
    assert daemon.documents[uri][1] == PROPOSED
    assert (await app_change(daemon, run)).status is ChangeStatus.APPLIED
    assert daemon.undo(uri) == expected_first  # undo gives back the previous buffer text

    events: EventList = await daemon.call(Requests.EVENTS, {"runId": run.id})
    types_seen = [e.type for e in events.events]
    assert EventType.CHANGE_APPROVED in types_seen
    assert types_seen.count(EventType.CHANGE_APPLIED) == 2


@pytest.mark.parametrize(
    ("init_options", "severities"),
    [
        ({"review": {"diagnostics": "information"}}, [types.DiagnosticSeverity.Information] * 2),
        ({"review": {"diagnostics": "off"}}, []),
    ],
    ids=["information", "off"],
)
async def test_review_diagnostics_setting_picks_the_severity_or_none(
    daemon: DaemonClient,
    workspace: Path,
    init_options: dict[str, object],
    severities: list[types.DiagnosticSeverity],
):
    run = await completed_run(daemon)
    uri = daemon.open_document(workspace / "app.py")
    await daemon.wait_for_notification("textDocument/publishDiagnostics")
    published = [d.severity for d in daemon.diagnostics.get(uri, []) if d.source == "devfactory"]
    assert published == severities
    actions = await daemon.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(1, 0), end=types.Position(1, 5)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions[0].title == "DevFactory: Approve this hunk"  # review works either way
    change = await app_change(daemon, run)
    assert list(actions[0].command.arguments) == [change.id, 0]


def event_with(change_id: int, event_type: EventType) -> Callable[[EventNotification], bool]:
    return lambda note: (
        note.event.type is event_type and note.event.payload.get("changeId") == change_id
    )


async def test_an_approved_hunk_undone_in_the_editor_is_proposed_again(
    daemon: DaemonClient, workspace: Path
):
    run = await completed_run(daemon)
    change = await app_change(daemon, run)
    uri = daemon.open_document(workspace / "app.py")
    approve = types.ExecuteCommandParams(command=Commands.APPROVE, arguments=[change.id, 0])
    await daemon.workspace_execute_command_async(approve)
    assert daemon.documents[uri][1] == ORIGINAL.replace("'hi'", "'hello'")
    seen = len(daemon.notes.received["devfactory/event"])

    daemon.undo(uri)  # Ctrl+Z / u: the buffer no longer has the approved text
    reverted = await daemon.notes.wait_for(
        "devfactory/event", event_with(change.id, EventType.CHANGE_REVERTED), start=seen
    )
    assert reverted.event.payload["hunks"] == [0]
    again = await app_change(daemon, run)
    assert [h.status for h in again.hunks] == [ChangeStatus.PROPOSED] * 2
    assert again.status is ChangeStatus.PROPOSED

    async def diagnostics_on(lines: set[int]) -> None:
        while {d.range.start.line for d in daemon.diagnostics.get(uri, [])} != lines:
            await daemon.wait_for_notification("textDocument/publishDiagnostics")

    await asyncio.wait_for(diagnostics_on({1, 5}), 10)  # the undone hunk shows again

    await daemon.workspace_execute_command_async(approve)  # and can be approved again
    assert daemon.documents[uri][1] == ORIGINAL.replace("'hi'", "'hello'")
    assert [h.status for h in (await app_change(daemon, run)).hunks] == [
        ChangeStatus.APPLIED,
        ChangeStatus.PROPOSED,
    ]

    seen = len(daemon.notes.received["devfactory/event"])
    daemon.undo(uri)
    await daemon.notes.wait_for(
        "devfactory/event", event_with(change.id, EventType.CHANGE_REVERTED), start=seen
    )
    daemon.change_document(uri, ORIGINAL.replace("'hi'", "'hello'"))  # redo
    reapplied = await daemon.notes.wait_for(
        "devfactory/event", event_with(change.id, EventType.CHANGE_APPLIED), start=seen
    )
    assert reapplied.event.payload["hunks"] == [0]
    assert (await app_change(daemon, run)).hunks[0].status is ChangeStatus.APPLIED


async def test_a_conflict_settled_in_the_file_is_resolved_hunk_by_hunk(
    daemon: DaemonClient, workspace: Path
):
    run = await completed_run(daemon)
    change = await app_change(daemon, run)
    uri = daemon.open_document(workspace / "app.py")
    daemon.change_document(uri, ORIGINAL.replace("'hi'", "'hey'"))  # the user's own edit
    result: ChangeDecisionResult = await daemon.call(
        Requests.CHANGES_APPROVE, {"changeIds": [change.id]}
    )
    assert result.conflicts == [change.id]
    other = (
        await daemon.call(Requests.CHANGES_LIST, {"runId": run.id, "path": "NOTES.md"})
    ).changes
    with pytest.raises(Exception, match=f"change {other[0].id} is proposed; only a conflict"):
        await daemon.call(Requests.CHANGES_RESOLVE, {"changeId": other[0].id})

    # The user takes the run's greeting and keeps their subtraction.
    daemon.change_document(uri, ORIGINAL.replace("'hi'", "'hello'"))
    resolved = await daemon.call(Requests.CHANGES_RESOLVE, {"changeId": change.id})
    assert resolved.status is ChangeStatus.APPLIED
    assert [h.status for h in resolved.hunks] == [ChangeStatus.APPLIED, ChangeStatus.REJECTED]
    events: EventList = await daemon.call(Requests.EVENTS, {"runId": run.id})
    last = [(e.type, e.payload.get("hunks"), e.message) for e in events.events][-2:]
    assert last == [
        (EventType.CHANGE_APPLIED, [0], "resolved by you"),
        (EventType.CHANGE_REJECTED, [1], "you kept your text"),
    ]


@pytest.mark.both_databases
async def test_approve_for_a_closed_file_writes_it_atomically(
    daemon: DaemonClient, workspace: Path
):
    run = await completed_run(daemon)
    result: ChangeDecisionResult = await daemon.call(Requests.CHANGES_APPROVE, {"runId": run.id})
    assert (workspace / "app.py").read_text() == PROPOSED
    assert (workspace / "NOTES.md").read_text() == "notes\n"
    edited = [uri for e in daemon.applied_edits for uri in (e.edit.changes or {})]
    assert edited == []  # app.py was closed: written on disk, not through the editor
    assert set(result.applied) == {c.id for c in result.changes}
    assert result.snapshot_id is not None
    leftovers = [p.name for p in workspace.iterdir() if p.suffix == ".devfactory"]
    assert leftovers == []


async def test_a_change_whose_proposal_was_not_kept_is_refused_not_applied_as_nothing(
    daemon: DaemonClient, workspace: Path
):
    """A run stopped between recording a change and keeping its texts (a worker killed
    there) left a change with nothing to read: approving it wrote the file back unchanged
    and reported it applied."""
    run = await completed_run(daemon)
    change = await app_change(daemon, run)
    (kept,) = workspace.glob(f".devfactory/**/change-{change.id}.after")
    kept.unlink()
    result: ChangeDecisionResult = await daemon.call(
        Requests.CHANGES_APPROVE, {"changeIds": [change.id]}
    )
    assert result.applied == [] and result.conflicts == [change.id]
    assert "not available here" in (result.changes[0].reason or "")
    assert (workspace / "app.py").read_text() == ORIGINAL


@pytest.mark.both_databases
async def test_restore_after_apply_gives_back_the_exact_pre_apply_bytes(
    daemon: DaemonClient, workspace: Path
):
    (workspace / "README.md").write_text("# demo\nuser edit, not committed\n")
    before = {p: (workspace / p).read_bytes() for p in ("app.py", "README.md")}
    run = await completed_run(daemon)
    result: ChangeDecisionResult = await daemon.call(Requests.CHANGES_APPROVE, {"runId": run.id})
    assert (workspace / "app.py").read_text() == PROPOSED
    restored: SnapshotRestoreResult = await daemon.call(
        Requests.SNAPSHOTS_RESTORE, {"snapshotId": result.snapshot_id}
    )
    assert {p: (workspace / p).read_bytes() for p in before} == before
    assert not (workspace / "NOTES.md").exists()
    assert "NOTES.md" in restored.files


async def test_user_edit_elsewhere_merges_cleanly(daemon: DaemonClient, workspace: Path):
    run = await completed_run(daemon)
    (workspace / "app.py").write_text("# user header\n" + ORIGINAL)
    change = await app_change(daemon, run)
    result = await daemon.call(Requests.CHANGES_APPROVE, {"changeIds": [change.id]})
    assert result.applied == [change.id]
    assert (workspace / "app.py").read_text() == "# user header\n" + PROPOSED


async def test_overlapping_user_edit_is_a_conflict_and_the_users_text_is_kept(
    daemon: DaemonClient, workspace: Path
):
    run = await completed_run(daemon)
    users = ORIGINAL.replace("'hi'", "'hey there'")
    (workspace / "app.py").write_text(users)
    change = await app_change(daemon, run)
    result: ChangeDecisionResult = await daemon.call(
        Requests.CHANGES_APPROVE, {"changeIds": [change.id]}
    )
    assert result.conflicts == [change.id]
    assert result.changes[0].status is ChangeStatus.CONFLICT
    assert "overlap" in (result.changes[0].reason or "")
    assert (workspace / "app.py").read_text() == users


@pytest.mark.both_databases
async def test_reject_leaves_the_file_untouched(daemon: DaemonClient, workspace: Path):
    run = await completed_run(daemon)
    uri = daemon.open_document(workspace / "app.py")
    await daemon.wait_for_notification("textDocument/publishDiagnostics")
    result: ChangeDecisionResult = await daemon.call(Requests.CHANGES_REJECT, {"runId": run.id})
    assert list(daemon.diagnostics[uri]) == []  # cleared once the change is decided
    assert {c.status for c in result.changes} == {ChangeStatus.REJECTED}
    assert (workspace / "app.py").read_text() == ORIGINAL
    assert not (workspace / "NOTES.md").exists()
    again = await daemon.call(Requests.CHANGES_LIST, {"runId": run.id, "status": "proposed"})
    assert again.changes == []


@pytest.mark.both_databases
async def test_yolo_applies_when_the_run_completes(daemon: DaemonClient, workspace: Path):
    run = await completed_run(daemon, mode="yolo")

    import asyncio

    for _ in range(100):
        if (workspace / "app.py").read_text() == PROPOSED:
            break
        await asyncio.sleep(0.05)
    assert (workspace / "app.py").read_text() == PROPOSED
    snapshots = await daemon.call(Requests.SNAPSHOTS_LIST, {"runId": run.id})
    assert "pre_apply" in {s.type.value for s in snapshots.snapshots}


async def test_diff_shows_both_versions(daemon: DaemonClient, workspace: Path):
    run = await completed_run(daemon)
    change = await app_change(daemon, run)
    diff: ChangeDiff = await daemon.call(Requests.CHANGES_DIFF, {"changeId": change.id})
    assert diff.before == ORIGINAL
    assert diff.after == PROPOSED
    assert "-    return 'hi'\n+    return 'hello'\n" in diff.diff
    assert Path(diff.change.diff_path).read_text() == diff.diff


async def test_changelog_entry_is_proposed_as_a_change(daemon: DaemonClient, workspace: Path):
    run = await completed_run(daemon)
    changes = await daemon.call(Requests.CHANGES_LIST, {"runId": run.id, "path": "CHANGELOG_AI.md"})
    assert len(changes.changes) == 1
    diff = await daemon.call(Requests.CHANGES_DIFF, {"changeId": changes.changes[0].id})
    assert f"## Run {run.id}: fix greet and add" in diff.after
    assert "greet says hello; add adds" in diff.after
    events = await daemon.call(Requests.EVENTS, {"runId": run.id})
    assert EventType.DOCS_UPDATED in [e.type for e in events.events]


@pytest.mark.both_databases
async def test_changelog_entries_of_two_runs_merge_instead_of_conflicting(
    daemon: DaemonClient, workspace: Path
):
    first = await completed_run(daemon)
    second = await completed_run(daemon)  # started before the first was applied
    for run in (first, second):
        result: ChangeDecisionResult = await daemon.call(
            Requests.CHANGES_APPROVE, {"runId": run.id}
        )
        changelog = next(c for c in result.changes if c.path == "CHANGELOG_AI.md")
        assert changelog.status is ChangeStatus.APPLIED, changelog.reason
        assert changelog.id not in result.conflicts
    text = (workspace / "CHANGELOG_AI.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("## Run")]
    assert headings == [
        f"## Run {second.id}: fix greet and add",
        f"## Run {first.id}: fix greet and add",
    ]
    assert text.startswith("# AI changelog\n")


@pytest.mark.both_databases
async def test_request_changes_starts_another_iteration_on_the_same_worktree(
    daemon: DaemonClient, workspace: Path
):
    run = await completed_run(daemon)
    change = await app_change(daemon, run)
    comment = await daemon.call(
        Requests.CHANGES_COMMENT, {"changeId": change.id, "line": 2, "body": "say 'hello!'"}
    )
    assert comment.resolved is False
    again: Run = await daemon.call(Requests.CHANGES_REQUEST_CHANGES, {"runId": run.id})
    assert again.metadata.iteration == 2
    assert "app.py line 2: say 'hello!'" in (again.metadata.followup or "")
    finished = await wait_for_run(daemon, run.id, {"completed", "failed"})
    assert finished.worktree_path == run.worktree_path
    events: EventList = await daemon.call(Requests.EVENTS, {"runId": run.id})
    prompts = [e for e in events.events if e.type is EventType.USER_PROMPT]
    assert [p.payload["iteration"] for p in prompts] == [1, 2]
    assert prompts[1].title == "Review feedback (iteration 2)"
    assert "app.py line 2: say 'hello!'" in prompts[1].message
    open_comments = await daemon.call(Requests.CHANGES_COMMENTS, {"runId": run.id})
    assert open_comments.comments == []


async def test_push_needs_an_approved_review_and_reaches_the_bare_remote(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(workspace, "remote", "add", "origin", str(remote))
    run = await completed_run(daemon)
    commit = await daemon.call(Requests.GIT_COMMIT, {"runId": run.id})
    assert commit.branch == run.branch_name

    with pytest.raises(Exception, match="needs an approved review"):
        await daemon.call(Requests.GIT_PUSH, {"runId": run.id})
    assert git(remote, "branch", "--list").strip() == ""

    await daemon.call(
        Requests.REVIEWS_SUBMIT, {"runId": run.id, "decision": "approved", "notes": "ok"}
    )
    pushed = await daemon.call(Requests.GIT_PUSH, {"runId": run.id})
    assert pushed.branch == run.branch_name
    assert git(remote, "rev-parse", run.branch_name).strip() == commit.commit_sha

    audit = await daemon.call(Requests.GIT_LOG, {"runId": run.id})
    operations = {op.operation for op in audit.operations}
    assert {"snapshot", "worktree", "diff", "commit", "push"} <= operations
    push_op = next(op for op in audit.operations if op.operation == "push")
    assert push_op.exit_code == 0
    assert push_op.args[0] == "push"
    assert push_op.duration_ms > 0
