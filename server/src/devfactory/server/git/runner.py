"""Run git as a subprocess, with a clear error for the usual failures and an audit trail.

Every invocation can be recorded (args, outputs, exit code, duration) through the
``on_finished`` callback, which the daemon points at the ``git_operations`` table.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitResult:
    args: list[str]
    exit_code: int
    stdout_bytes: bytes
    stderr: str
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace")


AuditHook = Callable[[str, GitResult, int | None], Awaitable[None]]


class GitError(RuntimeError):
    """A git command failed; the message says what to do about it."""

    def __init__(self, result: GitResult, cwd: Path) -> None:
        self.result = result
        super().__init__(explain_git_failure(result, cwd))


def explain_git_failure(result: GitResult, cwd: Path) -> str:
    """Turn git's stderr into an actionable message."""
    stderr = result.stderr.strip()
    command = "git " + " ".join(result.args)
    if "dubious ownership" in stderr:
        return (
            f"git refuses to work in {cwd}: the repository is owned by another user "
            '("dubious ownership"). If you trust it, run: '
            f"git config --global --add safe.directory {cwd}"
        )
    if "not a git repository" in stderr:
        return f"{cwd} is not inside a git repository ({command})"
    return f"{command} failed with exit code {result.exit_code}: {stderr or result.stdout.strip()}"


_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for credentials on a closed stdin
    "GIT_OPTIONAL_LOCKS": "0",  # status/diff must not take the user's index lock
    "LC_ALL": "C",
}


class GitRunner:
    """Runs git commands in one directory (a workspace or a run's worktree)."""

    def __init__(self, cwd: Path, on_finished: AuditHook | None = None) -> None:
        self.cwd = cwd
        self.on_finished = on_finished

    async def run(
        self,
        *args: str,
        operation: str | None = None,
        run_id: int | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        audit: bool = True,
    ) -> GitResult:
        """Run ``git args...``; raise GitError on failure when ``check``."""
        result = await run_git(self.cwd, args, env=env, input=input)
        if audit and self.on_finished is not None:
            await self.on_finished(operation or args[0], result, run_id)
        if check and not result.ok:
            raise GitError(result, self.cwd)
        return result

    async def out(self, *args: str, **kwargs: object) -> str:
        """stdout of a successful command, stripped."""
        result = await self.run(*args, **kwargs)  # type: ignore[arg-type]
        return result.stdout.strip()


async def run_git(
    cwd: Path,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
) -> GitResult:
    """Run git without auditing (the building block of :class:`GitRunner`)."""
    full_env = {**os.environ, **_GIT_ENV, **(env or {})}
    started = time.perf_counter()
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=full_env,
        )
    except FileNotFoundError as exc:
        raise RuntimeError("git is not installed or not on PATH; install git >= 2.30") from exc
    stdout, stderr = await process.communicate(input)
    return GitResult(
        args=list(args),
        exit_code=process.returncode if process.returncode is not None else -1,
        stdout_bytes=stdout,
        stderr=stderr.decode("utf-8", "replace"),
        duration_ms=(time.perf_counter() - started) * 1000,
    )
