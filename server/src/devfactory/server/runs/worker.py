"""``RunWorker``: drives one run from its worktree to its final summary.

The worker owns the run's live state (its current record, pause request, directives, the
question it waits on) and implements the agent loop's ``RunHandle``. It works with what its
``RunContext`` hands it (events, snapshots, worktrees, commands, search, the proposals port);
status changes go through the manager's choke point (``RunRecord``), and every write returns
the record the worker keeps. Cancellation arrives as ``asyncio.CancelledError`` wherever the
run is waiting (a model call, a command) and stops it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devfactory.protocol.enums import (
    EventType,
    HitlAction,
    HitlStatus,
    RunStatus,
    Severity,
    SnapshotType,
)
from devfactory.protocol.events import (
    BudgetReached,
    CheckpointCreated,
    ErrorPayload,
    FinalSummary,
    GitDiffCreated,
    GitStatusChecked,
    PausedForInput,
    Payload,
    Resumed,
    UserPrompt,
)
from devfactory.protocol.hitl import HitlRequest, QuestionNotification
from devfactory.protocol.methods import Notifications
from devfactory.protocol.runs import Run, StreamNotification
from devfactory.storage import LeaseLost, StorageFull

from ..agents.loop import AgentLoop, ExtraTools, LoopResult, StepLimitReached, combined
from ..agents.planning import PlanDecision
from ..agents.pricing import PriceTable
from ..agents.providers.base import AutonomousProvider, Message, ProviderError, Usage
from ..agents.roles import ROLES
from ..agents.tools import ToolBox
from ..safefs import protected_files
from ..shielding import until_stored
from ..wording import plural
from .autonomous import work_autonomously
from .budget import budget_reason
from .chat import ChatSetup, prepare_chat
from .context import RunContext
from .conversation import to_payload
from .exhaustion import ExhaustionPauser
from .ports import NoProposals, Proposals, RunRecord
from .preparation import RunFailed, prepare, provider_for
from .segment import Segment, SegmentEnded, answer_text, ends_segment, prompted

if TYPE_CHECKING:
    from ..agents.mcp_tools import Ask, McpTools

log = logging.getLogger(__name__)
S = RunStatus
ANSWER_POLL_S = 0.5


class RunWorker:
    def __init__(
        self,
        run: Run,
        context: RunContext,
        record: RunRecord,
        on_finished: Callable[[RunWorker], None],
        extra_tools: ExtraTools | None = None,
        segment: Segment | None = None,
    ) -> None:
        self.run_id = run.id
        self.run = run
        """The run's record as of the worker's last write (or the manager's resume)."""
        self.context = context
        self.record = record
        self.on_finished = on_finished
        self.extra_tools = extra_tools
        """Tools on top of its role's (an initiative's task: the factory's)."""
        self.segment = segment
        """Set when a team worker drives the run under a lease (None: this daemon does)."""
        self.proposals: Proposals = context.proposals if run.metadata.proposes else NoProposals()
        """Where its changes go: review, unless its work goes elsewhere (an initiative's
        task's branch is merged by the factory)."""
        self.task: asyncio.Task[None] | None = None
        self.directives: list[str] = []
        self._pause_requested = False
        self._resumed = asyncio.Event()
        self._question: tuple[int, asyncio.Future[HitlRequest]] | None = None
        self._daemon_stopping = False
        self._budget_noted = False
        """The budget pause happened once: a resume lets the run go on past it."""
        self.worktree = Path()
        self.base_commit = ""
        """Where the run's worktree started: checkpoints and rewinds count from it."""

    # -- controls (called by the manager) ------------------------------------------------------

    def request_pause(self) -> None:
        self._pause_requested = True

    def resume(self, run: Run) -> None:
        """The manager moved the paused run back to running (``run`` is its new record)."""
        self.run = run
        self._resumed.set()

    def is_waiting_for(self, request_id: int) -> bool:
        return self._question is not None and self._question[0] == request_id

    def answer(self, request: HitlRequest) -> None:
        if self._question is not None and not self._question[1].done():
            self._question[1].set_result(request)

    async def stop(self, *, daemon_stopping: bool = False) -> None:
        """Cancel the run's task and wait for it to wind down (kills its processes).

        When the daemon stops, the run is marked failed (it cannot go on without it)."""
        self._daemon_stopping = daemon_stopping
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    # -- RunHandle -----------------------------------------------------------------------------

    async def emit(
        self, type: EventType, title: str, payload: Payload, *, message: str = "", **kw: Any
    ) -> Any:
        return await self.context.events.emit(
            self.run_id, type, title, payload, message=message, **kw
        )

    def stream(self, delta: str) -> None:
        self.context.notify(
            Notifications.STREAM, StreamNotification(run_id=self.run_id, delta=delta)
        )

    async def update(self, **fields: Any) -> Run:
        """Change non-status fields of the run's record (and keep the new record)."""
        self.run = await self.record.update(self.run_id, **fields)
        return self.run

    async def _move(self, target: RunStatus, **fields: Any) -> Run:
        self.run = await self.record.transition(self.run_id, target, **fields)
        return self.run

    async def add_usage(self, usage: Usage) -> None:
        metadata = self.run.metadata
        total = metadata.usage
        total.input_tokens += usage.input_tokens
        total.output_tokens += usage.output_tokens
        total.cached_input_tokens += usage.cached_input_tokens
        cost = usage.cost_usd
        if cost is None:
            agent = self.context.settings.agent
            prices = PriceTable(agent.models, agent.default_context_window)
            cost = prices.cost(self.run.model, usage)
        if cost is not None:
            total.cost_usd = (total.cost_usd or 0.0) + cost
        await self.update(metadata=metadata)

    async def checkpoint(self, step: int) -> list[str]:
        await self.update(current_step=step)
        if self._pause_requested:
            self._pause_requested = False
            await self.pause_until_resumed("paused by the user")
        await self._check_budget()
        if self.segment is not None:
            self.directives += await self.segment.directives()
        pending, self.directives = self.directives, []
        return pending

    async def _check_budget(self) -> None:
        """Pause once the run has spent its budget (a resume lets it go on)."""
        metadata = self.run.metadata
        reason = budget_reason(metadata)
        if reason is None or self._budget_noted:
            return
        self._budget_noted = True
        usage = metadata.usage
        await self.emit(
            EventType.BUDGET_REACHED,
            "Budget reached",
            BudgetReached(
                reason=reason,
                cost_usd=usage.cost_usd,
                max_cost_usd=metadata.max_cost_usd,
                tokens=usage.input_tokens + usage.output_tokens,
                max_tokens=metadata.max_tokens,
            ),
            message=reason,
            severity=Severity.WARNING,
        )
        await self.pause_until_resumed(reason)

    async def remember(self, step: int, message: Message) -> None:
        await self.emit(
            EventType.CONVERSATION_MESSAGE_ADDED,
            f"{message.role.capitalize()} message",
            to_payload(step, message),
        )

    async def step_done(self, step: int) -> None:
        recorded = await self.context.checkpoints.record(
            self.run_id, self.worktree, step, self.base_commit
        )
        if recorded is None:
            return
        checkpoint, files = recorded
        await self.emit(
            EventType.CHECKPOINT_CREATED,
            f"Checkpoint after step {step}",
            CheckpointCreated(step=step, commit=checkpoint.commit, files=files),
            message=", ".join(files[:5]) + (" ..." if len(files) > 5 else ""),
        )

    async def review_plan(self, plan: str, tool_call_id: str) -> PlanDecision:
        answered = await self._wait_for_answer(plan, [], tool_call_id, kind="plan")
        return PlanDecision(
            answered.response_action or HitlAction.ANSWER, answered.response_text or ""
        )

    async def plan_decided(self, plan: str, approved: bool) -> None:
        metadata = self.run.metadata
        metadata.plan = plan
        metadata.plan_approved = approved
        await self.update(metadata=metadata)

    async def ask(self, question: str, choices: list[str], tool_call_id: str | None) -> str:
        return answer_text(await self._wait_for_answer(question, choices, tool_call_id))

    async def _wait_for_answer(
        self, question: str, choices: list[str], tool_call_id: str | None, kind: str = "question"
    ) -> HitlRequest:
        """Ask the user (a question, or a plan to approve) and wait: the run waits for the
        user meanwhile."""
        store = self.context.store
        request = await store.hitl.create(self.run_id, question, choices, tool_call_id, kind=kind)
        future: asyncio.Future[HitlRequest] = asyncio.get_running_loop().create_future()
        self._question = (request.id, future)
        try:
            await self._move(S.WAITING_FOR_USER)
            await self.emit(
                EventType.PAUSED_FOR_INPUT,
                "Question for you",
                PausedForInput(request_id=request.id, question=question, choices=choices),
                message=question,
            )
            self.context.notify(Notifications.QUESTION, QuestionNotification(request=request))
            if self.segment is not None and ends_segment(kind, tool_call_id):
                raise SegmentEnded(f"waiting for the answer to question {request.id}")
            answered = await (future if self.segment is None else self._answered(request.id))
        finally:
            self._question = None
        await self.emit(
            EventType.RESUMED,
            "Answer received",
            Resumed(
                request_id=answered.id, action=answered.response_action, text=answered.response_text
            ),
            message=answered.response_text or "",
        )
        await self._move(S.RUNNING)
        return answered

    async def _answered(self, request_id: int) -> HitlRequest:
        """The answer to a question a team worker waits for in its segment: it is given on
        another machine, and arrives through the database."""
        while True:
            request = await self.context.store.hitl.get(request_id)
            if request is not None and request.status is not HitlStatus.PENDING:
                return request
            await asyncio.sleep(ANSWER_POLL_S)

    async def pause_until_resumed(self, reason: str, wake_after: float | None = None) -> None:
        """Pause with ``reason`` and wait for a resume (or ``wake_after`` seconds); a team
        worker's segment ends at the pause instead (the resume enqueues the next one)."""
        metadata = self.run.metadata
        metadata.pause_reason = reason
        self._resumed.clear()
        await self._move(S.PAUSED, reason=reason, metadata=metadata)
        if self.segment is not None and wake_after is None:
            raise SegmentEnded(f"paused: {reason}")
        if wake_after is None:
            await self._resumed.wait()
            return
        try:
            await asyncio.wait_for(self._resumed.wait(), wake_after)
        except TimeoutError:
            await self.record.resume(self.run_id)

    # -- the run -------------------------------------------------------------------------------

    async def main(self) -> None:
        provider: Any = None
        run = self.run
        try:
            provider = await provider_for(self.context, run)  # fails before any work if unset
            worktree, base = await prepare(self, run)
            self.worktree, self.base_commit = worktree, base
            iteration = run.metadata.iteration
            # A later iteration's instructions are the review feedback: the console shows them.
            # (A follow-up message was shown when it arrived.)
            feedback = run.metadata.followup if iteration > 1 else None
            going_on = self.segment is not None and await prompted(
                self.context.store, run.project_id, run.id, iteration
            )  # a later segment of this iteration
            self._budget_noted = going_on and budget_reason(run.metadata) is not None
            if (iteration == 1 or feedback) and not going_on:
                await self.emit(
                    EventType.USER_PROMPT,
                    f"Review feedback (iteration {iteration})" if feedback else "Task",
                    UserPrompt(prompt=run.prompt, iteration=iteration),
                    message=feedback or run.prompt,
                )
            if isinstance(provider, AutonomousProvider):
                result = await work_autonomously(self, run, provider, worktree)
            else:
                result = await self._work_with_tools(run, provider, worktree, base)
            await self._finish(worktree, base, result)
        except LeaseLost as exc:  # another worker drives the run now: write nothing more
            log.warning("%s", exc)
        except SegmentEnded as ended:
            log.info("run %d: segment ended, %s", self.run_id, ended)
        except asyncio.CancelledError:
            if self._daemon_stopping:
                await self._fail("the DevFactory daemon stopped while the run was working")
        except (RunFailed, ProviderError, StorageFull) as exc:
            await self._fail(str(exc))
        except Exception as exc:
            log.exception("run %d crashed", self.run_id)
            await self._fail(f"internal error: {exc}")
        finally:
            if provider is not None and hasattr(provider, "aclose"):
                with contextlib.suppress(Exception):
                    await provider.aclose()
            self.on_finished(self)

    async def _fail(self, reason: str) -> None:
        """Say why, then mark the run failed: it must not stay ``running``. While the disk is
        full the status write is retried until there is room (a stopping daemon tries once;
        the next daemon's recovery marks the run failed)."""
        try:
            await self.emit(
                EventType.ERROR, "Run failed", ErrorPayload(message=reason), message=reason
            )
        except Exception:  # the status change below carries the reason too
            log.warning("run %d: could not record why it failed", self.run_id, exc_info=True)

        async def mark_failed() -> None:
            store = self.context.store
            await store.hitl.cancel_pending(self.run_id)
            current = await store.runs.get(self.run_id)  # the user may have cancelled it
            if current is not None and not current.status.is_terminal:
                await self._move(S.FAILED, reason=reason)

        try:
            if self._daemon_stopping:
                await mark_failed()
            else:
                await until_stored(mark_failed, f"marking run {self.run_id} failed")
        except Exception:
            log.exception("run %d could not be marked failed", self.run_id)

    async def _work_with_tools(
        self, run: Run, provider: Any, worktree: Path, base: str
    ) -> LoopResult:
        context = self.context
        role = ROLES[run.agent]
        toolbox = ToolBox(
            run_id=run.id,
            worktree=worktree,
            emit=self.emit,
            on_file_changed=lambda path, action: self._propose(base, path),
            search=context.search,
            protected=protected_files(context.root, context.settings),
            guard=None if self.segment is None else self.segment.guard,
        )
        commands, checkpoints = context.commands, context.checkpoints

        async def ask_user(question: str, choices: list[str]) -> str:
            return await self.ask(question, choices, None)

        async def run_command(command: str, timeout_s: float | None, read_only: bool) -> str:
            assert commands is not None
            if self.segment is not None:
                await self.segment.guard()
            before = await checkpoints.tree(run.id, worktree) if read_only else None
            outcome = await commands.execute(
                self.run, command, timeout_s=timeout_s, origin="agent", ask=ask_user
            )
            result = str(outcome.tool_result)
            undone = [] if before is None else await checkpoints.put_back(run.id, worktree, before)
            if undone:
                put_back = ", ".join(undone[:10])
                result += (
                    f"\n[plan mode: DevFactory put back what this command changed: {put_back}]"
                )
            return result

        setup: ChatSetup = await prepare_chat(
            handle=self,
            run=run,
            role=role,
            worktree=worktree,
            settings=context.settings,
            store=context.store,
            project_id=context.project_id,
            search=context.search,
        )
        mcp = self._mcp_tools(worktree, ask_user)
        extra = combined(mcp, self.extra_tools)
        loop = AgentLoop(
            handle=self,
            provider=ExhaustionPauser(provider, self),
            role=role,
            tools=toolbox,
            run_command=run_command if commands is not None else None,
            max_steps=run.metadata.max_steps or context.settings.max_steps,
            system_prompt=setup.system_prompt,
            rules=setup.rules,
            limit=setup.limit,
            extra_tools=extra,
        )
        try:
            if mcp is not None:
                await mcp.start()
            return await loop.execute(setup.conversation)
        except StepLimitReached as exc:
            raise RunFailed(str(exc)) from None
        finally:
            if mcp is not None:
                await mcp.aclose()

    def _mcp_tools(self, worktree: Path, ask: Ask) -> McpTools | None:
        """The tools of the MCP servers in the settings, for this run (or None)."""
        servers = self.context.settings.mcp.servers
        if not servers:
            return None
        from ..agents.mcp_tools import McpTools  # the mcp SDK loads only when a run uses it

        return McpTools(servers, cwd=worktree, emit=self.emit, ask=ask)

    async def _propose(self, base: str, path: str) -> int | None:
        change = await self.proposals.propose(self.run, base, path)
        return None if change is None else change.id

    async def _finish(self, worktree: Path, base: str, result: LoopResult) -> None:
        context, run = self.context, self.run
        changed = await context.worktrees.changed_paths(run.id, base)
        files_changed = plural(len(changed), "file") + " changed"
        await self.emit(
            EventType.GIT_STATUS_CHECKED,
            f"Worktree checked: {files_changed}",
            GitStatusChecked(changed_files=sorted(changed)),
        )
        for path in changed:
            await self._propose(base, path)
        insertions, deletions = await context.worktrees.line_counts(run.id, base, set(changed))
        await self.emit(
            EventType.GIT_DIFF_CREATED,
            files_changed,
            GitDiffCreated(files=sorted(changed), insertions=insertions, deletions=deletions),
            message=f"+{insertions} -{deletions}",
        )
        await context.snapshots.create(
            SnapshotType.FINAL, f"run {run.id} result", run_id=run.id, worktree=worktree
        )
        executions = await context.store.commands.list(run.id)
        tests = next((e.test_counts for e in reversed(executions) if e.test_counts), None)
        usage = self.run.metadata.usage
        await self.emit(
            EventType.FINAL_SUMMARY,
            "Summary",
            FinalSummary(
                summary=result.summary,
                files_changed=sorted(changed),
                commands_run=len(executions),
                tests=tests,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=usage.cost_usd,
            ),
            message=result.summary,
        )
        await self.proposals.run_finishing(self.run, base, result.summary, sorted(changed))
        await self.proposals.run_completed(await self._move(S.COMPLETED))
