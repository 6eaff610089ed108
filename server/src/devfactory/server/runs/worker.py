"""``RunWorker``: drives one run from its worktree to its final summary.

The worker owns the run's live state (pause request, directives, the question it waits on)
and implements the agent loop's ``RunHandle``. Status changes go through the manager's
choke point; cancellation arrives as ``asyncio.CancelledError`` wherever the run is waiting
(a model call, a command) and stops it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from devfactory.protocol.changes import Change
from devfactory.protocol.enums import (
    ChangeAction,
    EventType,
    HitlAction,
    RunStatus,
    Severity,
    SnapshotType,
)
from devfactory.protocol.events import (
    BudgetReached,
    CheckpointCreated,
    ErrorPayload,
    FinalSummary,
    GitBranchCreated,
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
from devfactory.storage import StorageFull

from ..agents.loop import AgentLoop, LoopResult, StepLimitReached
from ..agents.planning import PlanDecision
from ..agents.pricing import PriceTable
from ..agents.providers.base import (
    AutonomousProvider,
    Message,
    ProviderError,
    Usage,
)
from ..agents.roles import ROLES
from ..agents.tools import ToolBox
from ..safefs import protected_files
from ..shielding import until_stored
from ..wording import plural
from .autonomous import work_autonomously
from .budget import budget_reason
from .chat import ChatSetup, prepare_chat
from .conversation import to_payload
from .exhaustion import ExhaustionPauser

if TYPE_CHECKING:
    from .manager import RunManager

log = logging.getLogger(__name__)
S = RunStatus


class RunFailed(Exception):
    """The run cannot continue; the message becomes its failed_reason."""


class RunWorker:
    def __init__(self, manager: RunManager, run: Run) -> None:
        self.manager = manager
        self.run_id = run.id
        self.task: asyncio.Task[None] | None = None
        self.directives: list[str] = []
        self._pause_requested = False
        self._resumed = asyncio.Event()
        self._question: tuple[int, asyncio.Future[HitlRequest]] | None = None
        self._stopping = False
        self._budget_noted = False
        """The budget pause happened once: a resume lets the run go on past it."""
        self.worktree: Any = None
        self.base_commit = ""
        """Where the run's worktree started: checkpoints and rewinds count from it."""

    @property
    def services(self) -> Any:
        return self.manager.services

    # -- controls (called by the manager) ------------------------------------------------------

    def request_pause(self) -> None:
        self._pause_requested = True

    def resume(self) -> None:
        self._resumed.set()

    def is_waiting_for(self, request_id: int) -> bool:
        return self._question is not None and self._question[0] == request_id

    def answer(self, request: HitlRequest) -> None:
        if self._question is not None and not self._question[1].done():
            self._question[1].set_result(request)

    async def stop(self) -> None:
        """Cancel the run's task and wait for it to wind down (kills its processes)."""
        self._stopping = True
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    # -- RunHandle -----------------------------------------------------------------------------

    async def emit(
        self, type: EventType, title: str, payload: Payload, *, message: str = "", **kw: Any
    ) -> Any:
        return await self.services.events.emit(
            self.run_id, type, title, payload, message=message, **kw
        )

    def stream(self, delta: str) -> None:
        self.manager.server.send(
            Notifications.STREAM, StreamNotification(run_id=self.run_id, delta=delta)
        )

    async def add_usage(self, usage: Usage) -> None:
        run = await self.manager.get(self.run_id)
        total = run.metadata.usage
        total.input_tokens += usage.input_tokens
        total.output_tokens += usage.output_tokens
        total.cached_input_tokens += usage.cached_input_tokens
        cost = usage.cost_usd
        if cost is None:
            agent = self.services.settings.agent
            cost = PriceTable(agent.models, agent.default_context_window).cost(run.model, usage)
        if cost is not None:
            total.cost_usd = (total.cost_usd or 0.0) + cost
        await self.manager.update(self.run_id, metadata=run.metadata)

    async def checkpoint(self, step: int) -> list[str]:
        run = await self.manager.update(self.run_id, current_step=step)
        if self._pause_requested:
            self._pause_requested = False
            await self.pause_until_resumed("paused by the user")
        await self._check_budget(run)
        pending, self.directives = self.directives, []
        return pending

    async def _check_budget(self, run: Run) -> None:
        """Pause once the run has spent its budget (a resume lets it go on)."""
        reason = budget_reason(run.metadata)
        if reason is None or self._budget_noted:
            return
        self._budget_noted = True
        usage, metadata = run.metadata.usage, run.metadata
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
        recorded = await self.manager.checkpoints.record(
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
        action = answered.response_action or HitlAction.ANSWER
        return PlanDecision(action, answered.response_text or "")

    async def plan_decided(self, plan: str, approved: bool) -> None:
        run = await self.manager.get(self.run_id)
        run.metadata.plan = plan
        run.metadata.plan_approved = approved
        await self.manager.update(self.run_id, metadata=run.metadata)

    async def ask(self, question: str, choices: list[str], tool_call_id: str | None) -> str:
        answered = await self._wait_for_answer(question, choices, tool_call_id)
        action = answered.response_action.value if answered.response_action else "answer"
        text = answered.response_text or ""
        return text if action == "answer" else f"{action}: {text}".strip()

    async def _wait_for_answer(
        self, question: str, choices: list[str], tool_call_id: str | None, kind: str = "question"
    ) -> HitlRequest:
        """Ask the user (a question, or a plan to approve) and wait: the run waits for the
        user meanwhile."""
        store = self.services.store
        request = await store.hitl.create(self.run_id, question, choices, tool_call_id, kind=kind)
        future: asyncio.Future[HitlRequest] = asyncio.get_running_loop().create_future()
        self._question = (request.id, future)
        try:
            await self.manager.transition(self.run_id, S.WAITING_FOR_USER)
            await self.emit(
                EventType.PAUSED_FOR_INPUT,
                "Question for you",
                PausedForInput(request_id=request.id, question=question, choices=choices),
                message=question,
            )
            self.manager.server.send(Notifications.QUESTION, QuestionNotification(request=request))
            answered = await future
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
        await self.manager.transition(self.run_id, S.RUNNING)
        return answered

    async def pause_until_resumed(self, reason: str, wake_after: float | None = None) -> None:
        """Pause with ``reason`` and wait for a resume (or ``wake_after`` seconds)."""
        run = await self.manager.get(self.run_id)
        run.metadata.pause_reason = reason
        self._resumed.clear()
        await self.manager.transition(self.run_id, S.PAUSED, reason=reason, metadata=run.metadata)
        if wake_after is None:
            await self._resumed.wait()
            return
        try:
            await asyncio.wait_for(self._resumed.wait(), wake_after)
        except TimeoutError:
            await self.manager.resume(self.run_id)

    # -- the run -------------------------------------------------------------------------------

    async def main(self) -> None:
        provider: Any = None
        try:
            run = await self.manager.get(self.run_id)
            provider = await self._provider(run)  # a misconfigured provider fails before any work
            worktree, base = await self._prepare(run)
            self.worktree, self.base_commit = worktree, base
            iteration = run.metadata.iteration
            # A later iteration's instructions are the review feedback: the console shows them.
            # (A follow-up message was shown when it arrived.)
            feedback = run.metadata.followup if iteration > 1 else None
            if iteration == 1 or feedback:
                await self.emit(
                    EventType.USER_PROMPT,
                    f"Review feedback (iteration {iteration})" if feedback else "Task",
                    UserPrompt(prompt=run.prompt, iteration=iteration),
                    message=feedback or run.prompt,
                )
            if isinstance(provider, AutonomousProvider):
                result = await work_autonomously(self, run, provider, worktree)
            else:
                result = await self._work_with_tools(run, provider, worktree)
            await self._finish(run, worktree, base, result)
        except asyncio.CancelledError:
            if self._stopping and self.manager.shutting_down:
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
            self.manager.worker_finished(self)

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
            await self.services.store.hitl.cancel_pending(self.run_id)
            run = await self.manager.get(self.run_id)
            if not run.status.is_terminal:
                await self.manager.transition(self.run_id, S.FAILED, reason=reason)

        try:
            if self.manager.shutting_down:
                await mark_failed()
            else:
                await until_stored(mark_failed, f"marking run {self.run_id} failed")
        except Exception:
            log.exception("run %d could not be marked failed", self.run_id)

    async def _prepare(self, run: Run) -> tuple[Any, str]:
        """The pre_run snapshot and the worktree (reused by later iterations and retries)."""
        manager = self.manager
        if run.base_snapshot_id is not None and run.worktree_path:
            base = await manager.snapshots.get(run.base_snapshot_id)
            return manager.worktrees.path_for(run.id), base.commit_sha
        snapshot = await manager.snapshots.create(
            SnapshotType.PRE_RUN, f"before run {run.id}: {run.title}", run_id=run.id
        )
        assert run.branch_name is not None
        worktree = await manager.worktrees.create(run.id, run.branch_name, snapshot.commit_sha)
        await manager.update(run.id, worktree_path=str(worktree), base_snapshot_id=snapshot.id)
        await self.emit(
            EventType.GIT_BRANCH_CREATED,
            f"Branch {run.branch_name}",
            GitBranchCreated(
                branch=run.branch_name, base=snapshot.commit_sha, worktree_path=str(worktree)
            ),
            message=f"worktree {worktree}",
        )
        return worktree, snapshot.commit_sha

    async def _provider(self, run: Run) -> Any:
        from ..agents.providers.registry import create_provider

        return create_provider(
            run.provider,
            self.services.settings,
            model=run.model,
            workspace=self.services.root,
            store=self.services.store,
        )

    def _search(self, run: Run) -> Any:
        index = getattr(self.services, "index", None)
        return None if index is None else index.search

    async def _work_with_tools(self, run: Run, provider: Any, worktree: Any) -> LoopResult:
        role = ROLES[run.agent]
        toolbox = ToolBox(
            run_id=run.id,
            worktree=worktree,
            emit=self.emit,
            on_file_changed=lambda path, action: self._propose(run, path, action),
            search=self._search(run),
            protected=protected_files(self.services.root, self.services.settings),
        )
        commands = self.services.commands
        checkpoints = self.manager.checkpoints

        async def ask_user(question: str, choices: list[str]) -> str:
            return await self.ask(question, choices, None)

        async def run_command(command: str, timeout_s: float | None, read_only: bool) -> str:
            current = await self.manager.get(run.id)
            before = await checkpoints.tree(run.id, worktree) if read_only else None
            outcome = await commands.execute(
                current, command, timeout_s=timeout_s, origin="agent", ask=ask_user
            )
            result = str(outcome.tool_result)
            if before is not None and (
                undone := await checkpoints.put_back(run.id, worktree, before)
            ):
                result += (
                    "\n[plan mode: DevFactory put back what this command changed: "
                    + ", ".join(undone[:10])
                    + "]"
                )
            return result

        setup: ChatSetup = await prepare_chat(
            handle=self,
            run=run,
            role=role,
            worktree=worktree,
            settings=self.services.settings,
            store=self.services.store,
            project_id=self.services.project.id,
            search=self._search(run),
        )
        mcp = self._mcp_tools(worktree, ask_user)
        loop = AgentLoop(
            handle=self,
            provider=ExhaustionPauser(provider, self),
            role=role,
            tools=toolbox,
            run_command=run_command if commands is not None else None,
            max_steps=run.metadata.max_steps or self.services.settings.max_steps,
            system_prompt=setup.system_prompt,
            rules=setup.rules,
            limit=setup.limit,
            extra_tools=mcp,
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

    def _mcp_tools(self, worktree: Any, ask: Any) -> Any:
        """The tools of the MCP servers in the settings, for this run (or None)."""
        servers = self.services.settings.mcp.servers
        if not servers:
            return None
        from ..agents.mcp_tools import McpTools  # the mcp SDK loads only when a run uses it

        return McpTools(servers, cwd=worktree, emit=self.emit, ask=ask)

    async def _propose(self, run: Run, path: str, action: ChangeAction) -> int | None:
        review = self.services.review
        if review is None:
            return None
        change: Change | None = await review.propose(await self.manager.get(run.id), path)
        return None if change is None else change.id

    async def _finish(self, run: Run, worktree: Any, base: str, result: LoopResult) -> None:
        manager = self.manager
        changed = await manager.worktrees.changed_paths(run.id, base)
        files_changed = plural(len(changed), "file") + " changed"
        await self.emit(
            EventType.GIT_STATUS_CHECKED,
            f"Worktree checked: {files_changed}",
            GitStatusChecked(changed_files=sorted(changed)),
        )
        for path in changed:
            await self._propose(run, path, ChangeAction.UPDATE)
        insertions, deletions = await manager.worktrees.line_counts(run.id, base, set(changed))
        await self.emit(
            EventType.GIT_DIFF_CREATED,
            files_changed,
            GitDiffCreated(files=sorted(changed), insertions=insertions, deletions=deletions),
            message=f"+{insertions} -{deletions}",
        )
        await manager.snapshots.create(
            SnapshotType.FINAL, f"run {run.id} result", run_id=run.id, worktree=worktree
        )
        executions = await self.services.store.commands.list(run.id)
        tests = next((e.test_counts for e in reversed(executions) if e.test_counts), None)
        current = await manager.get(run.id)
        usage = current.metadata.usage
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
        review = self.services.review
        if review is not None:
            await review.run_finishing(await manager.get(run.id), result.summary, sorted(changed))
        await manager.transition(run.id, S.COMPLETED)
        if review is not None:
            await review.run_completed(await manager.get(run.id))
