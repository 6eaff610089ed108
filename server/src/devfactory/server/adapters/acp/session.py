"""One ACP session: its prompt turns, drive a DevFactory run through the daemon.

A turn creates the session's run (or sends a completed one back to work with the new
prompt), streams the run's steps as ``session/update`` while it works, turns its questions
into ``session/request_permission``, and ends when the run does: then each proposed change
is offered with its diff, and the ones the user keeps are applied through
``devfactory/changes/approve`` (a ``pre_apply`` snapshot first, so undoable); a change of
several hunks may be decided hunk by hunk, each asked with its own diff. In yolo mode
they are applied without asking, through the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

from acp import RequestError, update_tool_call
from acp.helpers import update_current_mode
from acp.interfaces import Client
from acp.schema import (
    ClientCapabilities,
    EmbeddedResourceContentBlock,
    PermissionOption,
    ResourceContentBlock,
    StopReason,
    TextContentBlock,
    TextResourceContents,
    ToolCallUpdate,
)

from devfactory.protocol.changes import (
    Change,
    ChangeDecisionParams,
    ChangeDecisionResult,
    ChangeDiff,
    ChangeDiffParams,
    ChangeList,
    ChangesListParams,
    Hunk,
    RequestChangesParams,
)
from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import ChangeStatus, ExecutionMode, RunStatus
from devfactory.protocol.errors import RpcError
from devfactory.protocol.hitl import HitlRequest, HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunCreateParams, RunDirectiveParams, RunIdParams

from ...cli.follow import replay
from .files import EditorFiles
from .permissions import (
    APPLY,
    APPLY_ALL,
    APPLY_HUNK,
    BY_HUNK,
    HUNK_OPTIONS,
    REJECT,
    REJECT_HUNK,
    change_options,
    chosen,
    question_answer,
    question_options,
)
from .store import SessionRecord, SessionStore, Turn
from .updates import (
    CHANGE_KINDS,
    RunUpdates,
    Update,
    change_call_id,
    hunks_title,
    text_content,
)

log = logging.getLogger(__name__)
N = Notifications


class AcpSession:
    """An ACP session bound to a daemon; its runs are listed in its ``SessionRecord``."""

    def __init__(
        self,
        session_id: str,
        *,
        daemon: DaemonClient,
        conn: Client,
        capabilities: ClientCapabilities,
        store: SessionStore,
        record: SessionRecord,
    ) -> None:
        self.id = session_id
        self.daemon = daemon
        self.conn = conn
        self.store = store
        self.record = record
        self.files = EditorFiles(daemon.root, session_id, conn, capabilities)
        self.working = False
        """A prompt turn is in progress (one at a time)."""
        self.cancelled = False
        self._questions: set[asyncio.Task[None]] = set()

    @property
    def root(self) -> Path:
        return self.daemon.root

    async def send(self, update: Update) -> None:
        await self.conn.session_update(session_id=self.id, update=update)

    async def _diff(self, change_id: int) -> ChangeDiff | None:
        try:
            diff: ChangeDiff = await self.daemon.call(
                Requests.CHANGES_DIFF, ChangeDiffParams(change_id=change_id)
            )
            return diff
        except RpcError:
            return None

    # -- mode ----------------------------------------------------------------------------------

    async def set_mode(self, mode: ExecutionMode, *, announce: bool = False) -> None:
        self.record.mode = mode
        self.store.save(self.id, self.record)
        if announce:
            await self.send(update_current_mode(mode.value))

    # -- history ----------------------------------------------------------------------------------

    async def replay(self) -> None:
        """Stream the whole session again (``session/load``), from the daemon's events."""
        updates = RunUpdates(self.root, self._diff, live=False).with_prompts(self.record.prompt_of)
        for run_id in dict.fromkeys(turn.run_id for turn in self.record.turns):
            for event in await replay(self.daemon, run_id):
                for update in await updates.updates(event):
                    await self.send(update)

    # -- a prompt turn ---------------------------------------------------------------------------

    async def prompt(self, blocks: Sequence[Any]) -> StopReason:
        self.working = True
        try:
            return await self._turn(blocks)
        finally:
            self.working = False

    async def _turn(self, blocks: Sequence[Any]) -> StopReason:
        text = await self.prompt_text(blocks)
        if not text.strip():
            raise RequestError(-32602, "the prompt is empty: describe the task for the agent")
        self.cancelled = False
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        unsubscribe = self.daemon.on_notification(lambda m, p: queue.put_nowait((m, p)))
        updates = RunUpdates(self.root, self._diff, live=True)
        try:
            run = await self._start(text)
            run = await self._follow(run, queue, updates)
        finally:
            unsubscribe()
        if run.status is RunStatus.COMPLETED and not self.cancelled:
            if (plan := updates.finished_plan()) is not None:
                await self.send(plan)
            await self._decide_changes(run, updates)
        return "cancelled" if self.cancelled or run.status is RunStatus.CANCELLED else "end_turn"

    async def prompt_text(self, blocks: Sequence[Any]) -> str:
        """The task: text as typed, files the user attached (their text as open in the editor
        when it can tell us, else named for the agent to read)."""
        parts: list[str] = []
        for block in blocks:
            if isinstance(block, TextContentBlock):
                parts.append(block.text)
            elif isinstance(block, ResourceContentBlock):
                parts.append(await self.files.attached(block.uri, block.name))
            elif isinstance(block, EmbeddedResourceContentBlock) and isinstance(
                block.resource, TextResourceContents
            ):
                parts.append(self.files.embedded(block.resource.uri, block.resource.text))
        return "\n\n".join(part for part in parts if part)

    async def _start(self, text: str) -> Run:
        """The run this prompt goes to: a new one, or the session's, sent back to work."""
        last: Run | None = None
        if self.record.run_id is not None:
            last = await self.daemon.call(Requests.RUNS_GET, RunIdParams(run_id=self.record.run_id))
        if last is None or last.status in (RunStatus.FAILED, RunStatus.CANCELLED):
            # Always review: this adapter decides on the changes (yolo applies them unasked).
            run: Run = await self.daemon.call(
                Requests.RUNS_CREATE, RunCreateParams(prompt=text, mode=ExecutionMode.REVIEW)
            )
        elif last.status is RunStatus.COMPLETED:
            run = await self.daemon.call(
                Requests.CHANGES_REQUEST_CHANGES, RequestChangesParams(run_id=last.id, note=text)
            )
        else:
            run = await self.daemon.call(
                Requests.RUNS_DIRECTIVE, RunDirectiveParams(run_id=last.id, text=text)
            )
        self.record.turns.append(Turn(run_id=run.id, iteration=run.metadata.iteration, prompt=text))
        self.store.save(self.id, self.record)
        return run

    async def _follow(
        self, run: Run, queue: asyncio.Queue[tuple[str, Any]], updates: RunUpdates
    ) -> Run:
        """Relay the run's notifications until it reaches a terminal status."""
        while True:
            method, params = await queue.get()
            if method == N.EVENT and params.event.run_id == run.id:
                for update in await updates.updates(params.event):
                    await self.send(update)
            elif method == N.STREAM and params.run_id == run.id:
                await self.send(updates.stream(params.delta))
            elif method == N.QUESTION and params.request.run_id == run.id:
                task = asyncio.create_task(self._ask(params.request))
                self._questions.add(task)
                task.add_done_callback(self._questions.discard)
            elif (
                method == N.RUN_CHANGED
                and params.run.id == run.id
                and params.run.status.is_terminal
            ):
                finished: Run = params.run
                return finished

    async def _ask(self, request: HitlRequest) -> None:
        """A run's question as a permission request; the chosen option is the answer."""
        call_id = f"question-{request.id}"
        tool_call = ToolCallUpdate(
            tool_call_id=call_id,
            title=request.question,
            kind="other",
            status="pending",
            content=[text_content(request.question)],
        )
        try:
            response = await self.conn.request_permission(
                session_id=self.id, tool_call=tool_call, options=question_options(request)
            )
            outcome = response.outcome
        except Exception:  # the client failed to ask: answer safely rather than hang the run
            log.warning("session %s: request_permission failed", self.id, exc_info=True)
            outcome = None
        if self.cancelled:
            return  # cancelling the run cancels its question
        answer = question_answer(request, outcome)
        try:
            await self.daemon.call(
                Requests.HITL_RESPOND, HitlRespondParams(request_id=request.id, text=answer)
            )
        except RpcError as exc:  # answered elsewhere, or the run ended meanwhile
            log.info("session %s: question %d: %s", self.id, request.id, exc.message)
            return
        await self.send(
            update_tool_call(call_id, status="completed", content=[text_content(answer)])
        )

    async def cancel(self) -> None:
        """``session/cancel``: stop the run now (its commands are killed)."""
        self.cancelled = True
        run_id = self.record.run_id
        if run_id is None or not self.working:
            return
        with contextlib.suppress(RpcError):  # already finished
            await self.daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=run_id))

    # -- the changes, at the end of a turn ----------------------------------------------------

    async def _decide_changes(self, run: Run, updates: RunUpdates) -> None:
        found: ChangeList = await self.daemon.call(
            Requests.CHANGES_LIST, ChangesListParams(run_id=run.id, status=ChangeStatus.PROPOSED)
        )
        for change in found.changes:
            if self.cancelled:
                return
            if self.record.mode is ExecutionMode.YOLO:
                decision: str | None = APPLY
            else:
                decision = await self._ask_change(change, updates)
            if decision == APPLY_ALL:
                await self.set_mode(ExecutionMode.YOLO, announce=True)
            if decision in (APPLY, APPLY_ALL):
                applied = await self._apply(change)
                title = _APPLIED_TITLES[applied.state].format(what=change.path)
                await self._report(change, updates, title, ok=applied.ok, note=applied.note)
            elif decision == REJECT:
                await self._reject(change)
                await self._report(change, updates, f"Rejected: {change.path}", ok=True)
            elif decision == BY_HUNK:
                await self._decide_hunks(run, change, updates)
            elif not self.cancelled:
                await self._report(
                    change, updates, f"Left for review: {change.path}", ok=True, note=_later(run)
                )

    async def _ask_change(self, change: Change, updates: RunUpdates) -> str | None:
        diff = await self._diff(change.id)
        content = None if diff is None else [updates.diff_content(diff)]
        open_hunks = len(_open_hunks(change)) if diff is not None else 0
        return await self._ask_decision(
            change_call_id(change.id),
            f"Apply the change to {change.path}?",
            change,
            updates,
            content,
            change_options(open_hunks),
        )

    async def _decide_hunks(self, run: Run, change: Change, updates: RunUpdates) -> None:
        """Each open hunk asked on its own (a tool call showing its diff alone), then the kept
        ones applied and the refused ones rejected through the daemon's per-hunk decisions."""
        diff = await self._diff(change.id)
        hunks = _open_hunks(change)
        calls = {h.index: f"{change_call_id(change.id)}-hunk-{h.index}" for h in hunks}
        kept: list[int] = []
        refused: list[int] = []
        total = len(change.hunks)
        for hunk in hunks:
            if self.cancelled or diff is None:
                break
            decision = await self._ask_decision(
                calls[hunk.index],
                f"Apply hunk {hunk.index + 1} of {total} to {change.path} (line {hunk.new_start})?",
                change,
                updates,
                [updates.hunk_content(diff, hunk.index)],
                HUNK_OPTIONS,
            )
            if decision == APPLY_HUNK:
                kept.append(hunk.index)
            elif decision == REJECT_HUNK:
                refused.append(hunk.index)
        applied = _Applied("applied", "")
        if kept:
            applied = await self._apply(change, kept)
        if refused:
            await self._reject(change, refused)
        left = [h.index for h in hunks if h.index not in kept and h.index not in refused]
        outcomes = {applied.state: kept, "rejected": refused, "left": left}
        for outcome, indexes in outcomes.items():
            for index in indexes:
                await self.send(
                    updates.call(
                        calls[index],
                        hunks_title(change.path, {outcome: [index]}),
                        CHANGE_KINDS[change.action],
                        status="completed" if outcome in _SETTLED else "failed",
                    )
                )
        notes = [applied.note] if applied.note else []
        if left and not self.cancelled:
            notes.append(_later(run))
        title = hunks_title(change.path, outcomes)
        await self._report(change, updates, title, ok=applied.ok, note=" ".join(notes))

    async def _ask_decision(
        self,
        call_id: str,
        title: str,
        change: Change,
        updates: RunUpdates,
        content: list[Any] | None,
        options: list[PermissionOption],
    ) -> str | None:
        """A pending tool call for a decision and the permission request that asks it."""
        kind = CHANGE_KINDS[change.action]
        location = [updates.location(change.path)]
        await self.send(
            updates.call(
                call_id, title, kind, status="pending", content=content, locations=location
            )
        )
        tool_call = ToolCallUpdate(
            tool_call_id=call_id, title=title, kind=kind, status="pending", content=content
        )
        try:
            response = await self.conn.request_permission(
                session_id=self.id, tool_call=tool_call, options=options
            )
        except Exception:
            log.warning("session %s: request_permission failed", self.id, exc_info=True)
            return None
        return chosen(response.outcome)

    async def _apply(self, change: Change, hunks: list[int] | None = None) -> _Applied:
        """Apply the change (or only ``hunks``) through the daemon's approve path, then give
        the editor the file as it now is on disk (merged with the user's saved edits)."""
        if await self.files.has_unsaved_edits(change.path):
            return _Applied("unsaved", UNSAVED_NOTE)
        result: ChangeDecisionResult = await self.daemon.call(
            Requests.CHANGES_APPROVE, ChangeDecisionParams(change_ids=[change.id], hunks=hunks)
        )
        if change.id not in result.applied:
            return _Applied("conflict", CONFLICT_NOTE)
        await self.files.show_applied(change.path)
        undo = f"Snapshot {result.snapshot_id} undoes this apply." if result.snapshot_id else ""
        return _Applied("applied", undo)

    async def _reject(self, change: Change, hunks: list[int] | None = None) -> None:
        await self.daemon.call(
            Requests.CHANGES_REJECT, ChangeDecisionParams(change_ids=[change.id], hunks=hunks)
        )

    async def _report(
        self, change: Change, updates: RunUpdates, title: str, *, ok: bool, note: str = ""
    ) -> None:
        content = [text_content(note)] if note else None
        await self.send(
            updates.call(
                change_call_id(change.id),
                title,
                CHANGE_KINDS[change.action],
                status="completed" if ok else "failed",
                content=content,
            )
        )


class _Applied(NamedTuple):
    """What an apply did: ``applied``, ``unsaved`` (the editor holds unsaved edits: nothing
    written) or ``conflict`` (the daemon kept the user's file); and a note for the user."""

    state: str
    note: str

    @property
    def ok(self) -> bool:
        return self.state == "applied"


UNSAVED_NOTE: Final = "Save or discard them, then apply with `devfactory approve`."
CONFLICT_NOTE: Final = "The file changed since the run started; your edits were kept."
_APPLIED_TITLES: Final = {
    "applied": "Applied: {what}",
    "unsaved": "Not applied: {what} has unsaved edits in the editor",
    "conflict": "Conflict: {what}",
}
_SETTLED: Final = frozenset({"applied", "rejected", "left"})
"""Outcomes of a hunk that are not failures (conflict and unsaved are)."""


def _later(run: Run) -> str:
    """Where a change left undecided is decided afterwards."""
    return f"Decide later with `devfactory approve {run.id}` or in the editor."


def _open_hunks(change: Change) -> list[Hunk]:
    return [hunk for hunk in change.hunks if hunk.status is ChangeStatus.PROPOSED]
