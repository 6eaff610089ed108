"""One allowed command, from its first event to its finished record.

``CommandRun`` holds what one execution needs (its row, its output files, its process) so the
steps read in order: announce, start, wait (timeout, output flood or cancellation stop it),
record. Cancelling the task that awaits ``execute`` stops the process exactly like a timeout
and still records the result before the cancellation propagates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.enums import EventType, OutputStream
from devfactory.protocol.events import (
    CommandFinished,
    CommandOutput,
    CommandStarted,
    TestCounts,
    TestEvent,
)
from devfactory.protocol.runs import Run
from devfactory.storage import StorageFull, Store

from ..events.bus import EventBus
from ..shielding import finish_despite_cancel, until_stored
from .cgroups import CommandCgroup
from .output import OutputCapture
from .processes import CommandProcess
from .report import counts_text, run_result, short
from .testresults import junit_report, parse_summary, read_junit, recognise
from .verdict import Verdict

STOPPED_WITH_RUN = "its run was stopped"


@dataclass(frozen=True)
class CommandOutcome:
    """A command's record and what the model is told about it."""

    execution: CommandExecution
    tool_result: str
    rule: str | None = None
    """Why it was refused: a blocklist rule (``privilege_escalation``...) or ``invalid``,
    ``shell_syntax``, ``not_allowed``, ``safe_mode``, ``unsandboxed``, ``snapshot``,
    ``no_worktree``."""

    @property
    def ok(self) -> bool:
        e = self.execution
        return e.exit_code == 0 and not e.was_killed and not e.was_blocked


@dataclass(frozen=True)
class Launch:
    """How to start the process of a command."""

    argv: list[str]
    env: dict[str, str]
    marker: str
    cgroup: CommandCgroup | None
    timeout_s: float
    grace_s: float
    max_output_bytes: int
    output_interval_s: float


class CommandRun:
    """One execution of an allowed command."""

    def __init__(
        self,
        *,
        store: Store,
        events: EventBus,
        run: Run,
        verdict: Verdict,
        row: CommandExecution,
        output_dir: Path,
    ) -> None:
        self.store = store
        self.events = events
        self.run = run
        self.verdict = verdict
        self.row = row
        self.output_dir = output_dir
        self.framework = next(filter(None, map(recognise, verdict.segments)), None)
        """The test framework it runs, or None when it is not a test command."""
        self.started = time.monotonic()
        self.started_wall = time.time()

    async def _emit(self, type: EventType, title: str, payload: Any, message: str = "") -> None:
        await self.events.emit(self.run.id, type, title, payload, message=message)

    async def announce(self, origin: str) -> None:
        """``command_started``, and ``test_started`` for a test command."""
        command = self.verdict.command
        await self._emit(
            EventType.COMMAND_STARTED,
            f"$ {short(command)}",
            CommandStarted(
                execution_id=self.row.id,
                command=command,
                origin=origin,
                sandboxed=self.row.sandboxed,
            ),
        )
        if self.framework is not None:
            await self._emit(
                EventType.TEST_STARTED,
                f"Tests started ({self.framework})",
                TestEvent(execution_id=self.row.id, command=command, framework=self.framework),
            )

    async def _emit_output(self, stream: OutputStream, text: str, truncated: bool) -> None:
        await self._emit(
            EventType.COMMAND_OUTPUT,
            f"{stream.value} of #{self.row.id}",
            CommandOutput(execution_id=self.row.id, stream=stream, text=text, truncated=truncated),
        )

    async def execute(
        self,
        launch: Launch,
        running: dict[int, tuple[int, CommandProcess]],
        keep: set[asyncio.Task[Any]],
        stop_requested: Callable[[], bool],
    ) -> CommandOutcome:
        """Start, wait, record. ``running`` lists the process while it runs (for kill_run);
        ``stop_requested`` says whether its run was stopped before the process was listed."""
        if stop_requested():
            return await self._stopped_before_start()
        capture = OutputCapture(
            self.output_dir,
            str(self.row.id),
            self._emit_output,
            max_bytes=launch.max_output_bytes,
            interval_s=launch.output_interval_s,
        )
        self.started, self.started_wall = time.monotonic(), time.time()
        try:
            process = await CommandProcess.start(
                launch.argv,
                cwd=self.row.working_dir,
                env=launch.env,
                stdout=capture.stdout.write_fd,
                stderr=capture.stderr.write_fd,
                marker=launch.marker,
                cgroup=launch.cgroup,
            )
        except BaseException as exc:
            capture.close()
            if launch.cgroup is not None:
                launch.cgroup.remove()
            if not isinstance(exc, OSError):
                raise
            return await self._failed_to_start(exc)
        capture.start()
        running[self.row.id] = (self.run.id, process)
        try:
            if stop_requested():  # stopped while the process started: it is listed only now
                await process.terminate(launch.grace_s)
                stop_reason: str | None = STOPPED_WITH_RUN
            else:
                stop_reason = await self._wait(process, capture, launch)
        except asyncio.CancelledError:
            await finish_despite_cancel(self._stop_and_record(process, capture, launch), keep)
            raise
        finally:
            running.pop(self.row.id, None)
        return await self._record(process, capture, stop_reason)

    @staticmethod
    async def _wait(process: CommandProcess, capture: OutputCapture, launch: Launch) -> str | None:
        """Wait for the command; stop it on timeout or output flood. Returns why it stopped."""
        if await process.wait(launch.timeout_s, capture.limit_hit):
            await process.finish(launch.grace_s)
            return "stopped" if process.killed else None
        reason = capture.problem or f"timed out after {launch.timeout_s:g}s"
        await process.terminate(launch.grace_s)
        return reason

    async def _stop_and_record(
        self, process: CommandProcess, capture: OutputCapture, launch: Launch
    ) -> CommandOutcome:
        await process.terminate(launch.grace_s)
        return await self._record(process, capture, "cancelled")

    async def _record(
        self, process: CommandProcess, capture: OutputCapture, stop_reason: str | None
    ) -> CommandOutcome:
        """Flush the output, read test counts, finish the row and tell the timeline.

        The row is finished even if the output could not be streamed (a full disk): it waits
        for room rather than stay open, and then the streaming failure is raised.
        """
        unstreamed: StorageFull | None = None
        try:
            try:
                await capture.stop()
            except StorageFull as exc:  # the output is in its files all the same
                unstreamed = exc
            tail = capture.tail()
            output_bytes = capture.total_bytes()
            counts = None
            if self.framework is not None:
                counts = await asyncio.to_thread(self._junit_counts)
                if counts is None:
                    text = capture.summary_text()
                    counts = await asyncio.to_thread(parse_summary, self.framework, text)
        finally:
            capture.close()
        duration_s = time.monotonic() - self.started
        finished = await self._finish_row(
            exit_code=process.returncode,
            was_killed=process.killed,
            stdout_path=str(capture.stdout.path),
            stderr_path=str(capture.stderr.path),
            output_tail=tail,
            test_counts=counts,
        )
        if unstreamed is not None:
            raise unstreamed
        ok = finished.exit_code == 0 and not finished.was_killed
        if ok:
            status = "Exit 0"
        elif finished.was_killed:
            status = f"Stopped ({stop_reason or 'killed'})"
        else:
            status = f"Exit {finished.exit_code}"
        await self._emit(
            EventType.COMMAND_COMPLETED if ok else EventType.COMMAND_FAILED,
            f"{status}: {short(self.verdict.command)}",
            CommandFinished(
                execution_id=self.row.id,
                command=self.verdict.command,
                exit_code=finished.exit_code,
                duration_ms=duration_s * 1000,
                was_killed=finished.was_killed,
            ),
            message=stop_reason or "",
        )
        await self._test_result(counts, ok and (counts is None or counts.ok))
        return CommandOutcome(
            execution=finished,
            tool_result=run_result(
                finished, duration_s=duration_s, stop_reason=stop_reason, output_bytes=output_bytes
            ),
        )

    async def _finish_row(
        self,
        *,
        exit_code: int | None,
        was_killed: bool,
        stdout_path: str | None,
        stderr_path: str | None,
        output_tail: str,
        test_counts: TestCounts | None = None,
    ) -> CommandExecution:
        """Close the command's row: a row left open would claim the command still runs."""
        return await until_stored(
            lambda: self.store.commands.finish(
                self.row.id,
                exit_code=exit_code,
                was_killed=was_killed,
                stdout_path=stdout_path,
                stderr_path=stderr_path,
                output_tail=output_tail,
                test_framework=self.framework,
                test_counts=test_counts,
            ),
            f"closing command {self.row.id}",
        )

    async def abandon(self, reason: str) -> None:
        """Close the row of a command that will not start (its start was interrupted)."""
        await until_stored(
            lambda: self.store.commands.abandon(self.row.id, reason),
            f"closing command {self.row.id}",
        )

    async def _test_result(self, counts: TestCounts | None, passed: bool) -> None:
        """``test_completed`` or ``test_failed`` with the counts, for a test command."""
        if self.framework is None:
            return
        summary = "" if counts is None else f": {counts_text(counts)}"
        await self._emit(
            EventType.TEST_COMPLETED if passed else EventType.TEST_FAILED,
            f"Tests {'passed' if passed else 'failed'} ({self.framework}){summary}",
            TestEvent(
                execution_id=self.row.id,
                command=self.verdict.command,
                framework=self.framework,
                counts=counts,
            ),
        )

    def _junit_counts(self) -> TestCounts | None:
        """Counts from a JUnit report the command wrote during this run, inside the worktree."""
        verdict, worktree = self.verdict, self.row.working_dir
        declared = verdict.junit_xml or next(
            filter(None, map(junit_report, verdict.segments)), None
        )
        if declared is None:
            return None
        return read_junit(worktree, declared, since=self.started_wall - 1)

    async def _stopped_before_start(self) -> CommandOutcome:
        finished = await self._finish_row(
            exit_code=None,
            was_killed=True,
            stdout_path=None,
            stderr_path=None,
            output_tail=STOPPED_WITH_RUN,
        )
        await self._emit(
            EventType.COMMAND_FAILED,
            f"Stopped before it started: {short(self.verdict.command)}",
            CommandFinished(
                execution_id=self.row.id, command=self.verdict.command, was_killed=True
            ),
            message=STOPPED_WITH_RUN,
        )
        await self._test_result(None, False)
        return CommandOutcome(
            execution=finished,
            tool_result=run_result(
                finished, duration_s=0.0, stop_reason=STOPPED_WITH_RUN, output_bytes=0
            ),
        )

    async def _failed_to_start(self, exc: OSError) -> CommandOutcome:
        message = f"could not start `{self.verdict.argv[0]}`: {exc.strerror or exc}"
        finished = await self._finish_row(
            exit_code=127, was_killed=False, stdout_path=None, stderr_path=None, output_tail=message
        )
        await self._emit(
            EventType.COMMAND_FAILED,
            f"Exit 127: {short(self.verdict.command)}",
            CommandFinished(execution_id=self.row.id, command=self.verdict.command, exit_code=127),
            message=message,
        )
        await self._test_result(None, False)
        return CommandOutcome(
            execution=finished,
            tool_result=run_result(finished, duration_s=0.0, stop_reason=None, output_bytes=0),
        )
