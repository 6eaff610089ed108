"""``claude_code`` and ``local_shell``: real subprocesses (a fake ``claude`` on PATH, a fake
aider), output streamed as it comes, sessions resumed, and cancel or timeout leaving no
process of the group alive."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from devfactory.protocol.settings import ProviderSettings, Settings
from devfactory.server.agents.providers.base import (
    AutonomousProvider,
    AutonomousResult,
    AutonomousTask,
    ProviderError,
    Usage,
)
from devfactory.server.agents.providers.registry import create_provider
from devfactory.storage import Store
from fakes.claude_cli import SUCCESS_COST
from fakes.shell_agent import shell_agent_command

pytest_plugins = ["fakes.fixtures"]


class Recorder:
    """Collects what a provider reports, in order."""

    def __init__(self) -> None:
        self.output: list[tuple[str, str]] = []
        self.messages: list[str] = []

    async def on_output(self, stream: str, text: str) -> None:
        self.output.append((stream, text))

    async def on_message(self, text: str) -> None:
        self.messages.append(text)

    def lines(self, stream: str) -> list[str]:
        return [text for name, text in self.output if name == stream]


def provider_for(
    name: str, config: ProviderSettings, store: Store, model: str | None = None
) -> AutonomousProvider:
    settings = Settings(providers={name: config})
    provider = create_provider(name, settings, model=model, workspace=Path("."), store=store)
    assert isinstance(provider, AutonomousProvider)
    return provider


async def run(
    provider: AutonomousProvider, task: AutonomousTask, cancel: asyncio.Event | None = None
) -> tuple[AutonomousResult, Recorder]:
    recorder = Recorder()
    result = await provider.run_task(
        task, recorder.on_output, recorder.on_message, cancel or asyncio.Event()
    )
    return result, recorder


def is_alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def cancel_mid_run(
    provider: AutonomousProvider, task: AutonomousTask, pid_file: Path
) -> list[int]:
    """Start the task, wait until its process and grandchild run, cancel; their pids."""
    cancel = asyncio.Event()
    running = asyncio.create_task(run(provider, task, cancel))
    await until(lambda: pid_file.exists() and len(pid_file.read_text().split()) == 2)
    pids = [int(pid) for pid in pid_file.read_text().split()]
    assert all(is_alive(pid) for pid in pids)
    cancel.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    return pids


# -- claude_code ---------------------------------------------------------------------------


async def test_claude_code_streams_messages_and_output_and_keeps_the_session(
    fake_claude: Path, tmp_path: Path, accounts_store: Store
) -> None:
    provider = provider_for("claude_code", ProviderSettings(), accounts_store, model="opus")
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    result, seen = await run(
        provider, AutonomousTask(run_id=1, prompt="Add CLAUDE.txt", worktree=worktree)
    )
    assert result == AutonomousResult(
        summary="Wrote CLAUDE.txt.",
        session_id="sess-new",
        usage=Usage(input_tokens=200, output_tokens=45, cost_usd=SUCCESS_COST),
        exit_code=0,
    )
    assert seen.messages == ["I'll write CLAUDE.txt."]
    assert seen.lines("stdout") == [
        "claude session sess-new (opus)",
        'Write {"file_path": "CLAUDE.txt"}',
        "  result: File written",
        "progress: not json",
    ]
    assert seen.lines("stderr") == ["wrote 1 file"]
    assert (worktree / "CLAUDE.txt").read_text() == "Add CLAUDE.txt"


async def test_claude_code_resumes_a_session_with_the_configured_arguments(
    fake_claude: Path, tmp_path: Path, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv_log = tmp_path / "argv.jsonl"
    monkeypatch.setenv("FAKE_CLAUDE_ARGV", str(argv_log))
    config = ProviderSettings(command=["--max-turns", "5"])
    provider = provider_for("claude_code", config, accounts_store)
    task = AutonomousTask(
        run_id=1, prompt="Go on", worktree=tmp_path, model="sonnet", resume_session_id="sess-old"
    )
    result, _ = await run(provider, task)
    assert result.session_id == "sess-old"
    assert json.loads(argv_log.read_text()) == [
        "-p",
        "Go on",
        "--output-format",
        "stream-json",
        "--verbose",
        "--model",
        "sonnet",
        "--resume",
        "sess-old",
        "--max-turns",
        "5",
    ]


async def test_claude_code_reports_an_error_result_as_a_failed_exit(
    fake_claude: Path, tmp_path: Path, accounts_store: Store
) -> None:
    provider = provider_for("claude_code", ProviderSettings(), accounts_store)
    result, _ = await run(
        provider, AutonomousTask(run_id=1, prompt="[fake:error]", worktree=tmp_path)
    )
    assert result == AutonomousResult(
        summary="claude stopped: error_max_turns", session_id="sess-new", exit_code=1
    )


async def test_claude_code_keys_rotate_per_task_and_never_show(
    fake_claude: Path, tmp_path: Path, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"CLAUDE_KEY_A": "sk-ant-test-aaaaaaaaaa", "CLAUDE_KEY_B": "sk-ant-test-bbbbbbbbbb"}
    for name, key in keys.items():
        monkeypatch.setenv(name, key)
    provider = provider_for("claude_code", ProviderSettings(api_key_env=list(keys)), accounts_store)
    task = AutonomousTask(run_id=1, prompt="Go", worktree=tmp_path)
    shown = []
    for _ in range(2):
        _, seen = await run(provider, task)
        shown += [line for line in seen.lines("stderr") if line.startswith("using")]
        await asyncio.sleep(0.002)  # last_used_at has millisecond resolution
    assert shown == [
        "using ANTHROPIC_API_KEY=[redacted $CLAUDE_KEY_A]",
        "using ANTHROPIC_API_KEY=[redacted $CLAUDE_KEY_B]",
    ]


async def test_cancelling_claude_code_kills_its_whole_process_group(
    fake_claude: Path, tmp_path: Path, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pids"
    monkeypatch.setenv("FAKE_CLAUDE_PIDS", str(pid_file))
    provider = provider_for("claude_code", ProviderSettings(), accounts_store)
    task = AutonomousTask(run_id=1, prompt="[fake:hang]", worktree=tmp_path)
    pids = await cancel_mid_run(provider, task, pid_file)
    await until(lambda: not any(is_alive(pid) for pid in pids))


async def test_cancelling_the_awaiting_task_kills_the_group_too(
    fake_claude: Path, tmp_path: Path, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run controller cancels the worker task rather than setting ``cancel``."""
    pid_file = tmp_path / "pids"
    monkeypatch.setenv("FAKE_CLAUDE_PIDS", str(pid_file))
    provider = provider_for("claude_code", ProviderSettings(), accounts_store)
    task = AutonomousTask(run_id=1, prompt="[fake:hang]", worktree=tmp_path)
    running = asyncio.create_task(run(provider, task))
    await until(lambda: pid_file.exists() and len(pid_file.read_text().split()) == 2)
    pids = [int(pid) for pid in pid_file.read_text().split()]
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await until(lambda: not any(is_alive(pid) for pid in pids))


# -- local_shell ---------------------------------------------------------------------------


async def test_local_shell_runs_the_template_in_the_worktree(
    tmp_path: Path, accounts_store: Store
) -> None:
    command = shell_agent_command("--message", "{prompt}", "--model", "{model}")
    provider = provider_for("local_shell", ProviderSettings(command=command), accounts_store)
    prompt = "Fix \"add\" in $HOME's `calc.py`; don't touch *.md"
    result, seen = await run(
        provider, AutonomousTask(run_id=1, prompt=prompt, worktree=tmp_path, model="qwen-coder")
    )
    assert (tmp_path / "AGENT.txt").read_text() == prompt  # no shell: reaches it verbatim
    assert seen.lines("stdout") == ["model: qwen-coder", "Applied edit to AGENT.txt"]
    assert seen.lines("stderr") == ["warning: fake agent"]
    assert seen.messages == []
    # The summary ends with the last lines of both streams (their interleaving is the OS's).
    header, *tail = result.summary.splitlines()
    assert header == f"{command[0]} exited with code 0; last output:"
    assert sorted(tail) == ["Applied edit to AGENT.txt", "model: qwen-coder", "warning: fake agent"]
    assert result == AutonomousResult(summary=result.summary, exit_code=0)


async def test_local_shell_reports_a_failing_exit_code(
    tmp_path: Path, accounts_store: Store
) -> None:
    command = shell_agent_command("--message", "{prompt}", "--exit", "3")
    provider = provider_for("local_shell", ProviderSettings(command=command), accounts_store)
    result, _ = await run(provider, AutonomousTask(run_id=1, prompt="x", worktree=tmp_path))
    assert result.exit_code == 3


async def test_cancelling_local_shell_kills_its_whole_process_group(
    tmp_path: Path, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pids"
    monkeypatch.setenv("FAKE_AGENT_PIDS", str(pid_file))
    command = shell_agent_command("--hang")
    provider = provider_for("local_shell", ProviderSettings(command=command), accounts_store)
    pids = await cancel_mid_run(
        provider, AutonomousTask(run_id=1, prompt="x", worktree=tmp_path), pid_file
    )
    await until(lambda: not any(is_alive(pid) for pid in pids))


async def test_a_timeout_names_the_setting_and_kills_the_group(
    tmp_path: Path, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pids"
    monkeypatch.setenv("FAKE_AGENT_PIDS", str(pid_file))
    config = ProviderSettings(command=shell_agent_command("--hang"), timeout_s=1.0)
    provider = provider_for("local_shell", config, accounts_store)
    with pytest.raises(ProviderError, match=r"providers\.local_shell\.timeoutS"):
        await run(provider, AutonomousTask(run_id=1, prompt="x", worktree=tmp_path))
    pids = [int(pid) for pid in pid_file.read_text().split()]
    await until(lambda: not any(is_alive(pid) for pid in pids))


async def test_output_survives_a_line_longer_than_the_pipe_buffer(
    tmp_path: Path, accounts_store: Store
) -> None:
    script = "import sys; sys.stdout.write('x' * 300000 + '\\nend\\n')"
    command = [shell_agent_command()[0], "-c", script, "{prompt}"]
    provider = provider_for("local_shell", ProviderSettings(command=command), accounts_store)
    _, seen = await run(provider, AutonomousTask(run_id=1, prompt="x", worktree=tmp_path))
    assert [len(line) for line in seen.lines("stdout")] == [300000, 3]
