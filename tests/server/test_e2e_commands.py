"""Commands over the real daemon: ``devfactory/commands/run``, ``/list`` and ``/policy``, the
agent's run_command tool on a sample project (test events with counts in the timeline), the
sandbox in ``devfactory/health``, a policy file edited while the daemon runs, and a 100 MB
flood that leaves the daemon's memory where it was."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import pytest_lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig

from command_support import require
from devfactory.protocol._base import NoParams
from devfactory.protocol.commands import (
    CommandExecution,
    CommandList,
    CommandListParams,
    CommandPolicy,
    CommandRunParams,
    PolicyEntry,
)
from devfactory.protocol.enums import EventType, RunStatus, SandboxSource
from devfactory.protocol.events import CommandFinished, CommandOutput, decode_payload
from devfactory.protocol.events import TestCounts as Counts
from devfactory.protocol.events import TestEvent as RunnerEvent
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health
from devfactory.protocol.runs import Run
from devfactory.server.execution.blocklist import RULES
from devfactory.server.execution.defaults import DEFAULT_ENTRIES
from devfactory.server.execution.output import EVENT_BYTES
from devfactory.server.execution.sandbox import bundled_bwrap
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    replay,
    turn,
    wait_finished,
    write_script,
)
from support import (
    SERVER_COMMAND,
    DaemonClient,
    initialize_params,
    make_client,
    make_git_repo,
    trust_workspace,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "sk-e2e-never-in-output"
BASH = PolicyEntry(program="bash", args=["-c *"])
OPTIONS = {
    **RUN_OPTIONS,
    "commands": {
        "killGraceS": 0.5,
        "passEnv": ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"],
        "allow": [{"program": "bash", "args": ["-c *"]}],
    },
}
SAMPLE = {
    "calc.py": "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a * b\n",
    "tests/test_calc.py": (
        "import pytest\n\nfrom calc import add, div\n\n\n"
        "def test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_add_negative():\n    assert add(-1, 1) == 0\n\n\n"
        "def test_div():\n    assert div(6, 3) == 2\n\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n"
    ),
    "pytest.ini": "[pytest]\npythonpath = .\naddopts = -p no:cacheprovider\n",
}
TESTS = "pytest -q tests"
FLOOD_BYTES = 100_000_000


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("commands") / "sample", SAMPLE)


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(
        server_command=SERVER_COMMAND,
        client_factory=make_client,
        server_env={
            **os.environ,
            "OPENAI_API_KEY": SECRET,
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        },
    ),
)
async def daemon(lsp_client: DaemonClient, workspace: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(workspace, "neovim", OPTIONS))
    yield
    await lsp_client.shutdown_session()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tested_run(daemon: DaemonClient, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A run whose agent ran the sample project's tests through run_command."""
    script = write_script(
        tmp_path_factory.mktemp("scripts"),
        "tests",
        [turn("1. Run the tests"), turn("", call("run_command", command=TESTS)), finish()],
    )
    run = await create_run(daemon, script, prompt="Run the tests")
    done = await wait_finished(daemon, run.id, timeout=60)
    assert done.status is RunStatus.COMPLETED, done.failed_reason
    assert done.worktree_path and Path(done.worktree_path).is_dir()
    return done


async def run_command(daemon: DaemonClient, run: Run, command: str) -> CommandExecution:
    execution: CommandExecution = await daemon.call(
        Requests.COMMANDS_RUN, CommandRunParams(run_id=run.id, command=command)
    )
    return execution


async def test_the_agents_test_run_shows_test_events_with_counts(
    daemon: DaemonClient, tested_run: Run
) -> None:
    events = await replay(daemon, tested_run.id)
    commands = [e for e in events if e.type.value.startswith(("command_", "test_"))]
    kinds = [e.type for e in commands if e.type is not EventType.COMMAND_OUTPUT]
    assert kinds == [
        EventType.COMMAND_STARTED,
        EventType.TEST_STARTED,
        EventType.COMMAND_FAILED,
        EventType.TEST_FAILED,
    ]
    assert any(e.type is EventType.COMMAND_OUTPUT for e in commands)
    [execution] = (
        await daemon.call(Requests.COMMANDS_LIST, CommandListParams(run_id=tested_run.id))
    ).executions
    counts = Counts(passed=2, failed=1, errors=0, skipped=1)
    assert decode_payload(commands[-1]) == RunnerEvent(
        execution_id=execution.id, command=TESTS, framework="pytest", counts=counts
    )
    assert (execution.test_framework, execution.test_counts) == ("pytest", counts)
    assert (execution.exit_code, execution.sandboxed, execution.working_dir) == (
        1,
        True,
        os.path.realpath(tested_run.worktree_path or ""),
    )
    assert "FAILED tests/test_calc.py::test_div" in execution.output_tail
    assert execution.stdout_path and "test_div" in Path(execution.stdout_path).read_text()


async def test_a_user_command_runs_in_the_runs_worktree(daemon: DaemonClient, tested_run: Run):
    execution = await run_command(daemon, tested_run, "pytest -q tests/test_calc.py::test_add")
    assert (execution.exit_code, execution.test_counts) == (0, Counts(passed=1))
    events = await replay(daemon, tested_run.id)
    started = [e for e in events if e.payload.get("executionId") == execution.id]
    assert started[0].payload["origin"] == "user"
    assert [e.type for e in started][-1] is EventType.TEST_COMPLETED


async def test_a_refused_command_is_recorded_and_explained(daemon: DaemonClient, tested_run: Run):
    execution = await run_command(daemon, tested_run, "git push origin main")
    assert (execution.was_blocked, execution.exit_code, execution.args) == (True, None, [])
    assert execution.block_reason == (
        "`git push` sends work to a remote. " + RULES["git_remote"].reason
    )
    [event] = [
        e
        for e in await replay(daemon, tested_run.id)
        if e.payload.get("executionId") == execution.id
    ]
    assert decode_payload(event) == CommandFinished(
        execution_id=execution.id,
        command="git push origin main",
        was_blocked=True,
        block_reason=execution.block_reason,
    )


async def test_commands_never_see_the_daemons_secrets(daemon: DaemonClient, tested_run: Run):
    execution = await run_command(daemon, tested_run, "bash -c env")
    assert execution.exit_code == 0
    assert "PATH=" in execution.output_tail
    assert SECRET not in execution.output_tail
    assert SECRET not in Path(execution.stdout_path or "").read_text()


async def test_list_returns_every_execution_of_the_run(daemon: DaemonClient, tested_run: Run):
    listed: CommandList = await daemon.call(
        Requests.COMMANDS_LIST, CommandListParams(run_id=tested_run.id)
    )
    assert [e.command for e in listed.executions][:3] == [
        TESTS,
        "pytest -q tests/test_calc.py::test_add",
        "git push origin main",
    ]
    assert all(e.run_id == tested_run.id for e in listed.executions)


async def test_the_effective_policy_and_the_health_report_agree(daemon: DaemonClient):
    policy: CommandPolicy = await daemon.call(Requests.COMMANDS_POLICY, NoParams())
    health: Health = await daemon.call(Requests.HEALTH)
    assert policy.source == "settings"
    assert policy.entries == [BASH, *DEFAULT_ENTRIES]
    assert policy.blocked == list(RULES.values())
    assert (policy.default_timeout_s, policy.kill_grace_s, policy.problems) == (300.0, 0.5, [])
    assert policy.sandbox_active == health.sandbox.active
    if sys.platform == "linux":
        require("the command sandbox", None if health.sandbox.active else health.sandbox.reason)
        system = shutil.which("bwrap")
        assert (health.sandbox.tool, health.sandbox.source) == (
            (system, SandboxSource.SYSTEM) if system else (bundled_bwrap(), SandboxSource.BUNDLED)
        )
        assert health.sandbox.version


async def test_bad_requests_name_the_field(daemon: DaemonClient, tested_run: Run) -> None:
    with pytest.raises(JsonRpcInvalidParams, match="command is empty"):
        await run_command(daemon, tested_run, "  ")
    with pytest.raises(JsonRpcInvalidParams, match="timeoutS must be a positive number"):
        await daemon.call(
            Requests.COMMANDS_RUN,
            CommandRunParams(run_id=tested_run.id, command="ls", timeout_s=-1),
        )
    with pytest.raises(JsonRpcException, match="run 999 does not exist"):
        await daemon.call(Requests.COMMANDS_LIST, CommandListParams(run_id=999))
    draft = await create_run(daemon, "unused.json", start=False)
    with pytest.raises(JsonRpcException, match=f"run {draft.id} has no worktree yet"):
        await run_command(daemon, draft, "ls")


async def test_an_invalid_policy_file_stops_commands_until_it_is_fixed(
    daemon: DaemonClient, tested_run: Run, workspace: Path
) -> None:
    policy_file = workspace / ".devfactory" / "commands.toml"
    policy_file.write_text("[[allow]]\nprogram = 'make'\ntimeout_s = 'soon'\n")
    trust_workspace(workspace)  # the user's own policy file
    try:
        policy: CommandPolicy = await daemon.call(Requests.COMMANDS_POLICY, NoParams())
        assert (policy.source, policy.entries) == (str(policy_file), [])
        assert policy.problems == [
            f"{policy_file}: Expected `float | null`, got `str` - at `allow[0].timeout_s`"
        ]
        refused = await run_command(daemon, tested_run, "git status")
        assert refused.was_blocked
        assert refused.block_reason == (
            f"no command runs until the command policy is fixed: {policy.problems[0]}"
        )
    finally:
        policy_file.unlink()
    assert (await run_command(daemon, tested_run, "git status")).exit_code == 0


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
async def test_a_100_mb_flood_leaves_the_daemons_memory_where_it_was(
    daemon: DaemonClient, tested_run: Run
) -> None:
    assert daemon._server is not None
    pid = daemon._server.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM) to now
    before = memory_kib(pid, "VmRSS")
    line = "0123456789abcdef" * 4
    execution = await run_command(
        daemon, tested_run, f"bash -c 'yes {line} | head -c {FLOOD_BYTES}'"
    )
    peak = memory_kib(pid, "VmHWM")
    assert execution.exit_code == 0
    assert Path(execution.stdout_path or "").stat().st_size == FLOOD_BYTES
    assert peak - before < 32 * 1024, f"the daemon grew by {peak - before} KiB"
    events = await replay(daemon, tested_run.id)
    outputs = [
        decode_payload(e)
        for e in events
        if e.type is EventType.COMMAND_OUTPUT and e.payload.get("executionId") == execution.id
    ]
    [finished] = [
        decode_payload(e)
        for e in events
        if e.type is EventType.COMMAND_COMPLETED and e.payload.get("executionId") == execution.id
    ]
    assert isinstance(finished, CommandFinished) and finished.duration_ms is not None
    ticks = finished.duration_ms / 500 + 2  # one poll every 0.5 s, plus the final flush
    assert 1 <= len(outputs) <= 2 * ticks
    assert all(
        isinstance(p, CommandOutput) and len(p.text.encode()) <= EVENT_BYTES for p in outputs
    )
