"""The storage contract: every port method, through the port types only, against every adapter.

A second database passes when these pass (add its opener to ``storage_support.STORES``); the
index's part is ``test_storage_contract_index.py``. Timestamps are the store's to choose, so
whole records are compared with them blanked (``blank``).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest

from devfactory.protocol.changes import Change, Hunk, ReviewComment, RunReview
from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.enums import (
    ChangeAction,
    ChangeStatus,
    EventType,
    HitlAction,
    HitlStatus,
    ReviewDecision,
    RunStatus,
    Severity,
    SnapshotOrigin,
    SnapshotType,
)
from devfactory.protocol.events import Event, TestCounts
from devfactory.protocol.git import GitOperation
from devfactory.protocol.hitl import HitlRequest
from devfactory.protocol.project import LanguageStat, Project
from devfactory.protocol.runs import RunMetadata, TokenUsage
from devfactory.protocol.snapshots import Snapshot
from devfactory.storage import DatabaseError, Store, open_store
from devfactory.storage.ports import NewEvent, NewRun, OpenCommand, ProviderAccount
from storage_support import STORES

S = TypeVar("S", bound=msgspec.Struct)
STAMPS = ("created_at", "updated_at", "started_at", "finished_at", "answered_at", "queued_at")


def blank(record: S) -> S:
    """``record`` with the timestamps it has set replaced by ``"t"``."""
    fields = set(record.__struct_fields__)
    stamps = {name: "t" for name in STAMPS if name in fields and getattr(record, name)}
    return msgspec.structs.replace(record, **stamps)


async def project_and_run(store: Store, root: str = "/w") -> tuple[int, int]:
    project = await store.projects.register(
        root_path=root, name="w", slug="w", default_branch="main", current_branch="main"
    )
    run = await store.runs.create(
        project_id=project.id, title="r", prompt="p", status=RunStatus.RUNNING, agent="qa",
        provider="scripted", model=None, mode="review", metadata=RunMetadata(),
    )  # fmt: skip
    return project.id, run.id


def event(project_id: int, run_id: int | None, title: str, **kinds: Any) -> NewEvent:
    return NewEvent(
        project_id=project_id,
        run_id=run_id,
        type=kinds.get("type", EventType.AI_MESSAGE),
        severity=kinds.get("severity", Severity.INFO),
        title=title,
        message="m",
        payload={"n": title},
        created_at="2026-01-01T00:00:00.000Z",
    )


# -- the store ----------------------------------------------------------------------------------


async def test_status_counts_and_reopening_at_the_location(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    await any_store.events.append([event(project_id, run_id, "a")])
    status = await any_store.status()
    assert status.problem is None and status.schema_version >= 1 and status.engine_version
    counts = await any_store.counts(project_id)
    assert counts == counts | {"runs": 1, "events": 1, "changes": 0, "chunks": 0}
    await any_store.close()
    reopened = await open_store(any_store.location)
    try:
        assert (await reopened.counts(project_id))["runs"] == 1
    finally:
        await reopened.close()


@pytest.mark.parametrize("adapter", sorted(STORES))
async def test_close_now_ends_every_thread_of_the_store(adapter: str, tmp_path: Path) -> None:
    """What the daemon does when the editor hangs up: no thread may keep the process alive."""
    before = set(threading.enumerate())
    store = await STORES[adapter](tmp_path)
    await store.projects.get(1)
    started = set(threading.enumerate()) - before
    store.close_now()
    for _ in range(500):
        if not any(thread.is_alive() for thread in started):
            break
        await asyncio.sleep(0.01)
    assert [thread for thread in started if thread.is_alive()] == []


@pytest.mark.parametrize("location", ["mysql://db/devfactory", "sqlite://host/x.db"])
async def test_an_unknown_location_is_refused_by_name(location: str) -> None:
    with pytest.raises(DatabaseError, match="sqlite:///path"):
        await open_store(location)


async def test_a_sqlite_url_opens_the_file(tmp_path: Path) -> None:
    store = await open_store(f"sqlite://{tmp_path}/url.db")
    await store.close()
    assert (tmp_path / "url.db").is_file()


# -- projects -----------------------------------------------------------------------------------


async def test_projects_register_refresh_and_detect(any_store: Store) -> None:
    first = await any_store.projects.register(
        root_path="/w", name="w", slug="w", default_branch="main", current_branch="main"
    )
    again = await any_store.projects.register(
        root_path="/w", name="w2", slug="w2", default_branch="main", current_branch="dev"
    )
    assert again.id == first.id
    stats = [LanguageStat(language="python", files=2, bytes=30)]
    await any_store.projects.set_detection(first.id, stats, ["django"])
    found = await any_store.projects.get(first.id)
    assert found is not None
    assert blank(found) == Project(
        id=first.id, name="w2", slug="w2", root_path="/w", default_branch="main",
        current_branch="dev", languages=stats, frameworks=["django"], created_at="t",
        updated_at="t",
    )  # fmt: skip
    assert await any_store.projects.get(first.id + 100) is None
    assert await any_store.projects.by_root("/w") == found
    assert await any_store.projects.by_root("/elsewhere") is None


# -- runs, events, questions --------------------------------------------------------------------


async def test_runs_are_listed_newest_first_and_queued_first_in_first_out(
    any_store: Store,
) -> None:
    project_id, running = await project_and_run(any_store)
    queued = []
    for title in ("q1", "q2"):
        run = await any_store.runs.create(
            project_id=project_id, title=title, prompt="p", status=RunStatus.QUEUED,
            agent="qa", provider="scripted", model="m", mode="yolo", metadata=RunMetadata(),
            retry_of=running,
        )  # fmt: skip
        queued.append(run.id)
    assert [r.id for r in await any_store.runs.list(project_id)] == [*reversed(queued), running]
    assert [r.id for r in await any_store.runs.list(project_id, limit=1)] == [queued[-1]]
    only = await any_store.runs.list(project_id, [RunStatus.RUNNING])
    assert [r.id for r in only] == [running]
    assert [r.id for r in await any_store.runs.queued(project_id)] == queued
    first = await any_store.runs.get(queued[0])
    assert first is not None and (first.retry_of, first.model, first.mode) == (
        running,
        "m",
        "yolo",
    )
    assert await any_store.runs.get(queued[-1] + 100) is None


async def test_run_updates_compare_and_set(any_store: Store) -> None:
    _, run_id = await project_and_run(any_store)
    metadata = RunMetadata(max_steps=3, pause_reason="why")
    updated = await any_store.runs.update(
        run_id, current_step=2, branch_name="b", owner="me", metadata=metadata
    )
    assert updated is not None
    assert (updated.current_step, updated.branch_name, updated.metadata) == (2, "b", metadata)
    assert await any_store.runs.owner(run_id) == "me"
    stale = await any_store.runs.update(
        run_id, expect_status=RunStatus.QUEUED, status=RunStatus.CANCELLED
    )
    assert stale is None
    done = await any_store.runs.update(
        run_id, expect_status=RunStatus.RUNNING, status=RunStatus.COMPLETED, completed_at="t"
    )
    assert done is not None and done.status is RunStatus.COMPLETED
    assert await any_store.runs.update(run_id + 100, current_step=1) is None
    with pytest.raises(ValueError, match="prompt"):
        await any_store.runs.update(run_id, prompt="x")  # type: ignore[call-arg]


async def test_run_transitions_write_the_run_and_its_event_together(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    note = event(project_id, run_id, "paused", type=EventType.RUN_STATUS_CHANGED)
    found = await any_store.runs.transition(
        run_id, expect_status=RunStatus.RUNNING, event=note, status=RunStatus.PAUSED
    )
    assert found is not None
    run, recorded = found
    assert run.status is RunStatus.PAUSED and recorded.title == "paused" and recorded.id > 0
    again = await any_store.runs.transition(
        run_id, expect_status=RunStatus.RUNNING, event=note, status=RunStatus.PAUSED
    )
    assert again is None
    assert [e.title for e in await any_store.events.list(project_id)] == ["paused"]


async def test_a_recorded_run_gets_its_branch_and_first_event(any_store: Store) -> None:
    project_id, _ = await project_and_run(any_store)
    new = NewRun(
        project_id=project_id, title="t", prompt="p", status=RunStatus.DRAFT, agent="qa",
        provider="scripted", model=None, mode="review", metadata=RunMetadata(rag=False),
    )  # fmt: skip
    first = event(project_id, None, "created")
    run, recorded = await any_store.runs.create_recorded(
        new, branch=lambda run_id: f"devfactory/run-{run_id}", event=first
    )
    assert run.branch_name == f"devfactory/run-{run.id}"
    assert run.metadata == RunMetadata(rag=False) and run.status is RunStatus.DRAFT
    assert recorded.run_id == run.id
    assert await any_store.events.list(project_id, run_id=run.id) == [recorded]


async def test_events_append_in_order_and_replay_after_an_id(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    assert await any_store.events.latest_id(project_id) == 0
    assert await any_store.events.append([]) == []
    batch = [event(project_id, run_id, str(n)) for n in range(5)] + [
        event(project_id, None, "project-wide", severity=Severity.WARNING)
    ]
    appended = await any_store.events.append(batch)
    ids = [e.id for e in appended]
    assert ids == list(range(ids[0], ids[0] + 6)), "one batch, consecutive ids"
    assert [e.title for e in appended] == [e.title for e in batch]
    assert appended[-1].severity is Severity.WARNING and appended[0].payload == {"n": "0"}
    assert await any_store.events.list(project_id) == appended
    assert await any_store.events.list(project_id, since=ids[2], limit=2) == appended[3:5]
    assert await any_store.events.list(project_id, run_id=run_id) == appended[:5]
    assert await any_store.events.latest_id(project_id) == ids[-1]


async def test_questions_are_asked_answered_and_cancelled(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    asked = await any_store.hitl.create(run_id, "which?", ["a", "b"], tool_call_id="call-1")
    assert blank(asked) == HitlRequest(
        id=asked.id, run_id=run_id, question="which?", choices=["a", "b"], created_at="t"
    )
    answered = await any_store.hitl.answer(asked.id, HitlAction.ANSWER, "a")
    assert (answered.status, answered.response_action, answered.response_text) == (
        HitlStatus.ANSWERED,
        HitlAction.ANSWER,
        "a",
    )
    assert answered.answered_at is not None
    pending = await any_store.hitl.create(run_id, "sure?", [])
    await any_store.hitl.cancel_pending(run_id)
    cancelled = await any_store.hitl.get(pending.id)
    assert cancelled is not None and cancelled.status is HitlStatus.CANCELLED
    assert await any_store.hitl.get(pending.id + 100) is None
    every = await any_store.hitl.list(project_id)
    assert [r.id for r in every] == [asked.id, pending.id]
    assert await any_store.hitl.list(project_id, run_id, HitlStatus.ANSWERED) == [answered]
    assert await any_store.hitl.list(project_id, run_id + 100) == []


async def test_a_plan_to_approve_is_a_question_of_kind_plan(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    plan = await any_store.hitl.create(run_id, "1. Fix add()", [], "call-9", kind="plan")
    assert (plan.kind, plan.question) == ("plan", "1. Fix add()")
    assert [r.kind for r in await any_store.hitl.list(project_id, run_id)] == ["plan"]
    asked = await any_store.hitl.create(run_id, "which?", [])
    assert asked.kind == "question"


async def test_the_project_s_usage_is_the_sum_of_its_runs(any_store: Store) -> None:
    project_id, first = await project_and_run(any_store)
    assert await any_store.runs.total_usage(project_id) == TokenUsage()
    priced = RunMetadata(usage=TokenUsage(input_tokens=10, output_tokens=5, cost_usd=0.25))
    await any_store.runs.update(first, metadata=priced)
    second = await any_store.runs.create(
        project_id=project_id, title="t", prompt="p", status=RunStatus.QUEUED, agent="qa",
        provider="scripted", model="m", mode="review", metadata=RunMetadata(
            usage=TokenUsage(input_tokens=1, output_tokens=2, cached_input_tokens=1)
        ),
    )  # fmt: skip
    assert second.id != first
    assert await any_store.runs.total_usage(project_id) == TokenUsage(
        input_tokens=11, output_tokens=7, cached_input_tokens=1, cost_usd=0.25
    )
    assert await any_store.runs.total_usage(project_id + 100) == TokenUsage()


# -- the workspace ------------------------------------------------------------------------------


async def record_snapshot(
    store: Store, project_id: int, run_id: int | None, snapshot_id: int, n: int
) -> tuple[Snapshot, Event]:
    return await store.snapshots.create_recorded(
        snapshot_id=snapshot_id, project_id=project_id, run_id=run_id, type=SnapshotType.PRE_RUN,
        origin=SnapshotOrigin.WORKTREE if n % 2 else SnapshotOrigin.WORKSPACE,
        description=f"s{n}", ref=f"refs/devfactory/snapshots/{snapshot_id}", commit_sha="c" * 40,
        tree_sha="d" * 40, files_changed=n, event=event(project_id, run_id, f"snapshot {n}"),
    )  # fmt: skip


async def test_snapshots_get_the_id_announced_with_their_event(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    made = []
    for n, run in enumerate((run_id, None, run_id)):
        announced = await any_store.snapshots.next_id()
        snapshot, recorded = await record_snapshot(any_store, project_id, run, announced, n)
        assert snapshot.id == announced
        assert (recorded.run_id, recorded.title) == (run, f"snapshot {n}")
        assert (await any_store.events.list(project_id, since=recorded.id - 1)) == [recorded]
        made.append(snapshot)
    assert blank(made[0]) == Snapshot(
        id=made[0].id, project_id=project_id, run_id=run_id, type=SnapshotType.PRE_RUN,
        origin=SnapshotOrigin.WORKSPACE, description="s0", ref=f"refs/devfactory/snapshots/{made[0].id}", commit_sha="c" * 40,
        tree_sha="d" * 40, files_changed=0, created_at="t",
    )  # fmt: skip
    assert await any_store.snapshots.get(made[1].id) == made[1]
    assert made[1].origin is SnapshotOrigin.WORKTREE
    assert await any_store.snapshots.get(made[-1].id + 100) is None
    assert await any_store.snapshots.list(project_id) == made[::-1]
    assert await any_store.snapshots.list(project_id, limit=1) == [made[-1]]
    assert await any_store.snapshots.list(project_id, run_id) == [made[2], made[0]]


async def test_a_snapshot_id_taken_meanwhile_writes_nothing(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    announced = await any_store.snapshots.next_id()
    first, _ = await record_snapshot(any_store, project_id, run_id, announced, 0)
    before = await any_store.events.latest_id(project_id)
    with pytest.raises(DatabaseError):
        await record_snapshot(any_store, project_id, run_id, announced, 1)
    assert await any_store.snapshots.list(project_id) == [first]
    assert await any_store.events.latest_id(project_id) == before


HUNK = Hunk(index=0, old_start=1, old_lines=1, new_start=1, new_lines=2, header="@@ -1 +1,2 @@")


async def propose(store: Store, project_id: int, run_id: int, path: str, after: str) -> Change:
    return await store.changes.upsert(
        project_id=project_id, run_id=run_id, path=path, base_commit="a" * 40,
        action=ChangeAction.UPDATE,
        before_hash="b", after_hash=after, diff="-a\n+b", diff_path=None, hunks=[HUNK],
        event_id=None,
    )  # fmt: skip


async def test_a_change_is_one_proposal_per_path_until_reviewed(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    first = await propose(any_store, project_id, run_id, "a.py", "h1")
    assert blank(first) == Change(
        id=first.id, run_id=run_id, project_id=project_id, path="a.py", base_commit="a" * 40,
        action=ChangeAction.UPDATE, status=ChangeStatus.PROPOSED, before_hash="b",
        after_hash="h1", hunks=[HUNK], created_at="t", updated_at="t",
    )  # fmt: skip
    replaced = await propose(any_store, project_id, run_id, "a.py", "h2")
    assert (replaced.id, replaced.after_hash) == (first.id, "h2")
    with_file = await any_store.changes.set_diff_path(first.id, ".devfactory/diffs/1.diff")
    assert with_file.diff_path == ".devfactory/diffs/1.diff"
    applied_hunk = msgspec.structs.replace(HUNK, status=ChangeStatus.APPLIED)
    applied = await any_store.changes.set_status(
        first.id, ChangeStatus.APPLIED, hunks=[applied_hunk]
    )
    assert (applied.status, applied.hunks) == (ChangeStatus.APPLIED, [applied_hunk])
    reviewed_again = await propose(any_store, project_id, run_id, "a.py", "h3")
    assert reviewed_again.id != first.id, "a reviewed change is kept; the next is new"
    other = await propose(any_store, project_id, run_id, "b.py", "h4")
    conflict = await any_store.changes.set_status(
        other.id, ChangeStatus.CONFLICT, reason="edited meanwhile"
    )
    assert (conflict.reason, conflict.hunks) == ("edited meanwhile", [HUNK])

    assert await any_store.changes.get(other.id) == conflict
    assert await any_store.changes.get(other.id + 100) is None
    every = await any_store.changes.list(project_id)
    assert [c.id for c in every] == [first.id, reviewed_again.id, other.id]
    assert await any_store.changes.list(project_id, path="b.py") == [conflict]
    listed = await any_store.changes.list(project_id, run_id=run_id, status=ChangeStatus.APPLIED)
    assert listed == [applied]
    assert sorted(await any_store.changes.paths(project_id)) == ["a.py", "b.py"]


async def test_commands_open_until_finished_or_abandoned(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    started = await any_store.commands.start(
        project_id=project_id, run_id=run_id, command="pytest", args=["-q"], working_dir="/w",
        timeout_s=30.0, sandboxed=True, owner="daemon-1", marker="m-1",
    )  # fmt: skip
    assert blank(started) == CommandExecution(
        id=started.id, run_id=run_id, command="pytest", args=["-q"], working_dir="/w",
        timeout_s=30.0, started_at="t", sandboxed=True,
    )  # fmt: skip
    refused = await any_store.commands.start(
        project_id=project_id, run_id=run_id, command="rm", args=["-rf", "/"], working_dir="/w",
        timeout_s=1.0, was_blocked=True, block_reason="denied",
    )  # fmt: skip
    assert refused.finished_at is not None and refused.block_reason == "denied"
    stray = await any_store.commands.start(
        project_id=project_id, run_id=None, command="make", args=[], working_dir="/w",
        timeout_s=5.0, owner="daemon-2", marker="m-2",
    )  # fmt: skip
    assert await any_store.commands.open(project_id) == [
        OpenCommand(id=started.id, run_id=run_id, command="pytest", owner="daemon-1", marker="m-1"),
        OpenCommand(id=stray.id, run_id=None, command="make", owner="daemon-2", marker="m-2"),
    ]
    counts = TestCounts(passed=3, failed=1)
    finished = await any_store.commands.finish(
        started.id, exit_code=1, was_killed=False, stdout_path="o", stderr_path=None,
        output_tail="1 failed", test_framework="pytest", test_counts=counts,
    )  # fmt: skip
    assert (finished.exit_code, finished.test_counts, finished.output_tail) == (
        1,
        counts,
        "1 failed",
    )
    abandoned = await any_store.commands.abandon(stray.id, "its daemon died", was_killed=True)
    assert abandoned is not None and (abandoned.output_tail, abandoned.was_killed) == (
        "its daemon died",
        True,
    )
    assert await any_store.commands.abandon(stray.id, "again") is None, "closed once"
    assert await any_store.commands.open(project_id) == []
    assert await any_store.commands.get(started.id) == finished
    assert await any_store.commands.get(stray.id + 100) is None
    assert [c.id for c in await any_store.commands.list(run_id)] == [started.id, refused.id]


async def test_git_operations_are_kept_newest_first_with_outputs_capped(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    ids = []
    for n, run in enumerate((run_id, None, run_id)):
        operation_id = await any_store.git_operations.record(
            project_id=project_id, run_id=run, operation="commit", args=["-m", str(n)],
            exit_code=n, stdout="x" * 70_000, stderr="e", duration_ms=1.5,
        )  # fmt: skip
        ids.append(operation_id)
    newest = await any_store.git_operations.list(project_id)
    assert [op.id for op in newest] == ids[::-1]
    assert blank(newest[0]) == GitOperation(
        id=ids[2], project_id=project_id, run_id=run_id, operation="commit", args=["-m", "2"],
        exit_code=2, stdout="x" * 64 * 1024, stderr="e", duration_ms=1.5, created_at="t",
    )  # fmt: skip
    assert [op.id for op in await any_store.git_operations.list(project_id, limit=1)] == [ids[2]]
    assert [op.id for op in await any_store.git_operations.list(project_id, run_id)] == [
        ids[2],
        ids[0],
    ]


# -- review, documentation, accounts ------------------------------------------------------------


async def test_reviews_and_comments(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    assert await any_store.reviews.latest(run_id) is None
    await any_store.reviews.submit(run_id, ReviewDecision.COMMENTED, "look at a.py")
    verdict = await any_store.reviews.submit(run_id, ReviewDecision.APPROVED, "")
    assert blank(verdict) == RunReview(
        id=verdict.id, run_id=run_id, decision=ReviewDecision.APPROVED, created_at="t"
    )
    assert await any_store.reviews.latest(run_id) == verdict
    change = await propose(any_store, project_id, run_id, "a.py", "h")
    other = await propose(any_store, project_id, run_id, "b.py", "h")
    note = await any_store.reviews.add_comment(run_id, change.id, 3, "rename this")
    assert blank(note) == ReviewComment(
        id=note.id, change_id=change.id, run_id=run_id, line=3, body="rename this",
        created_at="t",
    )  # fmt: skip
    elsewhere = await any_store.reviews.add_comment(run_id, other.id, 1, "ok")
    assert await any_store.reviews.comment(note.id) == note
    resolved = await any_store.reviews.resolve(note.id, True)
    assert resolved is not None and resolved.resolved
    assert await any_store.reviews.resolve(note.id + 100, True) is None
    everything = await any_store.reviews.comments(
        run_id=run_id, change_id=None, include_resolved=True
    )
    assert everything == [resolved, elsewhere]
    assert await any_store.reviews.comments(
        run_id=run_id, change_id=None, include_resolved=False
    ) == [elsewhere]
    assert await any_store.reviews.comments(
        run_id=None, change_id=change.id, include_resolved=True
    ) == [resolved]


async def test_documentation_updates_are_recorded(any_store: Store) -> None:
    project_id, run_id = await project_and_run(any_store)
    first = await any_store.documentation.record_update(
        project_id=project_id, run_id=None, path="PROJECT_MAP.md", kind="project_map"
    )
    second = await any_store.documentation.record_update(
        project_id=project_id, run_id=run_id, path="CHANGELOG.md", kind="changelog",
        summary="added x", change_id=None,
    )  # fmt: skip
    assert 0 < first < second


async def test_provider_accounts_rotate_least_recently_used_first(any_store: Store) -> None:
    await any_store.provider_accounts.ensure("openai", "KEY_A", "KEY_A", None)
    await any_store.provider_accounts.ensure("openai", "KEY_B", "KEY_B", None)
    await any_store.provider_accounts.ensure("openai", "KEY_A", "KEY_A", "http://127.0.0.1:1/v1")
    await any_store.provider_accounts.ensure("anthropic", "KEY_C", "KEY_C", None)
    a, b = await any_store.provider_accounts.list("openai")
    assert (a.name, a.base_url, b.name) == ("KEY_A", "http://127.0.0.1:1/v1", "KEY_B")
    await any_store.provider_accounts.mark_used(a.id)
    await any_store.provider_accounts.mark_exhausted(b.id, "2030-01-01T00:00:00.000Z")
    rotated = await any_store.provider_accounts.list("openai")
    assert [account.name for account in rotated] == ["KEY_B", "KEY_A"]
    assert rotated[0] == ProviderAccount(
        id=b.id, provider="openai", name="KEY_B", api_key_env="KEY_B", base_url=None,
        exhausted_until="2030-01-01T00:00:00.000Z", last_used_at=None,
    )  # fmt: skip
    assert rotated[1].last_used_at is not None
    assert [x.name for x in await any_store.provider_accounts.list("anthropic")] == ["KEY_C"]
