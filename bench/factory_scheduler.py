"""The cost of one scheduling decision of the factory, at 50 and 500 tasks.

Method: a seeded random DAG of N tasks in 5 phases (each task depends on up to 3 earlier
tasks of its own or an earlier phase, random priorities), all phases approved and, to let
every layer through, completed as soon as their tasks are. The whole initiative is then
executed with 4 tasks at a time: each *decision* is "a task completed: mirror that, then
pick the next ready task" — what the orchestrator does when a run finishes. Timed per
decision with ``perf_counter_ns``; the figure is the median over every decision of 7 full
executions. Compared in the same session with the baseline most schedulers start as: a full
scan of every task's dependencies and phase on each decision, then a sort of the ready ones.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from devfactory.protocol.enums import PhaseStatus, TaskPriority, TaskStatus
from devfactory.server.factory.scheduler import PRIORITY_RANK, ReadySet

from .common import median, row

PHASES = 5
PARALLEL = 4
REPEATS = 7
SIZES = (50, 500)

Plan = list[tuple[int, int, TaskPriority, list[int]]]
"""(task id, phase, priority, dependencies)."""


def make_plan(size: int, seed: int = 14) -> Plan:
    rng = random.Random(seed)
    per_phase = size // PHASES
    plan: Plan = []
    for task in range(size):
        phase = min(task // per_phase, PHASES - 1)
        earlier = range(max(0, task - 3 * per_phase), task)
        deps = rng.sample(earlier, min(len(earlier), rng.randint(0, 3)))
        plan.append((task, phase, rng.choice(list(TaskPriority)), deps))
    return plan


class FullScan:
    """The baseline: every decision scans every task."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.status = {task: TaskStatus.PENDING for task, *_ in plan}
        self.phase_done: set[int] = set()

    def set_status(self, task: int, status: TaskStatus) -> None:
        self.status[task] = status
        for phase in range(PHASES):
            tasks = [t for t, p, _, _ in self.plan if p == phase]
            if all(self.status[t] is TaskStatus.COMPLETED for t in tasks):
                self.phase_done.add(phase)

    def take(self) -> int | None:
        ready = [
            (phase, PRIORITY_RANK[priority], task)
            for task, phase, priority, deps in self.plan
            if self.status[task] is TaskStatus.PENDING
            and all(self.status[d] is TaskStatus.COMPLETED for d in deps)
            and all(p in self.phase_done for p in range(phase))
        ]
        return min(ready)[2] if ready else None


class Incremental:
    def __init__(self, plan: Plan) -> None:
        self.ready = ReadySet()
        for phase in range(PHASES):
            deps = [phase - 1] if phase else []
            self.ready.add_phase(phase, phase, PhaseStatus.APPROVED, depends_on=deps)
        for task, phase, priority, deps in plan:
            self.ready.add_task(task, phase, priority=priority, position=task, depends_on=deps)

    def set_status(self, task: int, status: TaskStatus) -> None:
        self.ready.set_task_status(task, status)
        phase = self.ready.tasks[task].phase_id
        if status is TaskStatus.COMPLETED and self.ready.phase_tasks_done(phase):
            self.ready.set_phase_status(phase, PhaseStatus.COMPLETED)

    def take(self) -> int | None:
        return self.ready.take()


def execute(scheduler: FullScan | Incremental, size: int) -> list[int]:
    """Run the initiative to the end; nanoseconds per decision."""
    timings: list[int] = []
    running: list[int] = []
    done = 0

    def fill() -> None:
        while len(running) < PARALLEL and (task := scheduler.take()) is not None:
            scheduler.set_status(task, TaskStatus.IN_PROGRESS)
            running.append(task)

    fill()
    while done < size:
        finished = running.pop(0)
        started = time.perf_counter_ns()
        scheduler.set_status(finished, TaskStatus.COMPLETED)
        fill()
        timings.append(time.perf_counter_ns() - started)
        done += 1
    return timings


def measure(make: Callable[[Plan], FullScan | Incremental], size: int) -> float:
    plan = make_plan(size)
    timings: list[int] = []
    for _ in range(REPEATS):
        timings += execute(make(plan), size)
    return median(timings) / 1000


def main() -> None:
    print(row("tasks", "full scan per decision", "incremental per decision", "ratio"))
    print(row("---", "---", "---", "---"))
    for size in SIZES:
        scan = measure(FullScan, size)
        incremental = measure(Incremental, size)
        print(row(size, f"{scan:.1f} µs", f"{incremental:.1f} µs", f"{scan / incremental:.0f}x"))


if __name__ == "__main__":
    main()
