"""Runs over the real daemon: a whole scripted run, pause and resume, cancel, ask_user,
directives and retry, each followed through ``devfactory/event`` and ``devfactory/runChanged``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from devfactory.protocol.enums import EventType, HitlAction, HitlStatus, RunStatus
from devfactory.protocol.events import (
    FinalSummary,
    GitDiffCreated,
    GitStatusChecked,
    PlanCreated,
    decode_payload,
)
from devfactory.protocol.hitl import HitlList, HitlListParams, HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunDirectiveParams, RunIdParams, RunList, RunListParams
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    kinds,
    live_events,
    mark,
    replay,
    shared_daemon,
    turn,
    wait_event,
    wait_finished,
    wait_status,
    write_script,
)
from support import DaemonClient, git, make_git_repo

S = RunStatus
CALC = "def add(a, b):\n    return a - b\n"
PLAN = turn("1. Read calc.py\n2. Fix add()\n3. Finish")
REVIEW_KINDS = {"change_proposed", "docs_updated"}
"""Added by the review feature when it is present; the run's own sequence is the rest."""


pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.both_databases(scope="module"),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, database: str) -> Path:
    root = tmp_path_factory.mktemp(f"runs-{database}") / "project"
    return make_git_repo(root, {"calc.py": CALC, "README.md": "# calc\n"})


daemon = shared_daemon(RUN_OPTIONS)


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    return tmp_path / "scripts"


def run_kinds(events: list) -> list[str]:
    return [k for k in kinds(events) if k not in REVIEW_KINDS]


async def test_a_scripted_run_goes_from_prompt_to_summary(
    daemon: DaemonClient, workspace: Path, scripts: Path
):
    script = write_script(
        scripts,
        "fix",
        [
            PLAN,
            turn("Reading the module.", call("read_file", path="calc.py")),
            turn("", call("edit_file", path="calc.py", search="a - b", replace="a + b")),
            finish("add() now adds."),
        ],
    )
    created = await create_run(daemon, script, prompt="Fix add()\nIt subtracts.")
    assert (created.title, created.provider, created.model) == (
        "Fix add()",
        "scripted",
        str(script),
    )
    assert created.branch_name == f"agent/run-{created.id}-fix-add"

    run = await wait_finished(daemon, created.id)
    assert run.status is S.COMPLETED, run.failed_reason
    events = await replay(daemon, created.id)
    assert run_kinds(events) == [
        "status:queued",
        "status:running",
        "snapshot_created",
        "git_branch_created",
        "user_prompt",
        "rag_search_started",
        "rag_search_completed",
        "ai_context_loaded",
        "ai_plan_created",
        "ai_message",
        "file_read",
        "file_updated",
        "checkpoint_created",
        "git_status_checked",
        "git_diff_created",
        "snapshot_created",
        "final_summary",
        "status:completed",
    ]
    assert live_events(daemon, created.id) == events, "live and replayed streams differ"
    by_type = {e.type: e for e in events}
    assert decode_payload(by_type[EventType.AI_PLAN_CREATED]) == PlanCreated(
        plan=PLAN["text"], steps=["Read calc.py", "Fix add()", "Finish"]
    )
    assert decode_payload(by_type[EventType.GIT_STATUS_CHECKED]) == GitStatusChecked(
        changed_files=["calc.py"]
    )
    assert decode_payload(by_type[EventType.GIT_DIFF_CREATED]) == GitDiffCreated(
        files=["calc.py"], insertions=1, deletions=1
    )
    summary = decode_payload(by_type[EventType.FINAL_SUMMARY])
    assert isinstance(summary, FinalSummary)
    assert (summary.summary, summary.files_changed) == ("add() now adds.", ["calc.py"])
    assert summary.input_tokens > 0

    final: Run = await daemon.call(Requests.RUNS_GET, RunIdParams(run_id=created.id))
    assert final.current_step == 3
    assert final.started_at and final.completed_at and final.failed_reason is None
    worktree = Path(final.worktree_path or "")
    assert worktree == workspace / ".devfactory" / "worktrees" / f"run-{created.id}"
    assert (worktree / "calc.py").read_text() == CALC.replace("a - b", "a + b")
    assert (workspace / "calc.py").read_text() == CALC, "a run never writes the user's files"
    assert git(workspace, "status", "--porcelain") == ""
    assert git(workspace, "branch", "--list", final.branch_name or "").strip()

    listed: RunList = await daemon.call(Requests.RUNS_LIST, RunListParams(status=[S.COMPLETED]))
    assert final in listed.runs
    assert {r.status for r in listed.runs} == {S.COMPLETED}


async def test_a_working_run_is_lsp_progress_from_start_to_finish(
    daemon: DaemonClient, scripts: Path
):
    script = write_script(
        scripts, "progress", [PLAN, turn("", call("read_file", path="calc.py")), finish("ok")]
    )
    before = set(daemon.progress_reports)
    created = await create_run(daemon, script, prompt="Read calc.py")
    run = await wait_finished(daemon, created.id)
    assert run.status is S.COMPLETED, run.failed_reason
    tokens = [t for t in daemon.progress_reports if t not in before and "run" in str(t)]
    assert len(tokens) == 1, daemon.progress_reports
    reports = daemon.progress_reports[tokens[0]]
    begin, *steps, end = reports
    assert (begin.kind, begin.title, begin.message) == (
        "begin",
        f"DevFactory run #{created.id}",
        "running",
    )
    messages = [step.message for step in steps]
    assert "Plan" in messages and "Read calc.py" in messages, messages
    assert (end.kind, end.message) == ("end", "completed")


async def test_pause_takes_effect_at_the_next_step_boundary_and_resume_continues(
    daemon: DaemonClient, scripts: Path
):
    thought = scripts / "pause.thought"
    script = write_script(
        scripts,
        "pause",
        [PLAN, turn("", call("read_file", path="calc.py"), wait_for_file=thought), finish()],
    )
    run = await create_run(daemon, script)
    # Step 1 began (the step boundary is behind) and the model thinks until the pause was
    # asked for: the pause waits for the step to end.
    await daemon.notes.wait_for(
        Notifications.RUN_CHANGED, lambda n: n.run.id == run.id and n.run.current_step == 1
    )
    answered: Run = await daemon.call(Requests.RUNS_PAUSE, RunIdParams(run_id=run.id))
    assert answered.status is S.RUNNING
    thought.touch()

    paused = await wait_status(daemon, run.id, S.PAUSED)
    assert paused.current_step == 2
    assert paused.metadata.pause_reason == "paused by the user"
    so_far = run_kinds(await replay(daemon, run.id))
    assert so_far[-3:] == ["ai_plan_created", "file_read", "status:paused"]

    since = mark(daemon)
    resumed: Run = await daemon.call(Requests.RUNS_RESUME, RunIdParams(run_id=run.id))
    assert (resumed.status, resumed.metadata.pause_reason) == (S.RUNNING, None)
    done = await wait_status(daemon, run.id, S.COMPLETED, start=since)
    assert done.current_step == 2
    events = run_kinds(await replay(daemon, run.id))
    assert events[len(so_far) :] == [
        "status:running",
        "git_status_checked",
        "git_diff_created",
        "snapshot_created",
        "final_summary",
        "status:completed",
    ]


async def test_cancel_interrupts_a_model_call_at_once(
    daemon: DaemonClient, workspace: Path, scripts: Path
):
    script = write_script(
        scripts,
        "slow",
        [PLAN, turn("", call("write_file", path="new.py", content="x = 1\n"), delay_s=600)],
    )
    run = await create_run(daemon, script)
    await wait_event(daemon, run.id, EventType.AI_PLAN_CREATED)
    cancelled: Run = await daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=run.id))
    # The answer comes once the worker stopped: the 600 s model call was interrupted.
    assert cancelled.status is S.CANCELLED
    events = await replay(daemon, run.id)
    assert run_kinds(events)[-2:] == ["ai_plan_created", "status:cancelled"]
    assert events[-1].payload["reason"] == "cancelled by the user"
    assert not (workspace / ".devfactory" / "worktrees" / f"run-{run.id}" / "new.py").exists()
    # The slot is free again: a new run starts and completes.
    second = await create_run(daemon, write_script(scripts, "quick", [PLAN, finish()]))
    assert (await wait_finished(daemon, second.id)).status is S.COMPLETED


async def test_ask_user_waits_for_the_answer_and_the_model_reads_it(
    daemon: DaemonClient, scripts: Path
):
    question = call("ask_user", question="Keep the old name?", choices=["yes", "no"])
    script = write_script(
        scripts, "ask", [PLAN, turn("", question), turn("Noted.", quote_last=True), finish()]
    )
    run = await create_run(daemon, script)
    note = await daemon.notes.wait_for(Notifications.QUESTION, lambda n: n.request.run_id == run.id)
    request = note.request
    assert (request.question, request.choices, request.status) == (
        "Keep the old name?",
        ["yes", "no"],
        HitlStatus.PENDING,
    )
    waiting: Run = await daemon.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
    assert waiting.status is S.WAITING_FOR_USER
    pending: HitlList = await daemon.call(Requests.HITL_LIST, HitlListParams(run_id=run.id))
    assert pending.requests == [request]

    answered = await daemon.call(
        Requests.HITL_RESPOND,
        HitlRespondParams(request_id=request.id, action=HitlAction.ANSWER, text="no"),
    )
    assert (answered.status, answered.response_action, answered.response_text) == (
        HitlStatus.ANSWERED,
        HitlAction.ANSWER,
        "no",
    )
    with pytest.raises(JsonRpcException, match=f"question {request.id} is already answered"):
        await daemon.call(Requests.HITL_RESPOND, HitlRespondParams(request_id=request.id))

    assert (await wait_finished(daemon, run.id)).status is S.COMPLETED
    events = await replay(daemon, run.id)
    plan = run_kinds(events).index("ai_plan_created")
    assert run_kinds(events)[plan : plan + 6] == [
        "ai_plan_created",
        "status:waiting_for_user",
        "paused_for_input",
        "resumed",
        "status:running",
        "ai_message",
    ]
    shown = [e for e in events if e.type.value not in REVIEW_KINDS]
    said = [e for e in shown if e.type is not EventType.CONVERSATION_MESSAGE_ADDED]
    answer_turn = said[plan + 5]
    assert answer_turn.message == "Noted.\n> no", "the answer reaches the next model turn"
    left: HitlList = await daemon.call(Requests.HITL_LIST, HitlListParams(run_id=run.id))
    assert left.requests == []


async def test_a_directive_reaches_the_next_model_turn(daemon: DaemonClient, scripts: Path):
    script = write_script(
        scripts,
        "directive",
        [turn("1. Work", delay_s=0.3), turn("On it.", quote_last=True), finish()],
    )
    run = await create_run(daemon, script)
    await wait_status(daemon, run.id, S.RUNNING)
    await daemon.call(Requests.RUNS_PAUSE, RunIdParams(run_id=run.id))
    await wait_status(daemon, run.id, S.PAUSED)
    # Paused at the step boundary: the directive is injected when the run goes on.
    await daemon.call(
        Requests.RUNS_DIRECTIVE, RunDirectiveParams(run_id=run.id, text="Use type hints")
    )
    received = await wait_event(daemon, run.id, EventType.DIRECTIVE_RECEIVED)
    assert (received.message, received.payload) == ("Use type hints", {"text": "Use type hints"})
    await daemon.call(Requests.RUNS_RESUME, RunIdParams(run_id=run.id))

    assert (await wait_finished(daemon, run.id)).status is S.COMPLETED
    messages = [e for e in await replay(daemon, run.id) if e.type is EventType.AI_MESSAGE]
    assert [e.message for e in messages] == ["On it.\n> Message from the user: Use type hints"]
    assert messages[0].id > received.id


async def test_retry_is_a_new_run_linked_to_the_old_one(daemon: DaemonClient, scripts: Path):
    run = await create_run(daemon, scripts / "missing.json")
    failed = await wait_finished(daemon, run.id)
    assert failed.status is S.FAILED
    assert "missing.json does not exist" in (failed.failed_reason or "")

    write_script(scripts, "missing", [PLAN, finish()])
    retried: Run = await daemon.call(Requests.RUNS_RETRY, RunIdParams(run_id=run.id))
    assert retried.id != run.id
    assert (retried.retry_of, retried.prompt, retried.model) == (run.id, run.prompt, run.model)
    assert (await wait_finished(daemon, retried.id)).status is S.COMPLETED


async def test_the_step_limit_fails_the_run_with_the_reason(daemon: DaemonClient, scripts: Path):
    looping = turn("", call("list_files"))
    script = write_script(scripts, "loop", [PLAN, looping, looping, looping])
    run = await create_run(daemon, script, max_steps=2)
    failed = await wait_finished(daemon, run.id)
    assert failed.status is S.FAILED
    assert failed.failed_reason == "the step limit (2) was reached before finish"


async def test_a_client_that_attaches_late_replays_then_follows_with_no_gap_or_duplicate(
    daemon: DaemonClient, scripts: Path
):
    reads = [turn("", call("read_file", path="calc.py"), delay_s=0.01) for _ in range(30)]
    run = await create_run(daemon, write_script(scripts, "busy", [PLAN, *reads, finish()]))
    await daemon.notes.wait_for(
        Notifications.EVENT,
        lambda n: n.event.run_id == run.id and n.event.type is EventType.FILE_READ,
    )
    # Attach now: follow live notifications from here, then replay from the start in pages.
    attached = mark(daemon, Notifications.EVENT)
    replayed = await replay(daemon, run.id, page=7)
    await wait_finished(daemon, run.id)
    followed = live_events(daemon, run.id, start=attached)

    seen: dict[int, object] = {}
    for event in [*replayed, *followed]:
        seen.setdefault(event.id, event)  # a client drops what it already has, by id
    everything = await replay(daemon, run.id)
    assert list(seen.values()) == everything, "no gap: replay + live is the whole stream"
    assert [e.id for e in followed] == sorted(e.id for e in followed), "live comes in order"
    assert followed[-1] == everything[-1]
    assert replayed[-1].id < everything[-1].id, "the run was still going when we attached"
    assert kinds(everything).count("file_read") == 30
