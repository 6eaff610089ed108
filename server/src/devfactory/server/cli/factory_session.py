"""Driving an initiative from the terminal (``devfactory plan``, ``devfactory initiative
--follow``): its events as a timeline, and each decision it waits for asked at the prompt —
proposals to accept, checkpoint questions, phases to approve, the result to apply.

``--yes`` takes every default (accept, approve, apply); following only watches.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import click
from rich.console import Console
from rich.markup import escape

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import (
    HitlAction,
    InitiativeStatus,
    PhaseStatus,
    TaskStatus,
    TaskType,
)
from devfactory.protocol.events import EventList, EventsParams
from devfactory.protocol.initiatives import (
    InitiativeApplied,
    InitiativeIdParams,
    InitiativeTree,
    Phase,
    PhaseDiff,
    PhaseIdParams,
    PhaseRequestChangesParams,
)
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.proposals import ProposalAcceptParams, ProposalDismissParams
from devfactory.protocol.tasks import Task, TaskRespondParams

from ..wording import plural
from .factory_render import initiative_tree, proposal_line
from .follow import prompt
from .snapshot_commands import undo_hint
from .timeline import Timeline

WAKE_S = 1.0
FINISHED = (InitiativeStatus.COMPLETED, InitiativeStatus.ARCHIVED)


@dataclass
class Driver:
    client: DaemonClient
    console: Console
    automatic: bool = False
    """Take every default instead of asking."""
    watch_only: bool = False
    """Follow without deciding anything (another client decides)."""

    async def drive(self, initiative_id: int) -> InitiativeTree:
        """Until the initiative is completed or archived (or stuck on failed tasks)."""
        timeline = Timeline(self.console)
        changed = asyncio.Event()
        stop = self.client.on_notification(
            lambda method, _: (
                changed.set()
                if method in (Notifications.INITIATIVE_CHANGED, Notifications.EVENT)
                else None
            )
        )
        since = 0
        try:
            while True:
                changed.clear()
                found: InitiativeTree = await self.client.call(
                    Requests.INITIATIVES_GET, InitiativeIdParams(initiative_id=initiative_id)
                )
                # A status and its event are committed together: what the tree shows, the
                # timeline has shown first.
                since = await self._events(initiative_id, since, timeline)
                if found.initiative.status in FINISHED:
                    return found
                if not self.watch_only and await self._decide(found):
                    continue
                if stuck(found):
                    self.console.print(initiative_tree(found))
                    failed = [t.id for t in found.tasks if t.status is TaskStatus.FAILED]
                    raise click.ClickException(
                        f"task {failed[0]} failed and nothing else can go on; retry it from an "
                        "editor (devfactory/tasks/retry) or run devfactory plan again"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), WAKE_S)
        finally:
            stop()

    async def _events(self, initiative_id: int, since: int, timeline: Timeline) -> int:
        while True:
            page: EventList = await self.client.call(
                Requests.EVENTS, EventsParams(initiative_id=initiative_id, since=since)
            )
            for event in page.events:
                timeline.event(event)
            since = page.last_id
            if not page.has_more:
                return since

    # -- decisions -----------------------------------------------------------------------------

    async def _decide(self, found: InitiativeTree) -> bool:
        """Ask about the first thing that waits for the user; False when nothing does."""
        working = any(t.status is TaskStatus.IN_PROGRESS for t in found.tasks)
        if found.proposals and not working:
            await self._proposals(found)
            return True
        for task in found.tasks:
            if task.status is TaskStatus.BLOCKED and task.checkpoint and not task.checkpoint.action:
                await self._checkpoint(task)
                return True
        for phase in found.phases:
            if phase.status is PhaseStatus.PENDING_REVIEW:
                await self._review(phase)
                return True
        if found.initiative.status is InitiativeStatus.PENDING_REVIEW:
            await self._apply(found)
            return True
        return False

    async def _proposals(self, found: InitiativeTree) -> None:
        self.console.print(f"\n[bold]{plural(len(found.proposals), 'proposal')}[/]")
        for proposal in found.proposals:
            self.console.print(f"  {proposal_line(proposal)}")
            if proposal.content:
                for line in proposal.content.splitlines()[:8]:
                    self.console.print(f"      [dim]{escape(line)}[/]")
        for proposal in found.proposals:
            if await self._yes(f"Accept proposal {proposal.id} ({proposal.title})?"):
                await self.client.call(
                    Requests.PROPOSALS_ACCEPT, ProposalAcceptParams(proposal_id=proposal.id)
                )
            else:
                await self.client.call(
                    Requests.PROPOSALS_DISMISS, ProposalDismissParams(proposal_id=proposal.id)
                )

    async def _checkpoint(self, task: Task) -> None:
        assert task.checkpoint is not None
        question, choices = task.checkpoint.question, task.checkpoint.choices
        self.console.print(f"\n[bold magenta]?[/] [bold]{escape(question)}[/]")
        if task.type is TaskType.CHECKPOINT_DECISION:
            text = choices[0] if self.automatic or not choices else await self._ask(choices)
            params = TaskRespondParams(task_id=task.id, action=HitlAction.ANSWER, text=text)
        elif task.type is TaskType.CHECKPOINT_HUMAN_VERIFY and not await self._yes("Approve?"):
            reason = await self._line("Why?", "rejected")
            params = TaskRespondParams(task_id=task.id, action=HitlAction.REJECT, text=reason)
        else:
            if task.type is TaskType.CHECKPOINT_HUMAN_ACTION:
                await self._line("Press Enter once it is done", "done")
            params = TaskRespondParams(task_id=task.id, action=HitlAction.APPROVE)
        await self.client.call(Requests.TASKS_RESPOND, params)

    async def _review(self, phase: Phase) -> None:
        diff: PhaseDiff = await self.client.call(
            Requests.PHASES_DIFF, PhaseIdParams(phase_id=phase.id)
        )
        self.console.print(f"\n[bold]Phase {escape(phase.name)}[/] waits for your review:")
        for file in diff.files:
            self.console.print(
                f"  {file.action.value:6} {escape(file.path)}  {plural(len(file.hunks), 'hunk')}"
            )
        if await self._yes(f"Approve phase {phase.name}?"):
            await self.client.call(Requests.PHASES_APPROVE, PhaseIdParams(phase_id=phase.id))
            return
        note = await self._line("What should change?", "")
        await self.client.call(
            Requests.PHASES_REQUEST_CHANGES, PhaseRequestChangesParams(phase_id=phase.id, note=note)
        )

    async def _apply(self, found: InitiativeTree) -> None:
        run = found.initiative.result_run_id
        self.console.print(f"\nEvery phase is done; the result is run {run}'s changes.")
        if not await self._yes("Apply them to your workspace?"):
            raise click.ClickException(
                f"not applied; see devfactory/changes/list for run {run}, then run "
                f"devfactory approve {run}"
            )
        applied: InitiativeApplied = await self.client.call(
            Requests.INITIATIVES_APPLY, InitiativeIdParams(initiative_id=found.initiative.id)
        )
        self.console.print(f"[green]{plural(len(applied.applied), 'change')} applied[/]")
        if applied.snapshot_id is not None:
            self.console.print(
                undo_hint(applied.snapshot_id, "the whole initiative", self.client.root)
            )

    # -- the prompt ----------------------------------------------------------------------------

    async def _yes(self, question: str) -> bool:
        if self.automatic:
            self.console.print(f"{escape(question)} [dim]yes (automatically)[/]")
            return True
        return (await self._line(f"{question} [Y/n]", "y")).strip().lower() in ("y", "yes")

    async def _ask(self, choices: list[str]) -> str:
        for number, choice in enumerate(choices, start=1):
            self.console.print(f"  {number}. {escape(choice)}")
        reply = (await self._line("Your choice", "1")).strip()
        return (
            choices[int(reply) - 1]
            if reply.isdigit() and 1 <= int(reply) <= len(choices)
            else reply
        )

    async def _line(self, text: str, default: str) -> str:
        if self.automatic:
            return default
        try:
            return await prompt(text, default)
        except click.Abort:
            raise click.ClickException(
                "the initiative waits for an answer and stdin is closed; pass --yes to take the "
                "defaults"
            ) from None


def stuck(found: InitiativeTree) -> bool:
    """Nothing runs or waits, a task failed: the initiative cannot go on by itself."""
    statuses = {t.status for t in found.tasks}
    return TaskStatus.FAILED in statuses and not statuses & {
        TaskStatus.IN_PROGRESS,
        TaskStatus.BLOCKED,
    }
