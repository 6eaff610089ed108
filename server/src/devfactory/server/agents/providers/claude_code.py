"""``claude_code``: the Claude Code CLI working by itself in the run's worktree.

It runs ``claude -p <prompt> --output-format stream-json --verbose`` (plus ``--model`` and,
for a retry, ``--resume <session id>``), one JSON object per line:

* ``{"type": "system", "subtype": "init", "session_id": ...}`` opens the session;
* ``{"type": "assistant", "message": {"content": [text | tool_use blocks]}}``: the text is a
  complete assistant message (``on_message``), each tool use an output line;
* ``{"type": "user", "message": {"content": [tool_result blocks]}}``: tool results, as lines;
* ``{"type": "result", "result": ..., "usage": ..., "total_cost_usd": ...}`` ends the run.

Anything else it prints (and all of stderr) goes to ``on_output`` as is. The session id is
kept in the result so a retry can resume the conversation. ``providers.claude_code.command``
holds extra CLI arguments (default: ``--permission-mode acceptEdits``, so edits in the
isolated worktree need no prompt while shell commands stay refused); with ``apiKeyEnv`` set,
the keys rotate across tasks as ``ANTHROPIC_API_KEY``, otherwise the CLI's own login is used.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from typing import Any

from devfactory.protocol.settings import ProviderSettings

from .accounts import Account, AccountPool
from .base import AutonomousResult, AutonomousTask, MessageCallback, OutputCallback, Usage
from .process import run_process
from .redaction import redact
from .request import Provider, ProviderRequest

DEFAULT_EXTRA_ARGS = ["--permission-mode", "acceptEdits"]
LINE_PREVIEW = 400
"""Tool inputs and results are shown up to this many characters (the worktree has the rest)."""


class ClaudeCodeProvider:
    """An AutonomousProvider driving the ``claude`` CLI."""

    resumes_sessions = True
    """A follow-up resumes the CLI's own session (``--resume``): it gets only the new message."""

    def __init__(
        self,
        *,
        executable: str,
        model: str | None,
        settings: ProviderSettings,
        pool: AccountPool,
        name: str = "claude_code",
    ) -> None:
        self.name = name
        self.model = model
        self._executable = executable
        self._settings = settings
        self._pool = pool

    def argv(self, task: AutonomousTask) -> list[str]:
        argv = [self._executable, "-p", task.prompt, "--output-format", "stream-json", "--verbose"]
        if model := task.model or self.model:
            argv += ["--model", model]
        if task.resume_session_id:
            argv += ["--resume", task.resume_session_id]
        return argv + (list(self._settings.command) or DEFAULT_EXTRA_ARGS)

    async def run_task(
        self,
        task: AutonomousTask,
        on_output: OutputCallback,
        on_message: MessageCallback,
        cancel: asyncio.Event,
    ) -> AutonomousResult:
        async def attempt(account: Account) -> AutonomousResult:
            env = dict(os.environ)
            if account.key:
                env["ANTHROPIC_API_KEY"] = account.key
            stream = ClaudeStream(on_output, on_message, resumed=task.resume_session_id)
            exit_code = await run_process(
                self.argv(task),
                cwd=task.worktree,
                env=env,
                on_line=stream.feed,
                cancel=cancel,
                timeout_s=self._settings.timeout_s,
                label=f"{self.name} (providers.{self.name}.timeoutS)",
            )
            return stream.result(exit_code)

        return await self._pool.run(attempt)


class ClaudeStream:
    """Reads claude's stream-json lines: forwards output, keeps session, summary and usage."""

    def __init__(
        self, on_output: OutputCallback, on_message: MessageCallback, resumed: str | None
    ) -> None:
        self._on_output = on_output
        self._on_message = on_message
        self.session_id = resumed
        self.summary: str | None = None
        self.is_error = False
        self.usage = Usage()
        self._stderr_tail: deque[str] = deque(maxlen=10)

    async def feed(self, stream: str, line: str) -> None:
        line = redact(line)
        if stream == "stderr":
            self._stderr_tail.append(line)
            await self._on_output("stderr", line)
            return
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await self._on_output("stdout", line)
            return
        self.session_id = data.get("session_id") or self.session_id
        kind = data.get("type")
        if kind == "system" and data.get("subtype") == "init":
            model = data.get("model") or "default model"
            await self._on_output("stdout", f"claude session {self.session_id} ({model})")
        elif kind == "assistant":
            await self._assistant(_content(data))
        elif kind == "user":
            for block in _content(data):
                if block.get("type") == "tool_result":
                    label = "error" if block.get("is_error") else "result"
                    await self._on_output("stdout", f"  {label}: {_preview(block.get('content'))}")
        elif kind == "result":
            self._result(data)

    async def _assistant(self, blocks: list[dict[str, Any]]) -> None:
        texts = [b["text"] for b in blocks if b.get("type") == "text" and b.get("text")]
        if texts:
            await self._on_message("\n".join(texts))
        for block in blocks:
            if block.get("type") == "tool_use":
                tool_input = _preview(block.get("input"))
                await self._on_output("stdout", f"{block.get('name')} {tool_input}")

    def _result(self, data: dict[str, Any]) -> None:
        self.is_error = bool(data.get("is_error"))
        text = data.get("result")
        subtype = data.get("subtype") or "error"
        if isinstance(text, str) and text:
            self.summary = text
        elif self.is_error:
            self.summary = f"claude stopped: {subtype}"
        usage = data.get("usage") or {}
        cost = data.get("total_cost_usd", data.get("cost_usd"))
        self.usage = Usage(
            input_tokens=sum(
                int(usage.get(field) or 0)
                for field in (
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            ),
            output_tokens=int(usage.get("output_tokens") or 0),
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
        )

    def result(self, exit_code: int) -> AutonomousResult:
        """The run's outcome; a reported error turns a zero exit code into 1."""
        if self.summary is None:
            tail = "\n".join(self._stderr_tail)
            summary = f"claude exited with code {exit_code} without a result"
            return AutonomousResult(
                summary=f"{summary}:\n{tail}" if tail else summary,
                session_id=self.session_id,
                usage=self.usage,
                exit_code=exit_code or 1,
            )
        return AutonomousResult(
            summary=self.summary,
            session_id=self.session_id,
            usage=self.usage,
            exit_code=(exit_code or 1) if self.is_error else exit_code,
        )


def _content(data: dict[str, Any]) -> list[dict[str, Any]]:
    message = data.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content or [] if isinstance(block, dict)]


def _preview(value: Any) -> str:
    """One line, at most LINE_PREVIEW characters, of a tool input or result."""
    if isinstance(value, list):  # tool_result content blocks
        value = " ".join(str(b.get("text", "")) for b in value if isinstance(b, dict))
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= LINE_PREVIEW else text[: LINE_PREVIEW - 1] + "…"


def build(request: ProviderRequest) -> Provider:
    executable = request.executable(request.config.executable or "claude", "executable")
    return ClaudeCodeProvider(
        executable=executable,
        model=request.model,
        settings=request.config,
        pool=request.pool(keyless=True),
    )
