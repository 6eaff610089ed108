"""Talking to a run: ``devfactory/runs/create`` with attachments, ``devfactory/runs/message``
and ``devfactory/runs/rewind``.

A message to a working run is a directive, to a waiting run the answer to its question; to a
run that stopped (completed, failed, cancelled) it is the next turn of the same conversation,
in the same worktree: it is recorded, the iteration counter moves and the run is queued
again. A rewind puts the worktree back to a step's checkpoint, cuts the conversation there
(a ``run_rewound`` event: the conversation is replayed from the events) and withdraws the
proposed changes the later steps made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from devfactory.protocol.context import ContextItem
from devfactory.protocol.enums import (
    EventType,
    HitlAction,
    HitlStatus,
    RunControl,
    RunStatus,
)
from devfactory.protocol.events import (
    AttachmentRef,
    ContextLoaded,
    ContextTruncated,
    RunRewound,
    UserPrompt,
)
from devfactory.protocol.hitl import HitlRespondParams
from devfactory.protocol.runs import Run, RunCreateParams, RunRewindResult

from ..agents.attachments import (
    Attachment,
    AttachmentError,
    FindSymbol,
    render,
    resolve_all,
    workspace_reader,
)
from ..agents.providers.base import Message
from ..errors import InvalidParams, InvalidState
from ..workspace.restore import RestoreRefused
from .conversation import load_conversation, to_payload
from .manager import require

if TYPE_CHECKING:
    from .manager import RunManager

S = RunStatus
OpenText = Callable[[str], str | None]
"""The text of an open editor buffer by workspace-relative path (None: not open)."""


class RunTalk:
    """Messages to runs and rewinds; the manager owns the status machine."""

    def __init__(
        self, manager: RunManager, *, open_text: OpenText, find_symbol: FindSymbol
    ) -> None:
        self.manager = manager
        self.context = manager.context
        self.open_text = open_text
        self.find_symbol = find_symbol

    async def create(self, params: RunCreateParams) -> Run:
        """Create the run with its task message: the prompt and what it attaches (an
        attachment that cannot be resolved refuses the run, naming it)."""
        attachments = await self._attachments(params.prompt, params.context)
        run = await self.manager.create(
            params, first_message=self._with(params.prompt.strip(), attachments)
        )
        if attachments:
            await self._listed(run.id, attachments)
        return run

    async def message(self, run_id: int, text: str, context: list[ContextItem]) -> Run:
        manager = self.manager
        run = await manager.get(run_id)
        text = text.strip()
        if not text:
            raise InvalidParams("text must not be empty: write what the agent should do next")
        require(run, RunControl.MESSAGE)
        attachments = await self._attachments(text, context)
        content = self._with(text, attachments)
        if run.status is S.WAITING_FOR_USER:
            return await self._answer(run, content)
        if not run.status.is_terminal:
            return await manager.directive(run_id, content.content)
        stored = await load_conversation(manager.store, self.context.project_id, run_id)
        iteration = run.metadata.iteration + 1
        await self.context.events.emit(
            run_id,
            EventType.USER_PROMPT,
            f"Follow-up (iteration {iteration})",
            UserPrompt(prompt=text, iteration=iteration, follow_up=True),
            message=text,
        )
        if attachments:
            await self._listed(run_id, attachments)
        await self.context.events.emit(
            run_id,
            EventType.CONVERSATION_MESSAGE_ADDED,
            "User message",
            to_payload(stored.next_step, content),
        )
        await self.context.proposals.superseded(run, "superseded by a follow-up")
        return await manager.send_back(run_id, None, reason="a follow-up message")

    async def _answer(self, run: Run, content: Message) -> Run:
        """A waiting run's question (or plan) gets the message as its answer."""
        store = self.manager.store
        pending = await store.hitl.list(self.context.project_id, run.id, HitlStatus.PENDING)
        if not pending:
            raise InvalidState(f"run {run.id} waits for nothing any more; try again")
        await self.manager.respond(
            HitlRespondParams(
                request_id=pending[-1].id, action=HitlAction.ANSWER, text=content.content
            )
        )
        return await self.manager.get(run.id)

    async def rewind(self, run_id: int, step: int) -> RunRewindResult:
        manager = self.manager
        run = await manager.get(run_id)
        require(run, RunControl.REWIND)
        if run.base_snapshot_id is None or not run.worktree_path:
            raise InvalidState(f"run {run_id} never had a worktree; there is nothing to rewind")
        if not 0 <= step <= run.current_step:
            raise InvalidParams(
                f"step must be between 0 and {run.current_step} (the run's last step), got {step}"
            )
        context = self.context
        base = await context.snapshots.get(run.base_snapshot_id)
        worktree = context.worktrees.path_for(run_id)
        try:
            checkpoint, files = await context.checkpoints.rewind(
                run_id, worktree, step, base.commit_sha
            )
        except RestoreRefused as exc:
            raise InvalidState(f"run {run_id} cannot be rewound: {exc}") from None
        stored = await load_conversation(manager.store, context.project_id, run_id)
        await self.context.events.emit(
            run_id,
            EventType.RUN_REWOUND,
            f"Rewound to step {step}",
            RunRewound(
                step=step,
                commit=checkpoint.commit,
                files=files,
                messages_removed=stored.after(step),
            ),
            message=", ".join(files[:5]) or "no file changed",
        )
        run = await manager.update(run_id, current_step=step)
        for path in files:  # what the later steps proposed goes, what is left stays
            await context.proposals.propose(run, base.commit_sha, path)
        return RunRewindResult(run=run, step=step, files=files)

    # -- attachments ---------------------------------------------------------------------------

    async def _attachments(self, text: str, context: list[ContextItem]) -> list[Attachment]:
        root = self.context.root
        try:
            return await resolve_all(
                text,
                context,
                root,
                workspace_reader(root, self.open_text),
                self.find_symbol,
                self.context.settings.agent.attachment_max_chars,
            )
        except AttachmentError as exc:
            raise InvalidParams(str(exc)) from None

    @staticmethod
    def _with(text: str, attachments: list[Attachment]) -> Message:
        """The user's message with its attachments (and the files they name, for rules)."""
        attached = render(attachments)
        return Message(
            role="user",
            content=f"{text}\n\n{attached}" if attached else text,
            paths=list(dict.fromkeys(a.path for a in attachments)),
        )

    async def _listed(self, run_id: int, attachments: list[Attachment]) -> None:
        await self.context.events.emit(
            run_id,
            EventType.AI_CONTEXT_LOADED,
            "Attached: " + ", ".join(a.label for a in attachments),
            ContextLoaded(
                files=list(dict.fromkeys(a.path for a in attachments)),
                attachments=[
                    AttachmentRef(
                        kind=a.kind,
                        path=a.path,
                        start_line=a.start_line if a.end_line else None,
                        end_line=a.end_line,
                        note=a.note,
                        chars=len(a.text),
                        truncated=a.truncated,
                    )
                    for a in attachments
                ],
            ),
        )
        if cut := [a for a in attachments if a.truncated]:
            details = [
                f"{a.label}: {len(a.text)} of {a.original_chars} characters kept" for a in cut
            ]
            await self.context.events.emit(
                run_id,
                EventType.CONTEXT_TRUNCATED,
                "Attachments cut to agent.attachmentMaxChars",
                ContextTruncated(what="attachments", details=details),
                message="\n".join(details),
            )
