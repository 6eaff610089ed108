"""Command execution in a run's worktree: ``devfactory/commands/*``."""

from __future__ import annotations

from ._base import Model, Params
from .events import TestCounts


class CommandExecution(Model, kw_only=True):
    """One command, run or refused, as recorded in ``command_executions``."""

    id: int
    run_id: int | None
    command: str
    args: list[str] = []
    working_dir: str
    timeout_s: float
    started_at: str
    finished_at: str | None = None
    exit_code: int | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None
    was_killed: bool = False
    was_blocked: bool = False
    block_reason: str | None = None
    sandboxed: bool = False
    test_framework: str | None = None
    test_counts: TestCounts | None = None
    output_tail: str = ""
    """The last few kilobytes of combined output."""


class CommandRunParams(Params, kw_only=True):
    """Parameters of ``devfactory/commands/run``: a user-initiated command in a run's worktree."""

    run_id: int
    command: str
    timeout_s: float | None = None


class CommandListParams(Params, kw_only=True):
    """Parameters of ``devfactory/commands/list``."""

    run_id: int


class CommandList(Model, kw_only=True):
    """Result of ``devfactory/commands/list``."""

    executions: list[CommandExecution]


class PolicyEntry(Model, kw_only=True):
    """One allowed program in the command policy."""

    program: str
    args: list[str] = []
    """Glob patterns over the joined argument string; empty allows any arguments."""
    timeout_s: float | None = None
    destructive: bool = False
    """Take a pre_command snapshot of the worktree first."""
    shell: bool = False
    """Run through ``sh -c`` (shell syntax allowed)."""
    read_only: bool = False
    """Allowed in safe mode."""
    sandbox: bool = True
    network: bool = False
    description: str = ""


class BlockRule(Model, kw_only=True):
    """A built-in refusal no policy entry can lift."""

    name: str
    reason: str


class CommandPolicy(Model, kw_only=True):
    """Result of ``devfactory/commands/policy``: the effective policy."""

    source: str
    """Where it came from: ``default`` or the policy file's path."""
    default_timeout_s: float
    entries: list[PolicyEntry]
    blocked: list[BlockRule]
    sandbox: bool
    sandbox_active: bool
