"""The executor under abuse: timeouts, SIGTERM ignored, fork bombs, escaping children,
cancellation, output floods, binary output. No process may survive its command, and nothing
outside the worktree may change."""

from __future__ import annotations

import asyncio
import secrets
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
import pytest_asyncio

from command_support import (
    UNSANDBOXED_DETAIL,
    Harness,
    close_harness,
    open_harness,
    outside_state,
    processes_with,
    require_process_limit,
    require_sandbox,
)
from devfactory.protocol.commands import PolicyEntry
from devfactory.protocol.enums import EventType, OutputStream, Severity
from devfactory.protocol.events import CommandOutput, ErrorPayload, decode_payload
from devfactory.protocol.settings import CommandSettings
from devfactory.server.execution.output import EVENT_BYTES, READ_BYTES
from devfactory.server.execution.runner import STOPPED_WITH_RUN
from devfactory.server.execution.service import CommandService

pytestmark = pytest.mark.asyncio(loop_scope="module")

ENTRIES = [
    PolicyEntry(program="bash", args=["-c *"]),
    PolicyEntry(program="python3", args=["-c *"]),
]
SANDBOXED = CommandSettings(kill_grace_s=0.5, max_processes=64, allow=ENTRIES)
UNSANDBOXED = msgspec.structs.replace(SANDBOXED, sandbox=False, allow_unsandboxed=True)
"""The user's opt-in: without it, these commands (not read-only) would be refused."""
FLOOD_BYTES = 100_000_000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path_factory.mktemp("processes"), {"README.md": "# sample\n"})
    yield h
    await close_harness(h)


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sandboxed", "sandboxed without cgroup", "unsandboxed", "bare"],
)
async def service(harness: Harness, request: pytest.FixtureRequest) -> CommandService:
    """In bubblewrap, with a pids cgroup (root) and without one (an ordinary user); without
    bubblewrap; and without it or a pids cgroup. Without a cgroup the process group and the
    marker sweep alone must find every process, in the sandbox's pid namespace too."""
    if request.param.startswith("sandboxed"):
        service = harness.service(SANDBOXED, use_cgroups=request.param == "sandboxed")
        await require_sandbox(service)
        return service
    return harness.service(UNSANDBOXED, use_cgroups=request.param == "unsandboxed")


def token() -> str:
    return f"dfx{secrets.token_hex(4)}"


def sleeper(tok: str) -> str:
    """A process whose command line carries ``tok`` (a shell may exec away its own)."""
    return f'python3 -c \\"import time; time.sleep(300)\\" {tok}'


KILLED = {
    "sleep with a background child": "bash -c 'sleep 300 & sleep 300 #{tok}'",
    "SIGTERM ignored by the shell and its child": "bash -c 'trap \"\" TERM; sleep 300 #{tok}'",
    "SIGTERM ignored in python": (
        'python3 -c "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);'
        ' time.sleep(300)" {tok}'
    ),
    "a child that leaves the process group": (
        "bash -c 'setsid python3 -c \"import time; time.sleep(300)\" {tok} & sleep 300 #{tok}'"
    ),
    "grandchildren three levels deep": (
        'bash -c \'bash -c "bash -c \\"sleep 300 #{tok}\\" & sleep 300 #{tok}" & wait #{tok}\''
    ),
}


@pytest.mark.parametrize("command", KILLED.values(), ids=KILLED.keys())
async def test_the_timeout_kills_everything_the_command_started(
    command: str, harness: Harness, service: CommandService
) -> None:
    tok = token()
    before = outside_state(harness, tok)
    outcome = await service.execute(harness.run, command.format(tok=tok), timeout_s=1.0)
    execution = outcome.execution
    assert execution.was_killed and not execution.was_blocked
    assert "stopped (timed out after 1s)" in outcome.tool_result
    assert processes_with(tok) == []
    assert outside_state(harness, tok) == before


async def test_a_fork_bomb_is_contained_and_killed(harness: Harness, service: CommandService):
    if not service.use_cgroups:
        pytest.skip("this service has no pids cgroup by design: a fork bomb would run free")
    await require_process_limit(service)  # without one, a real fork bomb exhausts the machine
    tok = token()
    # The classic bomb, then a busy loop that keeps the command alive until its timeout.
    bomb = f"bash -c ':(){{ :|:& }};:; while :; do :; done #{tok}'"
    outcome = await service.execute(harness.run, bomb, timeout_s=2)
    assert outcome.execution.was_killed, outcome.tool_result
    assert "fork: retry: Resource temporarily unavailable" in outcome.tool_result
    assert processes_with(tok) == []


async def test_a_command_that_exits_leaves_no_background_process(
    harness: Harness, service: CommandService
) -> None:
    tok = token()
    outcome = await service.execute(
        harness.run, f"bash -c 'python3 -c \"import time; time.sleep(300)\" {tok} & echo started'"
    )
    assert outcome.ok and not outcome.execution.was_killed, outcome.tool_result
    assert "started" in outcome.tool_result
    assert processes_with(tok) == []


async def test_cancelling_the_caller_kills_the_command_and_records_it(
    harness: Harness, service: CommandService
) -> None:
    tok = token()
    command = f'bash -c "{sleeper(tok)} & {sleeper(tok)}"'
    task = asyncio.create_task(service.execute(harness.run, command, timeout_s=60))
    while len(processes_with(tok)) < 2:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert processes_with(tok) == []
    [execution] = [e for e in await service.list(harness.run.id) if e.command == command]
    assert (execution.was_killed, execution.finished_at is not None) == (True, True)
    [failed] = [
        e
        for e in harness.events_of(execution.id)
        if e.type is EventType.COMMAND_FAILED and e.message == "cancelled"
    ]
    assert failed.title.startswith("Stopped (cancelled)")


async def test_kill_run_stops_the_runs_commands(harness: Harness, service: CommandService):
    tok = token()
    task = asyncio.create_task(service.execute(harness.run, f'bash -c "{sleeper(tok)}"'))
    while not processes_with(tok):
        await asyncio.sleep(0.02)
    assert await service.kill_run(harness.run.id) == 1
    outcome = await task
    assert outcome.execution.was_killed
    assert "stopped" in outcome.tool_result
    assert processes_with(tok) == []


async def test_a_stop_between_the_request_and_the_call_ends_the_command(
    harness: Harness, service: CommandService
):
    """The user's Stop reached the daemon after the command's request but ran first (each
    reads the run from the database first): the command still never runs on."""
    tok = token()
    stops = service.stops(harness.run.id)  # the request arrives
    assert await service.kill_run(harness.run.id) == 0  # the Stop, with nothing running yet
    outcome = await service.execute(
        harness.run, f'bash -c "{sleeper(tok)}"', timeout_s=30, stops_seen=stops
    )
    assert outcome.execution.was_killed and outcome.execution.finished_at is not None
    assert STOPPED_WITH_RUN in outcome.tool_result, outcome.tool_result
    assert processes_with(tok) == []


async def test_a_flood_past_the_output_limit_is_stopped(harness: Harness) -> None:
    service = harness.service(msgspec.structs.replace(SANDBOXED, max_output_mb=1))
    tok = token()
    outcome = await service.execute(harness.run, f"bash -c 'yes {tok}'", timeout_s=30)
    assert outcome.execution.was_killed
    assert "stopped (output exceeded 1 MB)" in outcome.tool_result
    assert processes_with(tok) == []


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandboxed", "unsandboxed"])
async def test_the_output_cap_holds_while_the_command_floods(
    harness: Harness, sandbox: bool
) -> None:
    """`cat /dev/zero` writes gigabytes a second, on both streams here: the files never hold
    more than the cap (plus one read), and the command is stopped at once."""
    settings = msgspec.structs.replace(
        SANDBOXED, max_output_mb=1, sandbox=sandbox, allow_unsandboxed=True
    )
    service = harness.service(settings)
    if sandbox:
        await require_sandbox(service)
    tok = token()
    outcome = await service.execute(
        harness.run, f"bash -c 'cat /dev/zero >&2 & cat /dev/zero #{tok}'", timeout_s=60
    )
    execution = outcome.execution
    assert execution.was_killed
    assert "stopped (output exceeded 1 MB)" in outcome.tool_result
    sizes = [Path(p or "").stat().st_size for p in (execution.stdout_path, execution.stderr_path)]
    assert sum(sizes) <= 1024 * 1024 + READ_BYTES, sizes
    assert processes_with(tok) == []


async def test_100_mb_of_output_goes_to_disk_not_to_memory(
    harness: Harness, service: CommandService
) -> None:
    line = "0123456789abcdef" * 4
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        outcome = await service.execute(
            harness.run, f"bash -c 'yes {line} | head -c {FLOOD_BYTES}'", timeout_s=120
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.ok, outcome.tool_result
    execution = outcome.execution
    assert execution.stdout_path is not None
    assert Path(execution.stdout_path).stat().st_size == FLOOD_BYTES
    assert peak < 4 * 1024 * 1024, f"the daemon allocated {peak} bytes for a 100 MB flood"
    outputs = [
        decode_payload(e)
        for e in harness.events_of(execution.id)
        if e.type is EventType.COMMAND_OUTPUT
    ]
    assert outputs and all(isinstance(p, CommandOutput) for p in outputs)
    assert all(len(p.text.encode()) <= EVENT_BYTES for p in outputs)  # type: ignore[attr-defined]
    assert any(p.truncated for p in outputs)  # type: ignore[attr-defined]
    assert len(outcome.tool_result) < 8000
    assert f"output (the end of {FLOOD_BYTES} bytes):\n" in outcome.tool_result
    assert f"\n{line}\n" in outcome.tool_result


async def test_binary_and_invalid_utf8_output_stay_readable(
    harness: Harness, service: CommandService
) -> None:
    binary = await service.execute(harness.run, "bash -c 'head -c 200000 /dev/urandom'")
    assert binary.ok
    assert "[binary output" in binary.tool_result
    assert "\x00" not in binary.execution.output_tail
    mixed = await service.execute(
        harness.run, "bash -c 'printf \"caf\\xc3\\xa9 \\xff\\xfe ok\\n\\033[31mred\\033[0m\\n\"'"
    )
    assert mixed.ok
    assert "café \ufffd\ufffd ok\nred" in mixed.tool_result
    texts = [
        decode_payload(e).text  # type: ignore[attr-defined]
        for e in harness.events_of(mixed.execution.id)
        if e.type is EventType.COMMAND_OUTPUT
    ]
    assert "".join(texts) == "café \ufffd\ufffd ok\nred\n"
    stdout = [
        e for e in harness.events_of(mixed.execution.id) if e.type is EventType.COMMAND_OUTPUT
    ]
    assert {decode_payload(e).stream for e in stdout} == {OutputStream.STDOUT}  # type: ignore[attr-defined]


async def test_without_the_sandbox_a_warning_is_emitted_once_per_run(harness: Harness) -> None:
    service = harness.service(UNSANDBOXED)
    run = await harness.another_run()
    for _ in range(2):
        outcome = await service.execute(run, "git status --short")
        assert outcome.ok and not outcome.execution.sandboxed
    warnings = [e for e in harness.events if e.run_id == run.id and e.type is EventType.ERROR]
    assert len(warnings) == 1
    assert warnings[0].severity is Severity.WARNING
    assert decode_payload(warnings[0]) == ErrorPayload(
        message="disabled by the commands.sandbox setting",
        detail=UNSANDBOXED_DETAIL,
    )


async def test_a_missing_program_fails_with_a_clear_message(harness: Harness) -> None:
    settings = msgspec.structs.replace(
        SANDBOXED, allow=[PolicyEntry(program="devfactory-no-such-tool")]
    )
    for sandbox in (True, False):
        service = harness.service(
            msgspec.structs.replace(settings, sandbox=sandbox, allow_unsandboxed=True)
        )
        outcome = await service.execute(harness.run, "devfactory-no-such-tool --version")
        assert outcome.execution.exit_code not in (0, None)
        assert "No such file" in outcome.tool_result or "not found" in outcome.tool_result
