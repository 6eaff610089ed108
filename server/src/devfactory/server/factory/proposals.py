"""Typed handoffs and proposals: ``submit_handoff`` and ``propose`` for agents,
``devfactory/proposals/*`` for the user.

A handoff that does not validate is refused with the error, which goes back to the agent
(``handoff_rejected`` records it); a valid one is stored as a context artifact
(``handoff_created``) and becomes proposals. Nothing proposed is real until the user accepts
it, with their edits, or the initiative runs in yolo mode, which accepts as it goes.

Every id a proposal names (``phaseId``, ``taskId``, ``metadata.phaseId``, the ids its keys
stand for) must be of the proposal's own initiative: the model chooses them, and accepting
one of its proposals (at once, in yolo) must never edit or add work to another initiative,
which its user reviews on their own terms.
"""

from __future__ import annotations

from typing import Any

import msgspec

from devfactory.protocol.enums import (
    AgentRole,
    EventType,
    InitiativeMode,
    ProposalAction,
    ProposalStatus,
    ProposalTarget,
    Severity,
)
from devfactory.protocol.factory_events import HandoffEvent, ProposalEvent
from devfactory.protocol.initiatives import Initiative, PhaseCreateParams, PhaseUpdateParams
from devfactory.protocol.proposals import Proposal, ProposalAcceptParams, ProposalDismissParams
from devfactory.protocol.tasks import TaskCreateParams, TaskUpdateParams
from devfactory.storage.clock import now_iso
from devfactory.storage.ports import NewArtifact, NewProposal

from ..errors import InvalidParams, InvalidState, NotFound
from . import handoffs
from .editing import PlanEditor
from .planning import MetadataInvalid, ProposalDraft, proposals_for, task_fields
from .records import FactoryRecords


class NotAccepted(Exception):
    """A yolo initiative's proposal was stored but could not be accepted (it waits for the
    user, who edits or dismisses it); the message says why."""

    def __init__(self, proposal: Proposal, reason: str) -> None:
        super().__init__(reason)
        self.proposal = proposal


class ProposalService:
    def __init__(self, records: FactoryRecords, editor: PlanEditor) -> None:
        self.records = records
        self.editor = editor
        self.store = records.store
        self.events = records.context.events

    # -- from agents ---------------------------------------------------------------------------

    async def submit_handoff(
        self,
        initiative: Initiative,
        role: AgentRole,
        run_id: int,
        task_id: int | None,
        name: str,
        content: Any,
    ) -> str:
        """What the agent reads back: where its handoff went, or why it was refused."""
        try:
            handoff = handoffs.validate(name, content)
        except handoffs.HandoffInvalid as exc:
            await self.events.emit(
                None,
                EventType.HANDOFF_REJECTED,
                f"Handoff refused: {name}",
                HandoffEvent(
                    initiative_id=initiative.id,
                    task_id=task_id,
                    name=name,
                    source_role=role,
                    error=str(exc),
                ),
                message=str(exc),
                severity=Severity.WARNING,
            )
            return f"refused: {exc}. Correct the content and call submit_handoff again."
        schema = handoffs.SCHEMAS[name]
        new = NewArtifact(
            initiative_id=initiative.id,
            kind=schema.kind,
            name=name,
            source_role=role,
            content=handoffs.to_builtins(handoff),
            task_id=task_id,
            run_id=run_id,
        )

        def event(artifact: Any) -> Any:
            payload = HandoffEvent(
                initiative_id=initiative.id,
                task_id=task_id,
                artifact_id=artifact.id,
                name=name,
                source_role=role,
            )
            return self.events.new_event(
                None, EventType.HANDOFF_CREATED, f"Handoff: {name}", payload
            )

        artifact = await self.records.record_new(
            lambda: self.store.proposals.add_artifact(new, event)
        )
        drafts = proposals_for(name, handoff)
        waiting: list[str] = []
        for draft in drafts:
            try:
                await self.create(initiative, draft, source_run_id=run_id)
            except NotAccepted as exc:
                waiting.append(f"proposal {exc.proposal.id} ({draft.title}): {exc}")
        told = (
            f"handed off as artifact {artifact.id} ({name}); "
            f"{len(drafts)} proposal{'s' if len(drafts) != 1 else ''} for the user to accept"
        )
        return "\n".join([told, *(f"not accepted: {line}" for line in waiting)])

    async def create(
        self,
        initiative: Initiative,
        draft: ProposalDraft,
        *,
        source_run_id: int | None = None,
        chat_session_id: int | None = None,
        phase_id: int | None = None,
        task_id: int | None = None,
    ) -> Proposal:
        """Store a proposal (InvalidParams when it names another initiative's phase or task);
        in yolo, accept it at once (NotAccepted when that is refused: it waits)."""
        await self._check_ids(initiative.id, phase_id, task_id, draft.metadata)
        new = NewProposal(
            initiative_id=initiative.id,
            target=draft.target,
            action=draft.action,
            title=draft.title,
            summary=draft.summary,
            content=draft.content,
            metadata=draft.metadata,
            phase_id=phase_id,
            task_id=task_id,
            source_run_id=source_run_id,
            chat_session_id=chat_session_id,
        )
        proposal = await self.records.record_new(
            lambda: self.store.proposals.create(new, self._event(EventType.PROPOSAL_CREATED))
        )
        if initiative.mode is InitiativeMode.YOLO:
            try:
                return await self.accept(ProposalAcceptParams(proposal_id=proposal.id))
            except (InvalidParams, InvalidState) as exc:
                raise NotAccepted(proposal, str(exc)) from None
        return proposal

    async def _check_ids(
        self, initiative_id: int, phase_id: int | None, task_id: int | None, meta: dict[str, Any]
    ) -> None:
        """Refuse a proposal that names a phase or task of another initiative."""
        if phase_id is not None:
            await self._own_phase(initiative_id, phase_id, "phaseId")
        if task_id is not None:
            await self._own_task(initiative_id, task_id, "taskId")
        named = meta.get("phaseId")
        if isinstance(named, int) and not isinstance(named, bool):
            await self._own_phase(initiative_id, named, "metadata.phaseId")

    async def _own_phase(self, initiative_id: int, phase_id: int, field: str) -> int:
        phase = await self.store.initiatives.get_phase(phase_id)
        if phase is None or phase.initiative_id != initiative_id:
            raise InvalidParams(
                f"{field}: no phase {phase_id} in initiative {initiative_id}; name one of its "
                "phases"
            )
        return phase.id

    async def _own_task(self, initiative_id: int, task_id: int, field: str) -> int:
        task = await self.store.tasks.get(task_id)
        if task is None or task.initiative_id != initiative_id:
            raise InvalidParams(
                f"{field}: no task {task_id} in initiative {initiative_id}; name one of its tasks"
            )
        return task.id

    # -- from the user -------------------------------------------------------------------------

    async def accept(self, params: ProposalAcceptParams) -> Proposal:
        proposal = await self._pending(params.proposal_id, "accepted")
        edits = {
            name: value
            for name in ("title", "summary", "content", "metadata")
            if (value := getattr(params, name)) is not None
        }
        proposal = msgspec.structs.replace(proposal, **edits)
        created_id = await self._make_real(proposal)
        return await self._decide(
            proposal,
            ProposalStatus.ACCEPTED,
            EventType.PROPOSAL_ACCEPTED,
            created_id=created_id,
            **edits,
        )

    async def dismiss(self, params: ProposalDismissParams) -> Proposal:
        proposal = await self._pending(params.proposal_id, "dismissed")
        return await self._decide(proposal, ProposalStatus.DISMISSED, EventType.PROPOSAL_DISMISSED)

    async def _pending(self, proposal_id: int, verb: str) -> Proposal:
        proposal = await self.store.proposals.get(proposal_id)
        if proposal is None:
            raise NotFound("proposal", proposal_id)
        await self.records.initiative(proposal.initiative_id)
        if proposal.status is not ProposalStatus.PENDING:
            raise InvalidState(
                f"proposal {proposal.id} is already {proposal.status.value}; it cannot be {verb}"
            )
        return proposal

    async def _decide(
        self, proposal: Proposal, status: ProposalStatus, type: EventType, **fields: Any
    ) -> Proposal:
        return await self.records.record_change(
            self.store.proposals.update(
                proposal.id,
                expect_status=ProposalStatus.PENDING,
                event=self._event(type),
                status=status,
                decided_at=now_iso(),
                **fields,
            ),
            f"proposal {proposal.id}",
        )

    def _event(self, type: EventType) -> Any:
        def build(proposal: Proposal) -> Any:
            payload = ProposalEvent(
                initiative_id=proposal.initiative_id,
                proposal_id=proposal.id,
                target=proposal.target,
                action=proposal.action,
                title=proposal.title,
                status=proposal.status,
                created_id=proposal.created_id,
            )
            verb = type.value.removeprefix("proposal_")
            return self.events.new_event(None, type, f"Proposal {verb}: {proposal.title}", payload)

        return build

    # -- what accepting does -------------------------------------------------------------------

    async def _make_real(self, proposal: Proposal) -> int | None:
        """Create or update what the proposal describes; its id (None for a page)."""
        target, action, meta = proposal.target, proposal.action, proposal.metadata
        own = proposal.initiative_id
        if target is ProposalTarget.PAGE:
            return None
        if target is ProposalTarget.PHASE and action is ProposalAction.CREATE:
            keys = meta.get("dependsOn", [])
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise InvalidParams(
                    f"metadata.dependsOn: expected a list of phase keys, got {keys!r}"
                )
            depends = await self._resolve(proposal, keys, "dependsOn", ProposalTarget.PHASE)
            phase = await self.editor.create_phase(
                PhaseCreateParams(
                    initiative_id=proposal.initiative_id,
                    name=proposal.title,
                    description=proposal.content,
                    depends_on=depends,
                )
            )
            return phase.id
        if target is ProposalTarget.PHASE:
            phase_id = await self._own_phase(
                own, _required(proposal.phase_id, "phaseId", "the phase it updates"), "phaseId"
            )
            await self.editor.update_phase(
                PhaseUpdateParams(
                    phase_id=phase_id, name=proposal.title, description=proposal.content
                )
            )
            return phase_id
        try:
            fields = task_fields(meta)
        except MetadataInvalid as exc:
            raise InvalidParams(str(exc)) from None
        if action is ProposalAction.UPDATE:
            task_id = await self._own_task(
                own, _required(proposal.task_id, "taskId", "the task it updates"), "taskId"
            )
            await self.editor.update_task(
                TaskUpdateParams(
                    task_id=task_id,
                    title=proposal.title,
                    description=proposal.content or None,
                    priority=fields.priority if "priority" in meta else None,
                    agent=fields.agent if "agent" in meta else None,
                )
            )
            return task_id
        known_phase = fields.phase_id or proposal.phase_id
        if known_phase is not None:
            phase_id = known_phase
        else:
            found = await self._resolve(
                proposal, [fields.phase_key or ""], "phase", ProposalTarget.PHASE
            )
            if not found:
                raise InvalidParams(
                    f"metadata.phase: the proposal of its phase {fields.phase_key!r} was "
                    "dismissed; set metadata.phaseId to a phase of the initiative"
                )
            phase_id = found[0]
        phase_id = await self._own_phase(own, phase_id, "metadata.phaseId")
        depends = await self._resolve(
            proposal, fields.depends_on_keys, "dependsOn", ProposalTarget.TASK
        )
        task = await self.editor.create_task(
            TaskCreateParams(
                phase_id=phase_id,
                title=proposal.title,
                description=proposal.content,
                depends_on=[*depends, *fields.depends_on_ids],
                type=fields.type,
                category=fields.category,
                priority=fields.priority,
                agent=fields.agent,
            )
        )
        return task.id

    async def _resolve(
        self, proposal: Proposal, keys: list[str], field: str, target: ProposalTarget
    ) -> list[int]:
        """The ids the accepted proposals named ``keys`` created. A key of a proposal that
        waits is an error (accept that one first); one of a dismissed proposal is dropped.
        Only proposals of ``target`` count: a task's id is never taken for a phase's."""
        others = await self.store.proposals.list(proposal.initiative_id, status=None)
        by_key = {
            str(p.metadata.get("key")): p
            for p in others
            if p.metadata.get("key") and p.target is target
        }
        ids: list[int] = []
        for key in keys:
            named = by_key.get(key)
            if named is None:
                raise InvalidParams(
                    f"metadata.{field}: no proposal of initiative {proposal.initiative_id} has "
                    f"the key {key!r}; use the key of a proposal (or metadata.phaseId / "
                    "metadata.dependsOnIds with ids)"
                )
            if named.status is ProposalStatus.PENDING:
                raise InvalidState(
                    f"proposal {proposal.id} needs proposal {named.id} ({named.title!r}) accepted "
                    "first"
                )
            if named.status is ProposalStatus.ACCEPTED and named.created_id is not None:
                ids.append(named.created_id)
        return ids


def _required(value: int | None, field: str, what: str) -> int:
    if value is None:
        raise InvalidParams(f"metadata.{field}: the proposal does not name {what}")
    return value
