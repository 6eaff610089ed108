"""Tasks of an initiative: ``devfactory/tasks/*``.

A task's execution is a run (``run_ids``); a checkpoint task is a question to the user
instead, answered with ``devfactory/tasks/respond``.
"""

from __future__ import annotations

from ._base import Model, Params
from .enums import AgentRole, HitlAction, TaskCategory, TaskPriority, TaskStatus, TaskType


class Checkpoint(Model, kw_only=True):
    """The question a checkpoint task asks the user, and the answer."""

    question: str
    choices: list[str] = []
    action: HitlAction | None = None
    text: str | None = None
    answered_at: str | None = None


class Task(Model, kw_only=True):
    id: int
    initiative_id: int
    phase_id: int
    parent_id: int | None = None
    """The task this one was decomposed from."""
    title: str
    description: str = ""
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM
    status: TaskStatus
    position: int
    """Order within the phase: a tie-breaker after phase order and priority."""
    agent: AgentRole
    depends_on: list[int] = []
    """Ids of the tasks whose work this one builds on (a DAG)."""
    summary: str | None = None
    """What the agent (or the user, at a checkpoint) reported; handed to dependent tasks."""
    run_ids: list[int] = []
    """The runs that executed the task, oldest first."""
    checkpoint: Checkpoint | None = None
    failed_reason: str | None = None
    merged_commit: str | None = None
    """The initiative-branch commit that merged the task's work (merged exactly once)."""
    created_at: str
    updated_at: str


class TaskCreateParams(Params, kw_only=True):
    """Parameters of ``devfactory/tasks/create``."""

    phase_id: int
    title: str
    description: str = ""
    depends_on: list[int] = []
    parent_id: int | None = None
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM
    agent: AgentRole = AgentRole.BACKEND


class TaskUpdateParams(Params, kw_only=True):
    """Parameters of ``devfactory/tasks/update``: the fields given change. A task that has
    started keeps its phase; a task cannot move into a completed phase."""

    task_id: int
    title: str | None = None
    description: str | None = None
    phase_id: int | None = None
    depends_on: list[int] | None = None
    priority: TaskPriority | None = None
    agent: AgentRole | None = None


class TaskIdParams(Params, kw_only=True):
    """Parameters naming one task (get, retry)."""

    task_id: int


class TaskRespondParams(Params, kw_only=True):
    """Parameters of ``devfactory/tasks/respond``: the user's answer at a checkpoint.

    human-verify takes ``approve`` or ``reject`` (with a reason in ``text``); decision takes
    ``answer`` with one of the choices; human-action takes ``approve`` once the action is
    done."""

    task_id: int
    action: HitlAction = HitlAction.APPROVE
    text: str | None = None


class TaskList(Model, kw_only=True):
    tasks: list[Task]
