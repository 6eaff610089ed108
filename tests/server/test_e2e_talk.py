"""Talking to runs over the real daemon with the scripted provider: plan mode, per-step
checkpoints and rewind (shell commands' files included), budgets, compaction, and messages
to runs in every status."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from devfactory.protocol.changes import ChangeList, ChangesListParams
from devfactory.protocol.enums import ChangeStatus, EventType, HitlAction, RunStatus
from devfactory.protocol.events import BudgetReached, CheckpointCreated, RunRewound, decode_payload
from devfactory.protocol.hitl import HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import (
    Run,
    RunIdParams,
    RunMessageParams,
    RunRewindParams,
    RunRewindResult,
)
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    mark,
    replay,
    shared_daemon,
    turn,
    wait_finished,
    wait_status,
    write_script,
)
from support import DaemonClient, make_git_repo

S = RunStatus
pytestmark = pytest.mark.asyncio(loop_scope="module")

BIG = "line of a long file\n" * 400
MAKE = "def test_make():\n    open('made.bin', 'wb').write(bytes(range(256)))\n"
daemon = shared_daemon(
    {**RUN_OPTIONS, "agent": {"models": {"compact.json": {"contextWindow": 4000}}}}
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(
        tmp_path_factory.mktemp("talk") / "project",
        {
            "calc.py": "def add(a, b):\n    return a - b\n",
            "big.txt": BIG,
            "make_test.py": MAKE,
            ".gitignore": "__pycache__/\n",
        },
    )


def of(events: list, kind: EventType) -> list:
    return [decode_payload(e) for e in events if e.type is kind]


async def test_plan_mode_refuses_writes_waits_for_approval_then_acts(
    daemon: DaemonClient, tmp_path: Path
):
    script = write_script(
        tmp_path,
        "plan",
        [
            turn("", call("write_file", path="calc.py", content="too early\n")),
            turn("", call("propose_plan", plan="1. Make add() add")),
            turn("", call("edit_file", path="calc.py", search="a - b", replace="a + b")),
            finish("add() adds"),
        ],
    )
    run = await create_run(daemon, script, plan=True)
    assert run.metadata.plan_mode
    note = await daemon.notes.wait_for(Notifications.QUESTION, lambda n: n.request.run_id == run.id)
    assert (note.request.kind, note.request.question) == ("plan", "1. Make add() add")
    worktree = Path((await wait_status(daemon, run.id, S.WAITING_FOR_USER)).worktree_path or "")
    assert (worktree / "calc.py").read_text().endswith("a - b\n"), "nothing written while planning"

    await daemon.call(
        Requests.HITL_RESPOND,
        HitlRespondParams(request_id=note.request.id, action=HitlAction.APPROVE),
    )
    done = await wait_finished(daemon, run.id)
    assert done.status is S.COMPLETED, done.failed_reason
    assert (done.metadata.plan, done.metadata.plan_approved) == ("1. Make add() add", True)
    assert (worktree / "calc.py").read_text().endswith("a + b\n")
    events = await replay(daemon, run.id)
    refused = [
        p for p in of(events, EventType.CONVERSATION_MESSAGE_ADDED) if p.name == "write_file"
    ]
    assert refused[0].content.startswith("error: plan mode: write_file is not available")


async def test_rewind_restores_exact_bytes_of_every_step_including_a_command_s_file(
    daemon: DaemonClient, tmp_path: Path
):
    made = "python3 -m pytest -q -p no:cacheprovider make_test.py"  # writes made.bin
    script = write_script(
        tmp_path,
        "steps",
        [
            turn("1. Three steps"),
            turn("", call("write_file", path="notes.txt", content="one\r\n")),
            turn("", call("run_command", command=made)),
            turn("", call("write_file", path="notes.txt", content="three\n")),
            finish("three steps"),
        ],
    )
    run = await wait_finished(daemon, (await create_run(daemon, script)).id)
    assert run.status is S.COMPLETED, run.failed_reason
    worktree = Path(run.worktree_path or "")
    checkpoints = of(await replay(daemon, run.id), EventType.CHECKPOINT_CREATED)
    assert [(c.step, c.files) for c in checkpoints] == [
        (1, ["notes.txt"]),
        (2, ["made.bin"]),
        (3, ["notes.txt"]),
    ]
    assert all(isinstance(c, CheckpointCreated) for c in checkpoints)

    back: RunRewindResult = await daemon.call(
        Requests.RUNS_REWIND, RunRewindParams(run_id=run.id, step=2)
    )
    assert back.step == 2 and "notes.txt" in back.files
    assert (worktree / "notes.txt").read_bytes() == b"one\r\n"
    assert (worktree / "made.bin").read_bytes() == bytes(range(256))

    await daemon.call(Requests.RUNS_REWIND, RunRewindParams(run_id=run.id, step=1))
    assert not (worktree / "made.bin").exists(), "the command's file goes with its step"
    assert (worktree / "notes.txt").read_bytes() == b"one\r\n"
    proposed: ChangeList = await daemon.call(
        Requests.CHANGES_LIST, ChangesListParams(run_id=run.id, status=ChangeStatus.PROPOSED)
    )
    assert sorted(c.path for c in proposed.changes) == ["notes.txt"], "made.bin is withdrawn"
    assert proposed.changes[0].after_hash == hashlib.sha256(b"one\r\n").hexdigest()
    rewound = of(await replay(daemon, run.id), EventType.RUN_REWOUND)
    assert [(r.step, r.messages_removed > 0) for r in rewound] == [(2, True), (1, True)]
    assert all(isinstance(r, RunRewound) for r in rewound)

    with pytest.raises(JsonRpcException, match="step must be between 0 and 1"):
        await daemon.call(Requests.RUNS_REWIND, RunRewindParams(run_id=run.id, step=3))


async def test_a_token_budget_pauses_the_run_with_the_reason_and_resume_goes_on(
    daemon: DaemonClient, tmp_path: Path
):
    steps = [turn("", call("list_files")) for _ in range(3)]
    script = write_script(tmp_path, "budget", [turn("1. Look"), *steps, finish()])
    run = await create_run(daemon, script, max_tokens=10)
    paused = await wait_status(daemon, run.id, S.PAUSED)
    assert paused.metadata.pause_reason and "budget of 10" in paused.metadata.pause_reason
    reached = of(await replay(daemon, run.id), EventType.BUDGET_REACHED)
    assert len(reached) == 1 and isinstance(reached[0], BudgetReached)
    assert reached[0].max_tokens == 10 and reached[0].tokens >= 10

    await daemon.call(Requests.RUNS_RESUME, RunIdParams(run_id=run.id))
    done = await wait_finished(daemon, run.id)
    assert done.status is S.COMPLETED, done.failed_reason


async def test_the_conversation_is_compacted_at_the_model_s_threshold(
    daemon: DaemonClient, tmp_path: Path
):
    reads = [turn("", call("read_file", path="big.txt")) for _ in range(3)]
    script = write_script(tmp_path, "compact", [turn("1. Read"), *reads, finish()])
    run = await wait_finished(daemon, (await create_run(daemon, script)).id)
    assert run.status is S.COMPLETED, run.failed_reason
    compactions = of(await replay(daemon, run.id), EventType.CONTEXT_COMPACTED)
    assert compactions and compactions[0].stage == "tool_outputs"
    assert all(c.context_window == 4000 for c in compactions)
    assert all(c.tokens_before > 3200 >= c.tokens_after for c in compactions)


async def test_a_message_is_a_follow_up_once_the_run_stopped_and_an_answer_while_it_waits(
    daemon: DaemonClient, tmp_path: Path
):
    ask = turn("", call("ask_user", question="Which name?"))
    script = write_script(
        tmp_path,
        "talk",
        [turn("1. Ask"), ask, turn("Noted.", quote_last=True), finish("first"), finish("second")],
    )
    run = await create_run(daemon, script)
    await wait_status(daemon, run.id, S.WAITING_FOR_USER)
    await daemon.call(Requests.RUNS_MESSAGE, RunMessageParams(run_id=run.id, text="plus"))
    done = await wait_finished(daemon, run.id)
    assert done.status is S.COMPLETED, done.failed_reason
    messages = [e.message for e in await replay(daemon, run.id) if e.type is EventType.AI_MESSAGE]
    assert "Noted.\n> plus" in messages, "the message answered the question"

    start = mark(daemon)
    again: Run = await daemon.call(
        Requests.RUNS_MESSAGE, RunMessageParams(run_id=run.id, text="and rename it")
    )
    assert again.status in (S.QUEUED, S.RUNNING) and again.metadata.iteration == 2
    done = await wait_status(daemon, run.id, S.COMPLETED, S.FAILED, start=start, timeout=30)
    assert done.status is S.COMPLETED and done.current_step > run.current_step
    summaries = of(await replay(daemon, run.id), EventType.FINAL_SUMMARY)
    assert [s.summary for s in summaries] == ["first", "second"]

    with pytest.raises(JsonRpcException, match="@nothing_here: no file or symbol"):
        await daemon.call(
            Requests.RUNS_MESSAGE, RunMessageParams(run_id=run.id, text="look at @nothing_here")
        )
