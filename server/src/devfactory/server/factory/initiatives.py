"""Initiatives from goal to applied result: ``devfactory/initiatives/*``.

Creating one snapshots the workspace, starts the integration branch ``df/<slug>`` there, and
plans: a Planning phase whose analyst task writes the specification and whose architect task
turns it into phases and tasks (both arrive as proposals). When every phase is completed the
result becomes a run whose changes compare the branch with the workspace it began from, so it
is reviewed and applied like any run's, behind one snapshot that undoes it all.
"""

from __future__ import annotations

import logging

from devfactory.protocol.changes import ChangeDecisionResult
from devfactory.protocol.enums import (
    AgentRole,
    InitiativeMode,
    InitiativeStatus,
    ProposalStatus,
    SnapshotType,
    TaskCategory,
    TaskStatus,
)
from devfactory.protocol.initiatives import (
    Initiative,
    InitiativeApplied,
    InitiativeCreateParams,
    InitiativeListParams,
    InitiativeTree,
)
from devfactory.storage.clock import now_iso
from devfactory.storage.ports import NewInitiative, NewPhase, NewTask

from ..errors import InvalidParams, InvalidState, Unavailable
from ..project.registration import slugify
from ..runs.lookup import configured_provider
from ..wording import plural
from .context import FactoryContext
from .execution import TaskExecution
from .records import FactoryRecords

log = logging.getLogger(__name__)
MAX_GOAL = 20_000


class InitiativeService:
    def __init__(
        self, context: FactoryContext, records: FactoryRecords, execution: TaskExecution
    ) -> None:
        self.context = context
        self.records = records
        self.execution = execution
        self.store = context.store

    async def create(self, params: InitiativeCreateParams) -> Initiative:
        goal = params.goal.strip()
        if not goal:
            raise InvalidParams("goal must not be empty: say what the initiative should achieve")
        if len(goal) > MAX_GOAL:
            raise InvalidParams(f"goal is {len(goal)} characters; the limit is {MAX_GOAL}")
        provider = configured_provider(self.context.settings, params.provider)
        name = (params.name or goal.splitlines()[0]).strip()[:120]
        snapshot = await self.context.snapshots.create(
            SnapshotType.PRE_RUN, f"before initiative: {name}"
        )
        initiative = await self.records.create_initiative(
            NewInitiative(
                project_id=self.context.project_id,
                name=name,
                goal=goal,
                mode=params.mode,
                branch=await self._branch(name),
                base_snapshot_id=snapshot.id,
                base_commit=snapshot.commit_sha,
                provider=provider,
                model=params.model,
            )
        )
        await self.execution.integration(initiative).ensure(snapshot.commit_sha)
        if params.plan:
            await self._plan(initiative)
        return initiative

    async def _branch(self, name: str) -> str:
        """``df/<slug>``, numbered when an initiative or a branch already has the name."""
        taken = {
            i.branch
            for i in await self.store.initiatives.list(self.context.project_id, None, 10_000)
        }
        base = f"df/{slugify(name, max_length=40)}"
        for n in range(1, 10_000):
            branch = base if n == 1 else f"{base}-{n}"
            exists = await self.context.repo.run(
                "rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False, audit=False
            )
            if branch not in taken and not exists.ok:
                return branch
        raise InvalidParams(f"name: too many initiatives are called {name!r}; choose another")

    async def _plan(self, initiative: Initiative) -> None:
        phase = await self.records.create_phase(
            NewPhase(
                initiative_id=initiative.id,
                name="Planning",
                description="The specification and the plan of phases and tasks.",
            )
        )
        specify = await self.records.create_task(
            NewTask(
                initiative_id=initiative.id,
                phase_id=phase.id,
                title="Specify",
                description="Turn the goal into a software specification.",
                agent=AgentRole.ANALYST,
                category=TaskCategory.PLAN,
            )
        )
        await self.records.create_task(
            NewTask(
                initiative_id=initiative.id,
                phase_id=phase.id,
                title="Plan",
                description="Turn the specification into phases and tasks.",
                agent=AgentRole.ARCHITECT,
                category=TaskCategory.PLAN,
                depends_on=[specify.id],
            )
        )

    # -- reads ---------------------------------------------------------------------------------

    async def list(self, params: InitiativeListParams) -> list[Initiative]:
        return await self.store.initiatives.list(
            self.context.project_id, params.status, params.limit
        )

    async def tree(self, initiative_id: int) -> InitiativeTree:
        initiative = await self.records.initiative(initiative_id)
        return InitiativeTree(
            initiative=initiative,
            phases=await self.store.initiatives.phases(initiative.id),
            tasks=await self.store.tasks.list(initiative.id),
            proposals=await self.store.proposals.list(initiative.id, ProposalStatus.PENDING),
        )

    # -- the end ---------------------------------------------------------------------------------

    async def archive(self, initiative_id: int) -> Initiative:
        initiative = await self.records.initiative(initiative_id)
        archived = await self.records.initiative_status(
            initiative, InitiativeStatus.ARCHIVED, "archived by the user"
        )
        for task in await self.store.tasks.list(initiative.id):
            if task.status is TaskStatus.IN_PROGRESS and task.run_ids:
                await self.context.runs.cancel(task.run_ids[-1])
        return archived

    async def phases_done(self, initiative: Initiative) -> None:
        """Every phase is completed: the result becomes a run to review and apply (yolo
        applies it at once)."""
        integration = self.execution.integration(initiative)
        base = initiative.base_commit or await integration.head()
        changed = [
            path for _, path in await integration.changed_files(base, await integration.head())
        ]
        run = await self.context.runs.adopt(
            title=f"Initiative {initiative.id}: {initiative.name}",
            prompt=initiative.goal,
            initiative_id=initiative.id,
            worktree=integration.path,
            branch=initiative.branch,
            base_snapshot_id=initiative.base_snapshot_id or 0,
        )
        if self.context.review is not None:
            await self.context.review.propose(run, base, changed)
        initiative = await self.records.initiative_status(
            initiative,
            InitiativeStatus.PENDING_REVIEW,
            f"every phase is done: review {len(changed)} changed files and apply them",
            result_run_id=run.id,
        )
        if initiative.mode is InitiativeMode.YOLO:
            await self.apply(initiative.id)

    async def apply(self, initiative_id: int) -> InitiativeApplied:
        initiative = await self.records.initiative(initiative_id)
        if (
            initiative.status is not InitiativeStatus.PENDING_REVIEW
            or initiative.result_run_id is None
        ):
            raise InvalidState(
                f"initiative {initiative.id} is {initiative.status.value}; its result is applied "
                "once every phase is done (pending_review)"
            )
        review = self.context.review
        if review is None:
            raise Unavailable("applying needs the review feature, which this daemon does not run")
        reason = None
        try:
            decided = await review.approve(initiative.result_run_id)
        except InvalidState:
            # Every change of the result is decided already: the user decided them in review,
            # or an apply applied them and the daemon stopped before this records it.
            decided = ChangeDecisionResult(changes=[])
            reason = "its changes were decided in review"
        completed = await self.records.initiative_status(
            initiative,
            InitiativeStatus.COMPLETED,
            reason or f"{plural(len(decided.applied), 'change')} applied",
            completed_at=now_iso(),
        )
        return InitiativeApplied(
            initiative=completed,
            run_id=initiative.result_run_id,
            applied=decided.applied,
            conflicts=decided.conflicts,
            written=decided.written,
            snapshot_id=decided.snapshot_id,
        )
