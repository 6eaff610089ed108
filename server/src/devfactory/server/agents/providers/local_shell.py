"""``local_shell``: any command-line coding agent (aider, a script...) run in the worktree.

``providers.local_shell.command`` is an argv template: ``{prompt}`` and ``{model}`` are
replaced inside each element, and no shell is involved, so a prompt full of quotes and
``$`` reaches the program unchanged. Every output line streams through ``on_output``; what
the program changed in the worktree is the run's result (the controller proposes the diff),
and the summary is the exit code with the last lines it printed.
"""

from __future__ import annotations

import asyncio
from collections import deque

from devfactory.protocol.settings import ProviderSettings

from .base import (
    AutonomousResult,
    AutonomousTask,
    MessageCallback,
    OutputCallback,
    ProviderUnavailable,
)
from .process import run_process
from .redaction import redact
from .request import Provider, ProviderRequest

SUMMARY_LINES = 15


class LocalShellProvider:
    """An AutonomousProvider running a configured command template."""

    def __init__(
        self,
        *,
        command: list[str],
        model: str | None,
        settings: ProviderSettings,
        name: str = "local_shell",
    ) -> None:
        self.name = name
        self.model = model
        self._command = command
        self._settings = settings

    def argv(self, task: AutonomousTask) -> list[str]:
        model = task.model or self.model
        if model is None and any("{model}" in part for part in self._command):
            raise ProviderUnavailable(
                f"{self.name}: the command uses {{model}} but no model is set; set "
                f"providers.{self.name}.model or pass --model"
            )
        return [
            part.replace("{prompt}", task.prompt).replace("{model}", model or "")
            for part in self._command
        ]

    async def run_task(
        self,
        task: AutonomousTask,
        on_output: OutputCallback,
        on_message: MessageCallback,
        cancel: asyncio.Event,
    ) -> AutonomousResult:
        argv = self.argv(task)
        tail: deque[str] = deque(maxlen=SUMMARY_LINES)

        async def forward(stream: str, line: str) -> None:
            line = redact(line)
            if line.strip():
                tail.append(line)
            await on_output(stream, line)

        exit_code = await run_process(
            argv,
            cwd=task.worktree,
            on_line=forward,
            cancel=cancel,
            timeout_s=self._settings.timeout_s,
            label=f"{self.name} (providers.{self.name}.timeoutS)",
        )
        summary = f"{argv[0]} exited with code {exit_code}"
        return AutonomousResult(
            summary="\n".join([f"{summary}; last output:", *tail]) if tail else summary,
            exit_code=exit_code,
        )


def build(request: ProviderRequest) -> Provider:
    command = list(request.config.command)
    if not command:
        raise ProviderUnavailable(
            "local_shell: no command configured; set providers.local_shell.command to an argv "
            'template such as ["aider", "--yes", "--message", "{prompt}"]'
        )
    command[0] = request.executable(command[0], "command")
    return LocalShellProvider(command=command, model=request.model, settings=request.config)
