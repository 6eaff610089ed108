"""Every run control against every status over the real daemon: an illegal one is refused
with an error naming the run's current status, and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from devfactory.protocol import errors as codes
from devfactory.protocol.enums import RUN_CONTROLS, RunControl, RunStatus
from devfactory.protocol.hitl import HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import (
    Run,
    RunCreateParams,
    RunDirectiveParams,
    RunIdParams,
    RunListParams,
    RunMessageParams,
    RunRewindParams,
)
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    replay,
    shared_daemon,
    turn,
    wait_finished,
    wait_status,
    write_script,
)
from support import DaemonClient, make_git_repo

S = RunStatus
pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.both_databases(scope="module"),
]

CONTROLS = list(RunControl)
ILLEGAL = [
    (status, control)
    for status, legal in RUN_CONTROLS.items()
    for control in CONTROLS
    if control not in legal
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, database: str) -> Path:
    return make_git_repo(tmp_path_factory.mktemp(f"controls-{database}") / "project")


daemon = shared_daemon({**RUN_OPTIONS, "maxConcurrentRuns": 3})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runs(
    daemon: DaemonClient, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[RunStatus, Run]]:
    """One run in each status; running, paused and waiting take all three slots, so the
    last one stays queued."""
    folder = tmp_path_factory.mktemp("scripts")
    plan = turn("1. Look around")
    found: dict[RunStatus, Run] = {}

    completed = await create_run(daemon, write_script(folder, "done", [plan, finish()]))
    failed = await create_run(daemon, folder / "no-such-script.json")
    found[S.COMPLETED] = await wait_finished(daemon, completed.id)
    found[S.FAILED] = await wait_finished(daemon, failed.id)
    found[S.DRAFT] = await create_run(daemon, "unused.json", start=False)
    draft = await create_run(daemon, "unused.json", start=False)
    found[S.CANCELLED] = await daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=draft.id))

    running = await create_run(
        daemon, write_script(folder, "think", [turn("1. Think", delay_s=600)])
    )
    found[S.RUNNING] = await wait_status(daemon, running.id, S.RUNNING)
    steps = [turn("", call("list_files"), delay_s=0.2) for _ in range(50)]
    paused = await create_run(daemon, write_script(folder, "steps", [plan, *steps]))
    await wait_status(daemon, paused.id, S.RUNNING)
    await daemon.call(Requests.RUNS_PAUSE, RunIdParams(run_id=paused.id))
    found[S.PAUSED] = await wait_status(daemon, paused.id, S.PAUSED)
    question = turn("", call("ask_user", question="Which name?"))
    waiting = await create_run(daemon, write_script(folder, "ask", [plan, question]))
    found[S.WAITING_FOR_USER] = await wait_status(daemon, waiting.id, S.WAITING_FOR_USER)

    found[S.QUEUED] = await create_run(daemon, write_script(folder, "later", [plan, finish()]))
    assert {status: run.status for status, run in found.items()} == {s: s for s in RunStatus}
    yield found


async def control(client: DaemonClient, name: RunControl, run_id: int) -> Run:
    params: object
    if name is RunControl.DIRECTIVE:
        params = RunDirectiveParams(run_id=run_id, text="also update the docs")
    elif name is RunControl.MESSAGE:
        params = RunMessageParams(run_id=run_id, text="also update the docs")
    elif name is RunControl.REWIND:
        params = RunRewindParams(run_id=run_id, step=0)
    else:
        params = RunIdParams(run_id=run_id)
    run: Run = await client.call(f"devfactory/runs/{name}", params)
    return run


@pytest.mark.parametrize(("status", "name"), ILLEGAL)
async def test_an_illegal_control_names_the_current_status_and_changes_nothing(
    daemon: DaemonClient, runs: dict[RunStatus, Run], status: RunStatus, name: RunControl
):
    run = runs[status]
    before = await replay(daemon, run.id)
    with pytest.raises(JsonRpcException) as caught:
        await control(daemon, name, run.id)
    assert caught.value.code == codes.INVALID_STATE
    assert f"run {run.id} is {status.value}" in caught.value.message or (
        caught.value.message == f"run {run.id} is already {status.value}"
    )
    after: Run = await daemon.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
    assert after.status is status
    assert await replay(daemon, run.id) == before


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (S.COMPLETED, "run {id} is completed; resume needs a paused run"),
        (S.RUNNING, "run {id} is running; start needs a draft run"),
        (S.QUEUED, "run {id} is queued; pause needs a running or waiting_for_user run"),
        (S.CANCELLED, "run {id} is already cancelled"),
        (S.DRAFT, "run {id} is draft; retry needs a completed, failed or cancelled run"),
        (S.FAILED, "run {id} is failed; directive needs a running, paused or waiting_for_user run"),
    ],
)
async def test_the_refusals_say_what_would_be_allowed(
    daemon: DaemonClient, runs: dict[RunStatus, Run], status: RunStatus, message: str
):
    name = {
        S.COMPLETED: RunControl.RESUME,
        S.RUNNING: RunControl.START,
        S.QUEUED: RunControl.PAUSE,
        S.CANCELLED: RunControl.CANCEL,
        S.DRAFT: RunControl.RETRY,
        S.FAILED: RunControl.DIRECTIVE,
    }[status]
    with pytest.raises(JsonRpcException) as caught:
        await control(daemon, name, runs[status].id)
    assert caught.value.message == message.format(id=runs[status].id)


async def test_the_queued_run_starts_when_a_slot_frees(
    daemon: DaemonClient, runs: dict[RunStatus, Run]
):
    """Last, because it changes the statuses the other tests rely on."""
    queued = runs[S.QUEUED]
    since = len(daemon.notes.received[Notifications.RUN_CHANGED])
    await daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=runs[S.RUNNING].id))
    assert (await wait_finished(daemon, queued.id)).status is S.COMPLETED
    await wait_status(daemon, queued.id, S.RUNNING, start=since)


async def test_an_answer_to_a_cancelled_run_is_refused(
    daemon: DaemonClient, runs: dict[RunStatus, Run]
):
    waiting = runs[S.WAITING_FOR_USER]
    note = await daemon.notes.wait_for(
        Notifications.QUESTION, lambda n: n.request.run_id == waiting.id
    )
    await daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=waiting.id))
    with pytest.raises(JsonRpcException, match=f"question {note.request.id} is already cancelled"):
        await daemon.call(Requests.HITL_RESPOND, HitlRespondParams(request_id=note.request.id))


@pytest.mark.parametrize(
    ("method", "params", "error", "message"),
    [
        (Requests.RUNS_GET, {"runId": 999}, JsonRpcException, "run 999 does not exist"),
        (Requests.RUNS_CANCEL, {"runId": 999}, JsonRpcException, "run 999 does not exist"),
        (Requests.HITL_RESPOND, {"requestId": 999}, JsonRpcException, "question 999 does not"),
        (
            Requests.RUNS_CREATE,
            {"prompt": "   "},
            JsonRpcInvalidParams,
            "prompt must not be empty",
        ),
        (
            Requests.RUNS_CREATE,
            {"prompt": "x", "provider": "gpt-9"},
            JsonRpcInvalidParams,
            "provider 'gpt-9' is not configured; known: anthropic, claude_code",
        ),
        (
            Requests.RUNS_CREATE,
            {"prompt": "x", "maxSteps": 0},
            JsonRpcInvalidParams,
            "maxSteps must be between 1 and 500, got 0",
        ),
        (
            Requests.RUNS_CREATE,
            {"prompt": "x", "agent": "wizard"},
            JsonRpcInvalidParams,
            "agent",
        ),
        (
            Requests.RUNS_DIRECTIVE,
            {"runId": 1, "text": " "},
            JsonRpcInvalidParams,
            "text must not be empty",
        ),
        (Requests.RUNS_LIST, {"limit": 0}, JsonRpcInvalidParams, "limit must be between 1"),
    ],
)
async def test_bad_requests_name_the_field(
    daemon: DaemonClient, method: str, params: dict, error: type[Exception], message: str
):
    with pytest.raises(error) as caught:
        await daemon.protocol.send_request_async(method, params)
    assert message in str(caught.value)


async def test_a_draft_waits_until_started(daemon: DaemonClient, tmp_path: Path):
    script = write_script(tmp_path, "go", [turn("1. Go"), finish()])
    draft = await daemon.call(
        Requests.RUNS_CREATE,
        RunCreateParams(prompt="Later", provider="scripted", model=str(script), start=False),
    )
    listed = await daemon.call(Requests.RUNS_LIST, RunListParams(status=[S.DRAFT]))
    assert draft in listed.runs
    started: Run = await daemon.call(Requests.RUNS_START, RunIdParams(run_id=draft.id))
    assert started.status in (S.QUEUED, S.RUNNING, S.COMPLETED)
    assert (await wait_finished(daemon, draft.id)).status is S.COMPLETED
