"""``RunManager``: creating and controlling runs, the scheduler, and crash recovery.

Every status change goes through :meth:`RunManager.transition`, the one choke point that
checks the transition table, persists (compare-and-set, so two daemons never both claim a
run) together with its ``run_status_changed`` event in one transaction, and notifies clients;
creation writes the run and its first status event in one transaction too. Sending a
completed run back to work (what review's request-changes does) is :meth:`send_back`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from devfactory.protocol.enums import (
    RUN_CONTROLS,
    EventType,
    HitlStatus,
    RunControl,
    RunStatus,
    Severity,
    statuses_allowing,
)
from devfactory.protocol.events import DirectiveReceived, Event, RunStatusChanged
from devfactory.protocol.hitl import HitlRequest, HitlRespondParams
from devfactory.protocol.methods import Notifications
from devfactory.protocol.runs import Run, RunChangedNotification, RunCreateParams, RunMetadata
from devfactory.storage.clock import now_iso
from devfactory.storage.ports import NewRun

from ..errors import InvalidParams, InvalidState, NotFound
from ..shielding import finish_despite_cancel, finish_then_cancel
from ..workspace.worktrees import branch_name
from .lookup import project_run
from .new_runs import adopted_run, requested_run
from .segment import for_workers
from .transitions import can_transition

if TYPE_CHECKING:
    from devfactory.storage import Store

    from ..agents.loop import ExtraTools
    from ..agents.providers.base import Message
    from ..ports import Spawn
    from .context import RunContext
    from .ownership import DaemonLock
    from .remote import RemoteRuns
    from .segment import Segment
    from .worker import RunWorker

log = logging.getLogger(__name__)

S = RunStatus
_STATUS_SEVERITY = {
    S.COMPLETED: Severity.SUCCESS,
    S.FAILED: Severity.ERROR,
    S.CANCELLED: Severity.WARNING,
}


class RunManager:
    def __init__(
        self, context: RunContext, *, lock: DaemonLock, spawn: Spawn, own_runs_only: bool = False
    ) -> None:
        self.context = context
        self.lock = lock
        """This daemon's identity: the owner it claims runs as, and how it tells dead ones."""
        self.spawn = spawn
        self.workers: dict[int, RunWorker] = {}
        """Live runs driven by this daemon."""
        self.run_tools: dict[int, ExtraTools] = {}
        """Tools a run gets on top of its role's (an initiative's task: the factory tools)."""
        self.own_runs_only = own_runs_only
        """The client is short-lived (the CLI): start only the runs it queues through this
        daemon, never ones queued by another client (they would die when it exits)."""
        self.queued_here: set[int] = set()
        """Runs queued through this daemon (created, started or sent back by a review)."""
        self.shutting_down = False
        self._transitions = asyncio.Lock()
        self._scheduling = asyncio.Lock()

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def dispatching(self) -> bool:
        """Team workers execute this project's runs (``team.workers`` on a store with a run
        queue): queued runs are theirs, not this daemon's, and leases replace crash recovery."""
        return self.context.settings.team.workers and self.store.run_queue is not None

    def on_workers(self, run: Run) -> bool:
        """Whether a team worker executes ``run`` (not this daemon, nor another one)."""
        return self.dispatching and for_workers(run)

    # -- queries -------------------------------------------------------------------------------

    async def get(self, run_id: int) -> Run:
        return await project_run(self.store, self.context.project_id, run_id)

    async def list_runs(self, statuses: list[RunStatus] | None, limit: int) -> list[Run]:
        """Newest first; crash recovery has run (no run claims a daemon that died)."""
        return await self.store.runs.list(self.context.project_id, statuses, limit)

    # -- the choke point -----------------------------------------------------------------------

    async def transition(
        self, run_id: int, target: RunStatus, *, reason: str | None = None, **fields: Any
    ) -> Run:
        """Move a run to ``target`` if the table allows it; persist, record, notify.

        The status and its ``run_status_changed`` event are one transaction. A cancellation of
        the caller (Stop) lets the change finish, then goes on.
        """
        return await finish_then_cancel(self._transition(run_id, target, reason, fields))

    async def _transition(
        self, run_id: int, target: RunStatus, reason: str | None, fields: dict[str, Any]
    ) -> Run:
        events = self.context.events
        async with self._transitions:
            run = await self.get(run_id)
            if not can_transition(run.status, target):
                raise InvalidState(
                    f"run {run_id} is {run.status.value}; it cannot become {target.value}"
                )
            now = now_iso()
            if target is S.RUNNING and run.started_at is None:
                fields.setdefault("started_at", now)
            if target is S.QUEUED:
                fields.setdefault("queued_at", now)
                self.queued_here.add(run_id)
            if target.is_terminal:
                fields.setdefault("completed_at", now)
            if target is S.FAILED:
                fields.setdefault("failed_reason", reason)
            event = events.new_event(
                run_id,
                EventType.RUN_STATUS_CHANGED,
                f"Run {target.value.replace('_', ' ')}",
                RunStatusChanged(from_status=run.status, to_status=target, reason=reason),
                message=reason or "",
                severity=_STATUS_SEVERITY.get(target, Severity.INFO),
            )
            written = await events.record(
                lambda: self.store.runs.transition(
                    run_id, expect_status=run.status, event=event, status=target, **fields
                )
            )
            if written is None:
                raise InvalidState(f"run {run_id} changed status meanwhile; try again")
        updated, _ = written
        self.notify(updated)
        return updated

    def notify(self, run: Run) -> None:
        self.context.notify(Notifications.RUN_CHANGED, RunChangedNotification(run=run))

    async def update(self, run_id: int, **fields: Any) -> Run:
        """Change non-status fields (step, metadata) and tell clients."""
        if "status" in fields:
            raise ValueError("a run's status changes through transition(), with its event")
        run = await self.store.runs.update(run_id, **fields)
        assert run is not None
        self.notify(run)
        return run

    # -- controls ------------------------------------------------------------------------------

    async def create(
        self,
        params: RunCreateParams,
        *,
        retry_of: Run | None = None,
        metadata: RunMetadata | None = None,
        first_message: Message | None = None,
    ) -> Run:
        """A new run (queued unless ``params.start`` is false); ``metadata`` carries what the
        wire does not (an initiative's base commit); ``first_message`` (the task with its
        attachments) starts its conversation before the run can start."""
        new = requested_run(
            params,
            self.context.settings,
            self.context.project_id,
            retry_of=retry_of,
            metadata=metadata,
        )
        # From here on the run exists and is scheduled, even if the request is cancelled.
        return await finish_despite_cancel(self._insert(new, first_message))

    async def adopt(
        self,
        *,
        title: str,
        prompt: str,
        worktree: str,
        branch: str,
        base_snapshot_id: int,
        metadata: RunMetadata,
    ) -> Run:
        """A completed run for work done elsewhere (an initiative's integration branch), so
        review proposes and applies it like any run's. No agent ever drives it."""
        events = self.context.events
        new = adopted_run(title, prompt, metadata, self.context.settings, self.context.project_id)
        event = events.new_event(
            None,
            EventType.RUN_STATUS_CHANGED,
            "Run completed",
            RunStatusChanged(from_status=None, to_status=S.COMPLETED, reason="adopted"),
            message=title,
            severity=Severity.SUCCESS,
        )
        written = await events.record(
            lambda: self.store.runs.create_recorded(new, branch=lambda _: branch, event=event)
        )
        assert written is not None
        now = now_iso()
        return await self.update(
            written[0].id,
            worktree_path=worktree,
            base_snapshot_id=base_snapshot_id,
            started_at=now,
            completed_at=now,
        )

    async def _insert(self, new: NewRun, first_message: Message | None) -> Run:
        events = self.context.events
        event = events.new_event(
            None,
            EventType.RUN_STATUS_CHANGED,
            f"Run {new.status.value}",
            RunStatusChanged(from_status=None, to_status=new.status),
            message=new.title,
        )
        written = await events.record(
            lambda: self.store.runs.create_recorded(
                new, branch=lambda run_id: branch_name(run_id, new.title), event=event
            )
        )
        assert written is not None
        run, _ = written
        self.notify(run)
        if first_message is not None:
            from .conversation import to_payload

            await self.context.events.emit(
                run.id,
                EventType.CONVERSATION_MESSAGE_ADDED,
                "User message",
                to_payload(0, first_message),
            )
        if run.status is S.QUEUED:
            self.queued_here.add(run.id)
            await self.schedule()
        return await self.get(run.id)

    async def start(self, run_id: int) -> Run:
        return await finish_despite_cancel(self._start(run_id))

    async def _start(self, run_id: int) -> Run:
        require(await self.get(run_id), RunControl.START)
        await self.transition(run_id, S.QUEUED)
        await self.schedule()
        return await self.get(run_id)

    @property
    def remote(self) -> RemoteRuns | None:
        """Controls of runs team workers drive (None: this daemon drives every run)."""
        leases = self.store.leases
        if not self.dispatching or leases is None:
            return None
        from .remote import RemoteRuns

        return RemoteRuns(self.context, self, leases)

    async def pause(self, run_id: int) -> Run:
        run = await self.get(run_id)
        require(run, RunControl.PAUSE)
        if self.on_workers(run) and (remote := self.remote) is not None:
            return await remote.pause(run)
        worker = _driven(run, self.workers.get(run_id))
        worker.request_pause()
        return run

    async def resume(self, run_id: int) -> Run:
        return await finish_despite_cancel(self._resume(run_id))

    async def _resume(self, run_id: int) -> Run:
        run = await self.get(run_id)
        require(run, RunControl.RESUME)
        if self.on_workers(run) and (remote := self.remote) is not None:
            return await remote.resume(run)
        worker = _driven(run, self.workers.get(run_id))
        metadata = run.metadata
        metadata.pause_reason = None
        run = await self.transition(run_id, S.RUNNING, metadata=metadata)
        worker.resume(run)
        return run

    async def cancel(self, run_id: int) -> Run:
        """Stop the run; once begun this goes to the end even if the request is cancelled
        (a run whose worker stopped must not stay ``running``)."""
        return await finish_despite_cancel(self._cancel(run_id))

    async def _cancel(self, run_id: int) -> Run:
        run = await self.get(run_id)
        require(run, RunControl.CANCEL)
        # Stop the worker first: it interrupts the model call or kills the command at once,
        # and what it records about that comes before the run's final status event.
        worker = self.workers.get(run_id)
        if worker is not None:
            await worker.stop()
        elif self.on_workers(run) and (remote := self.remote) is not None:
            await remote.cancel(run_id)  # the worker driving it is fenced off
        if self.context.commands is not None:  # commands the user started in this run
            await self.context.commands.kill_run(run_id)
        await self.store.hitl.cancel_pending(run_id)
        return await self.transition(run_id, S.CANCELLED, reason="cancelled by the user")

    async def retry(self, run_id: int) -> Run:
        run = await self.get(run_id)
        require(run, RunControl.RETRY)
        params = RunCreateParams(
            prompt=run.prompt,
            title=run.title,
            agent=run.agent,
            provider=run.provider,
            model=run.model,
            mode=run.mode,
            rag=run.metadata.rag,
            safe_mode=run.metadata.safe_mode,
            max_steps=run.metadata.max_steps,
            plan=run.metadata.plan_mode,
            max_cost_usd=run.metadata.max_cost_usd,
            max_tokens=run.metadata.max_tokens,
        )
        return await self.create(params, retry_of=run)

    async def directive(self, run_id: int, text: str) -> Run:
        run = await self.get(run_id)
        if not text.strip():
            raise InvalidParams("text must not be empty")
        require(run, RunControl.DIRECTIVE)
        if self.on_workers(run) and (remote := self.remote) is not None:
            await remote.directive(run, text.strip())
        else:
            _driven(run, self.workers.get(run_id)).directives.append(text.strip())
        await self.context.events.emit(
            run_id,
            EventType.DIRECTIVE_RECEIVED,
            "Message from the user",
            DirectiveReceived(text=text.strip()),
            message=text.strip(),
        )
        return run

    async def send_back(
        self, run_id: int, feedback: str | None, *, reason: str = "review requested changes"
    ) -> Run:
        """Send a finished run back to work: its next iteration is queued on the same
        worktree, with ``feedback`` (review's request-changes) in its prompt, or none (a
        follow-up message, already in its conversation: ``talk.py``)."""
        return await finish_despite_cancel(self._send_back(run_id, feedback, reason))

    async def _send_back(self, run_id: int, feedback: str | None, reason: str) -> Run:
        metadata = (await self.get(run_id)).metadata
        metadata.iteration += 1
        metadata.followup = feedback
        metadata.pause_reason = None
        await self.transition(run_id, S.QUEUED, reason=reason, metadata=metadata)
        await self.schedule()
        return await self.get(run_id)

    async def respond(self, params: HitlRespondParams) -> HitlRequest:
        return await finish_despite_cancel(self._respond(params))

    async def _respond(self, params: HitlRespondParams) -> HitlRequest:
        request = await self.store.hitl.get(params.request_id)
        if request is None:
            raise NotFound("question", params.request_id)
        run = await self.get(request.run_id)
        if request.status is not HitlStatus.PENDING:
            raise InvalidState(f"question {request.id} is already {request.status.value}")
        worker = self.workers.get(run.id)
        if worker is None and self.on_workers(run) and (remote := self.remote) is not None:
            return await remote.respond(request, params)
        if worker is None or not worker.is_waiting_for(request.id):
            raise InvalidState(
                f"run {run.id} is {run.status.value} and no longer waits for question {request.id}"
            )
        answered = await self.store.hitl.answer(request.id, params.action, params.text)
        worker.answer(answered)
        return answered

    def on_foreign_event(self, event: Event) -> None:
        """Another daemon changed a run's status: tell our client about the new record."""
        if event.type is EventType.RUN_STATUS_CHANGED and event.run_id is not None:
            self.spawn(self._notify_fresh(event.run_id), name="foreign-run")

    async def _notify_fresh(self, run_id: int) -> None:
        run = await self.store.runs.get(run_id)
        if run is not None:
            self.notify(run)

    # -- scheduling and recovery ---------------------------------------------------------------

    async def schedule(self) -> None:
        """Start queued runs, first in first out, while fewer than N runs are live here."""
        async with self._scheduling:
            if self.shutting_down:
                return
            free = self.context.settings.max_concurrent_runs - len(self.workers)
            if free <= 0:
                return
            queued = await self.store.runs.queued(self.context.project_id)
            if self.own_runs_only:
                queued = [run for run in queued if run.id in self.queued_here]
            queued = [run for run in queued if not self.on_workers(run)]
            for run in queued:
                if free <= 0:
                    break
                try:
                    claimed = await self.transition(run.id, S.RUNNING, owner=self.lock.name)
                except InvalidState:
                    continue  # another daemon claimed it first: try the next one
                free -= 1
                from .worker import RunWorker  # the agent loop loads with the first run

                worker = RunWorker(
                    claimed,
                    self.context,
                    self,
                    self._worker_finished,
                    extra_tools=self.run_tools.get(run.id),
                )
                self.workers[run.id] = worker
                worker.task = self.spawn(worker.main(), name=f"run-{run.id}")

    def drive(self, run: Run, segment: Segment) -> RunWorker:
        """Drive ``run`` here as a team worker's segment (the worker holds its lease)."""
        from .worker import RunWorker

        worker = RunWorker(run, self.context, self, self._worker_finished, segment=segment)
        self.workers[run.id] = worker
        worker.task = self.spawn(worker.main(), name=f"run-{run.id}")
        return worker

    def _worker_finished(self, worker: RunWorker) -> None:
        self.workers.pop(worker.run_id, None)
        self.run_tools.pop(worker.run_id, None)
        if not self.shutting_down:
            self.spawn(self.schedule(), name="schedule")

    async def recover(self) -> None:
        """Runs whose daemon died (even under kill -9) must not claim to be running (team
        workers' runs: their leases expire and another worker takes them over)."""
        stranded = await self.list_runs([S.RUNNING, S.PAUSED, S.WAITING_FOR_USER], limit=10_000)
        for run in stranded:
            if self.on_workers(run):
                continue
            owner = await self.store.runs.owner(run.id)
            if self.lock.is_alive(owner):
                continue
            pid = f" (pid {self.lock.pid_of(owner)})" if owner else ""
            await self.store.hitl.cancel_pending(run.id)
            await self.transition(
                run.id,
                S.FAILED,
                reason=f"the DevFactory daemon{pid} stopped while the run was "
                f"{run.status.value}; its worktree and events are kept — retry to continue",
            )

    async def shutdown(self) -> None:
        """Stop every live run: they are marked failed as the daemon stops."""
        self.shutting_down = True
        await asyncio.gather(
            *(w.stop(daemon_stopping=True) for w in list(self.workers.values())),
            return_exceptions=True,
        )


def require(run: Run, control: RunControl) -> None:
    """Refuse ``control`` unless ``RUN_CONTROLS`` allows it in the run's current status."""
    if control in RUN_CONTROLS[run.status]:
        return
    if control is RunControl.CANCEL:
        raise InvalidState(f"run {run.id} is already {run.status.value}")
    *others, last = (status.value for status in statuses_allowing(control))
    allowed = f"{', '.join(others)} or {last}" if others else last
    raise InvalidState(f"run {run.id} is {run.status.value}; {control.value} needs a {allowed} run")


def _driven(run: Run, worker: RunWorker | None) -> RunWorker:
    """The worker of a run this daemon drives (another daemon may drive it)."""
    if worker is None:
        raise InvalidState(f"run {run.id} is {run.status.value} in another DevFactory daemon")
    return worker
