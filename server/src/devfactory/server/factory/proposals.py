"""Typed handoffs and proposals: ``submit_handoff`` and ``propose`` for agents,
``devfactory/proposals/*`` for the user.

A handoff that does not validate is refused with the error, which goes back to the agent
(``handoff_rejected`` records it); a valid one is stored as a context artifact
(``handoff_created``) and becomes proposals. Nothing proposed is real until the user accepts
it, with their edits, or the initiative runs in yolo mode, which accepts as it goes.
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
        for draft in drafts:
            await self.create(initiative, draft, source_run_id=run_id)
        return (
            f"handed off as artifact {artifact.id} ({name}); "
            f"{len(drafts)} proposal{'s' if len(drafts) != 1 else ''} for the user to accept"
        )

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
            return await self.accept(ProposalAcceptParams(proposal_id=proposal.id))
        return proposal

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
        if target is ProposalTarget.PAGE:
            return None
        if target is ProposalTarget.PHASE and action is ProposalAction.CREATE:
            depends = await self._resolve(proposal, meta.get("dependsOn", []), "dependsOn")
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
            phase_id = _required(proposal.phase_id, "phaseId", "the phase it updates")
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
            task_id = _required(proposal.task_id, "taskId", "the task it updates")
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
            found = await self._resolve(proposal, [fields.phase_key or ""], "phase")
            if not found:
                raise InvalidParams(
                    f"metadata.phase: the proposal of its phase {fields.phase_key!r} was "
                    "dismissed; set metadata.phaseId to a phase of the initiative"
                )
            phase_id = found[0]
        depends = await self._resolve(proposal, fields.depends_on_keys, "dependsOn")
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

    async def _resolve(self, proposal: Proposal, keys: list[str], field: str) -> list[int]:
        """The ids the accepted proposals named ``keys`` created. A key of a proposal that
        waits is an error (accept that one first); one of a dismissed proposal is dropped."""
        others = await self.store.proposals.list(proposal.initiative_id, status=None)
        by_key = {str(p.metadata.get("key")): p for p in others if p.metadata.get("key")}
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
