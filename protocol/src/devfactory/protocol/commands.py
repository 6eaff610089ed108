"""Command execution in a run's worktree: ``devfactory/commands/*``."""

from __future__ import annotations

from typing import Annotated

import msgspec

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


class PolicyEntry(Model, kw_only=True, forbid_unknown_fields=True):
    """One allowed program in the command policy (``[[commands.allow]]``; docs/security.md).

    The first entry whose ``program``, ``args`` and ``deny`` all accept a command decides how it
    runs. Unknown keys are refused by name so a typo cannot silently widen or narrow the policy.
    """

    program: Annotated[str, msgspec.Meta(min_length=1)]
    """The exact first word of the command (``pytest``, ``./vendor/bin/phpunit``)."""
    args: list[str] = []
    """Glob patterns over the joined argument string; empty allows any arguments."""
    deny: list[str] = []
    """Glob patterns over each single argument; a command with a matching argument is not
    covered by this entry (``-delete`` for ``find``, ``--output*`` for ``git diff``)."""
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] | None = None
    """Upper bound of the run time; defaults to ``default_timeout_s``."""
    destructive: bool = False
    """Take a pre_command snapshot of the worktree first."""
    shell: bool = False
    """Run through ``sh -c`` (shell syntax allowed when every part of the command is allowed by
    an entry with ``shell``)."""
    read_only: bool = False
    """Allowed in safe mode: the program neither writes the project's files nor runs code
    from the project or the network (safe mode still refuses the programs and options known
    to run code, whatever this says)."""
    sandbox: bool = True
    """Run inside the OS sandbox when one is available."""
    network: bool = False
    """Keep network access inside the sandbox."""
    junit_xml: str | None = None
    """A JUnit XML report the command writes (worktree-relative), read for test counts."""
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
    """The ``sandbox`` setting: commands should run in the OS sandbox."""
    sandbox_active: bool
    """The sandbox is enabled and works on this machine (bubblewrap probed)."""
    allow_unsandboxed: bool = False
    """The ``allow_unsandboxed`` setting: without the sandbox, commands that run the project's
    code run without asking the user."""
    kill_grace_s: float
    max_output_mb: int
    max_processes: int
    process_limit_active: bool
    """``max_processes`` is enforced (a writable pids cgroup exists)."""
    problems: list[str] = []
    """Why the policy file or ``[commands]`` section was ignored, naming the field."""
