"""``ReadySet``: which tasks of an initiative may start now, maintained incrementally.

A task is ready when it is pending, every task it depends on is completed, and its phase is
open (approved or in progress, every phase it depends on completed). Instead of scanning
the graph on each decision, the set keeps per task the number of unmet dependencies and the
tasks waiting on it, per phase the number of unfinished phases it waits for, and the ready
tasks in a heap ordered by phase order, priority and task order. A status change touches
only its neighbours; taking the next task costs O(log n) (stale heap entries are skipped
lazily), so a 500-task DAG schedules as fast as a 5-task one (``bench/factory_scheduler.py``).

The orchestrator owns the statuses (they are persisted); this object only mirrors them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from devfactory.protocol.enums import PhaseStatus, TaskPriority, TaskStatus, TaskType

PRIORITY_RANK = {TaskPriority.HIGH: 0, TaskPriority.MEDIUM: 1, TaskPriority.LOW: 2}
OPEN_PHASE = frozenset({PhaseStatus.APPROVED, PhaseStatus.IN_PROGRESS})


@dataclass
class TaskNode:
    id: int
    phase_id: int
    status: TaskStatus
    priority: TaskPriority
    position: int
    depends_on: tuple[int, ...]
    type: TaskType = TaskType.AUTO
    unmet: int = 0
    """Dependencies not completed yet."""
    version: int = 0
    """Bumped whenever the task's heap entry becomes stale."""
    taken: bool = False
    """Handed out by ``take``; it is offered again only after its status changes."""


@dataclass
class PhaseNode:
    id: int
    position: int
    status: PhaseStatus
    depends_on: tuple[int, ...]
    unmet: int = 0
    """Phases it depends on that are not completed."""
    tasks: set[int] = field(default_factory=set)
    completed: int = 0
    """How many of ``tasks`` are completed (so "is the phase done" is O(1))."""

    @property
    def open(self) -> bool:
        return self.status in OPEN_PHASE and self.unmet == 0


class ReadySet:
    def __init__(self) -> None:
        self.tasks: dict[int, TaskNode] = {}
        self.phases: dict[int, PhaseNode] = {}
        self._dependents: dict[int, set[int]] = {}
        """task id -> the tasks that depend on it (known or not yet added)."""
        self._phase_dependents: dict[int, set[int]] = {}
        self._heap: list[tuple[int, int, int, int, int]] = []
        """(phase position, priority rank, task position, task id, version)."""
        self.running: set[int] = set()
        """Auto tasks in progress: the runs the initiative holds."""

    # -- building and mirroring ----------------------------------------------------------------

    def add_phase(
        self, phase_id: int, position: int, status: PhaseStatus, depends_on: Iterable[int] = ()
    ) -> None:
        deps = tuple(dict.fromkeys(depends_on))
        node = PhaseNode(phase_id, position, status, deps)
        old = self.phases.get(phase_id)
        if old is not None:
            node.tasks, node.completed = old.tasks, old.completed
            for dep in old.depends_on:
                self._phase_dependents.get(dep, set()).discard(phase_id)
        for dep in deps:
            self._phase_dependents.setdefault(dep, set()).add(phase_id)
        node.unmet = sum(1 for d in deps if not self._phase_done(d))
        self.phases[phase_id] = node
        self._phase_changed(node)
        for dependent in self._phase_dependents.get(phase_id, ()):
            self._recount_phase(dependent)

    def set_phase_status(self, phase_id: int, status: PhaseStatus) -> None:
        node = self.phases[phase_id]
        node.status = status
        self._phase_changed(node)
        for dependent in self._phase_dependents.get(phase_id, ()):
            self._recount_phase(dependent)

    def add_task(
        self,
        task_id: int,
        phase_id: int,
        *,
        status: TaskStatus = TaskStatus.PENDING,
        priority: TaskPriority = TaskPriority.MEDIUM,
        position: int = 0,
        depends_on: Iterable[int] = (),
        type: TaskType = TaskType.AUTO,
    ) -> None:
        """Add a task, or replace one (moved, new dependencies, new priority)."""
        old = self.tasks.get(task_id)
        if old is not None:
            self._forget(old)
        deps = tuple(dict.fromkeys(depends_on))
        node = TaskNode(task_id, phase_id, status, priority, position, deps, type)
        node.unmet = sum(1 for d in deps if not self._task_done(d))
        if old is not None:
            node.version = old.version + 1
        self.tasks[task_id] = node
        for dep in deps:
            self._dependents.setdefault(dep, set()).add(task_id)
        phase = self.phases[phase_id]
        phase.tasks.add(task_id)
        phase.completed += status is TaskStatus.COMPLETED
        if status is TaskStatus.IN_PROGRESS and type is TaskType.AUTO:
            self.running.add(task_id)
        self._push(node)
        for dependent in self._dependents.get(task_id, ()):
            self._recount(dependent)  # added after its dependents (or replaced)

    def set_task_status(self, task_id: int, status: TaskStatus) -> None:
        node = self.tasks[task_id]
        was_done = node.status is TaskStatus.COMPLETED
        node.status = status
        node.version += 1
        node.taken = False
        if status is TaskStatus.IN_PROGRESS and node.type is TaskType.AUTO:
            self.running.add(task_id)
        else:
            self.running.discard(task_id)
        self._push(node)
        done = status is TaskStatus.COMPLETED
        if done != was_done:
            self.phases[node.phase_id].completed += 1 if done else -1
            for dependent in self._dependents.get(task_id, ()):
                child = self.tasks.get(dependent)
                if child is not None:
                    child.unmet += -1 if done else 1
                    child.version += 1
                    self._push(child)

    def remove_task(self, task_id: int) -> None:
        node = self.tasks.pop(task_id, None)
        if node is not None:
            self._forget(node)

    # -- decisions -----------------------------------------------------------------------------

    def is_ready(self, task_id: int) -> bool:
        node = self.tasks.get(task_id)
        return node is not None and self._ready(node)

    def take(self) -> int | None:
        """The best ready task (removed from the ready set until its status changes)."""
        while self._heap:
            *_, task_id, version = heapq.heappop(self._heap)
            node = self.tasks.get(task_id)
            if node is not None and node.version == version and self._ready(node):
                node.taken = True
                return task_id
        return None

    def phase_tasks_done(self, phase_id: int) -> bool:
        """Whether every task of the phase is completed (and it has some)."""
        phase = self.phases[phase_id]
        return bool(phase.tasks) and phase.completed == len(phase.tasks)

    # -- internals -----------------------------------------------------------------------------

    def _ready(self, node: TaskNode) -> bool:
        phase = self.phases.get(node.phase_id)
        return (
            node.status is TaskStatus.PENDING
            and not node.taken
            and node.unmet == 0
            and phase is not None
            and phase.open
        )

    def _push(self, node: TaskNode) -> None:
        if self._ready(node):
            phase = self.phases[node.phase_id]
            key = (phase.position, PRIORITY_RANK[node.priority], node.position, node.id)
            heapq.heappush(self._heap, (*key, node.version))

    def _forget(self, node: TaskNode) -> None:
        node.version += 1
        self.running.discard(node.id)
        for dep in node.depends_on:
            self._dependents.get(dep, set()).discard(node.id)
        phase = self.phases.get(node.phase_id)
        if phase is not None and node.id in phase.tasks:
            phase.tasks.discard(node.id)
            phase.completed -= node.status is TaskStatus.COMPLETED

    def _recount(self, task_id: int) -> None:
        node = self.tasks.get(task_id)
        if node is None:
            return
        unmet = sum(1 for d in node.depends_on if not self._task_done(d))
        if unmet != node.unmet:
            node.unmet = unmet
            node.version += 1
            self._push(node)

    def _task_done(self, task_id: int) -> bool:
        node = self.tasks.get(task_id)
        return node is not None and node.status is TaskStatus.COMPLETED

    def _phase_done(self, phase_id: int) -> bool:
        node = self.phases.get(phase_id)
        return node is not None and node.status is PhaseStatus.COMPLETED

    def _recount_phase(self, phase_id: int) -> None:
        node = self.phases.get(phase_id)
        if node is None:
            return
        unmet = sum(1 for d in node.depends_on if not self._phase_done(d))
        if unmet != node.unmet:
            node.unmet = unmet
            self._phase_changed(node)

    def _phase_changed(self, phase: PhaseNode) -> None:
        """A phase opened or closed: its pending tasks enter (or leave) the heap."""
        for task_id in phase.tasks:
            node = self.tasks[task_id]
            node.version += 1
            self._push(node)
