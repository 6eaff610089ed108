"""The factory's plan: ``devfactory/initiatives/*``, ``devfactory/phases/*`` and the
``devfactory/initiativeChanged`` notification.

An initiative is a goal too big for one run, planned into ordered, dependent phases of
dependent tasks (``tasks.py``); role agents execute the tasks as runs on branches off the
initiative's integration branch, and the user reviews the work phase by phase.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from ._base import Model, Params
from .changes import Hunk
from .enums import ChangeAction, DiffSide, InitiativeMode, InitiativeStatus, PhaseStatus
from .proposals import Proposal
from .tasks import Task


class Initiative(Model, kw_only=True):
    """A goal planned into phases and tasks, worked on in ``branch``."""

    id: int
    project_id: int
    name: str
    goal: str
    status: InitiativeStatus
    mode: InitiativeMode
    branch: str
    """The integration branch ``df/<slug>``: every task's merged work."""
    base_snapshot_id: int | None = None
    """The workspace as it was before the initiative: the branch starts there."""
    base_commit: str | None = None
    provider: str | None = None
    """The provider of the initiative's runs (the ``defaultProvider`` setting when null)."""
    model: str | None = None
    result_run_id: int | None = None
    """The run through which the finished result is reviewed and applied (set once every
    phase is done): its changes compare the initiative branch with the workspace it began
    from."""
    created_at: str
    updated_at: str
    completed_at: str | None = None


class Phase(Model, kw_only=True):
    """An ordered stage of an initiative; its tasks start once the phases it depends on are
    completed."""

    id: int
    initiative_id: int
    name: str
    description: str = ""
    position: int
    status: PhaseStatus
    depends_on: list[int] = []
    """Ids of the phases that must be completed first."""
    base_commit: str | None = None
    """The initiative branch when the phase started: its review diff starts there."""
    revision: int = 0
    """How many times a review sent the phase back with revision tasks."""
    created_at: str
    updated_at: str


class InitiativeCreateParams(Params, kw_only=True):
    """Parameters of ``devfactory/initiatives/create``."""

    goal: str
    name: str | None = None
    """Defaults to the goal's first line."""
    mode: InitiativeMode = InitiativeMode.REVIEW_PER_PHASE
    provider: str | None = None
    """The provider of the initiative's agent runs (defaults to ``defaultProvider``)."""
    model: str | None = None
    plan: bool = True
    """Start the analyst (specification) and architect (phases and tasks) at once; false
    leaves an empty initiative to fill by hand."""


class InitiativeIdParams(Params, kw_only=True):
    """Parameters naming one initiative (get, archive, apply)."""

    initiative_id: int


class InitiativeListParams(Params, kw_only=True):
    """Parameters of ``devfactory/initiatives/list``: newest first."""

    status: list[InitiativeStatus] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    """Initiatives to return (newest first), 1 to 1000."""


class InitiativeList(Model, kw_only=True):
    initiatives: list[Initiative]


class InitiativeTree(Model, kw_only=True):
    """Result of ``devfactory/initiatives/get``: the initiative, its phases and tasks in
    order, and the proposals that wait for the user."""

    initiative: Initiative
    phases: list[Phase]
    tasks: list[Task]
    proposals: list[Proposal]


class InitiativeApplied(Model, kw_only=True):
    """Result of ``devfactory/initiatives/apply``: the result applied to the workspace."""

    initiative: Initiative
    run_id: int
    """The result run; ``devfactory/changes/list`` shows what was applied."""
    applied: list[int]
    """The changes applied (ids)."""
    conflicts: list[int]
    """The changes that conflicted with the user's edits: nothing of them was written."""
    written: list[str] = []
    """Workspace-relative paths (sorted) of the files the apply wrote or deleted on disk; as
    ``ChangeDecisionResult.written``, files open in the editor took their change through
    ``workspace/applyEdit`` and are not listed. The editor reloads its buffers of these."""
    snapshot_id: int | None = None
    """The pre_apply snapshot: restoring it undoes the whole initiative in one step."""


class InitiativeChangedNotification(Model, kw_only=True):
    """``devfactory/initiativeChanged``: an initiative, or some of its phases or tasks,
    changed; only the changed records are sent."""

    initiative: Initiative
    phases: list[Phase] = []
    tasks: list[Task] = []


# -- phases ----------------------------------------------------------------------------------


class PhaseCreateParams(Params, kw_only=True):
    """Parameters of ``devfactory/phases/create``: appended after the last phase."""

    initiative_id: int
    name: str
    description: str = ""
    depends_on: list[int] = []


class PhaseUpdateParams(Params, kw_only=True):
    """Parameters of ``devfactory/phases/update``: the fields given change."""

    phase_id: int
    name: str | None = None
    description: str | None = None
    depends_on: list[int] | None = None


class PhaseIdParams(Params, kw_only=True):
    """Parameters naming one phase (approve, diff, comments)."""

    phase_id: int


class PhaseRequestChangesParams(Params, kw_only=True):
    """Parameters of ``devfactory/phases/requestChanges``: the open comments (and ``note``)
    become revision tasks, and the phase goes back to work."""

    phase_id: int
    note: str | None = None


class PhaseFileDiff(Model, kw_only=True):
    """One file of a phase's combined diff, cut into hunks as a run's changes are."""

    path: str
    action: ChangeAction
    diff: str
    hunks: list[Hunk] = []
    binary: bool = False


class PhaseDiff(Model, kw_only=True):
    """Result of ``devfactory/phases/diff``: what the phase's tasks changed together."""

    phase: Phase
    base_commit: str
    head_commit: str
    files: list[PhaseFileDiff]


class PhaseCommentParams(Params, kw_only=True):
    """Parameters of ``devfactory/phases/comment``: a comment on a line of the phase's diff."""

    phase_id: int
    path: str
    line: int
    """1-based, in the file's version on ``side``."""
    side: DiffSide = DiffSide.NEW
    body: str


class PhaseComment(Model, kw_only=True):
    id: int
    phase_id: int
    path: str
    line: int
    side: DiffSide
    body: str
    resolved: bool = False
    created_at: str


class PhaseCommentsParams(Params, kw_only=True):
    phase_id: int
    include_resolved: bool = False


class PhaseCommentList(Model, kw_only=True):
    comments: list[PhaseComment]


class PhaseCommentResolveParams(Params, kw_only=True):
    comment_id: int
