"""The incremental ready set agrees with a full scan, and orders by phase, priority, order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devfactory.protocol.enums import PhaseStatus, TaskPriority, TaskStatus, TaskType
from devfactory.server.factory.scheduler import ReadySet

P, T = PhaseStatus, TaskStatus


def drain(ready: ReadySet) -> list[int]:
    taken = []
    while (task := ready.take()) is not None:
        taken.append(task)
    return taken


def test_order_is_phase_then_priority_then_position() -> None:
    ready = ReadySet()
    ready.add_phase(10, 1, P.APPROVED)
    ready.add_phase(20, 0, P.APPROVED)
    ready.add_task(1, 10, position=0, priority=TaskPriority.HIGH)
    ready.add_task(2, 20, position=1)
    ready.add_task(3, 20, position=0, priority=TaskPriority.LOW)
    ready.add_task(4, 20, position=2, priority=TaskPriority.HIGH)
    assert drain(ready) == [4, 2, 3, 1]


def test_dependencies_and_phases_gate_tasks() -> None:
    ready = ReadySet()
    ready.add_phase(1, 0, P.APPROVED)
    ready.add_phase(2, 1, P.APPROVED, depends_on=[1])
    ready.add_task(1, 1)
    ready.add_task(2, 1, depends_on=[1])
    ready.add_task(3, 1, depends_on=[1])
    ready.add_task(4, 2)
    assert drain(ready) == [1]
    ready.set_task_status(1, T.IN_PROGRESS)
    assert ready.running == {1}
    assert drain(ready) == []
    ready.set_task_status(1, T.COMPLETED)
    assert drain(ready) == [2, 3], "both dependents at once: they run in parallel"
    for task in (2, 3):
        ready.set_task_status(task, T.COMPLETED)
    assert ready.phase_tasks_done(1)
    assert drain(ready) == [], "phase 2 waits until phase 1 is completed"
    ready.set_phase_status(1, P.PENDING_REVIEW)
    assert drain(ready) == []
    ready.set_phase_status(1, P.COMPLETED)
    assert drain(ready) == [4]


def test_a_phase_replaced_keeps_its_tasks_and_their_count() -> None:
    ready = ReadySet()
    ready.add_phase(1, 0, P.APPROVED)
    ready.add_task(1, 1, status=T.COMPLETED)
    ready.add_phase(1, 0, P.IN_PROGRESS)  # a new record of the phase (its status changed)
    assert ready.phase_tasks_done(1)
    ready.add_task(2, 1)
    assert not ready.phase_tasks_done(1)
    ready.set_task_status(2, T.COMPLETED)
    assert ready.phase_tasks_done(1)


def test_a_taken_task_comes_back_when_it_is_pending_again() -> None:
    ready = ReadySet()
    ready.add_phase(1, 0, P.IN_PROGRESS)
    ready.add_task(1, 1, type=TaskType.CHECKPOINT_HUMAN_VERIFY)
    assert ready.take() == 1
    assert ready.take() is None
    ready.set_task_status(1, T.IN_PROGRESS)
    assert ready.running == set(), "checkpoints hold no run"
    ready.set_task_status(1, T.PENDING)  # e.g. recovered after a crash
    assert ready.take() == 1


def test_tasks_loaded_before_their_dependencies_count_them_right() -> None:
    ready = ReadySet()
    ready.add_phase(1, 0, P.APPROVED)
    ready.add_task(2, 1, depends_on=[1])
    ready.add_task(1, 1, status=T.COMPLETED)
    assert drain(ready) == [2]


def test_moving_a_task_and_new_dependencies_take_effect() -> None:
    ready = ReadySet()
    ready.add_phase(1, 0, P.APPROVED)
    ready.add_phase(2, 1, P.PENDING)
    ready.add_task(1, 1)
    ready.add_task(2, 1)
    ready.add_task(2, 2)  # moved into a phase that is not open
    ready.add_task(1, 1, depends_on=[3])  # now waits for an unfinished task
    ready.add_task(3, 1, status=T.IN_PROGRESS)
    assert drain(ready) == []
    ready.set_task_status(3, T.COMPLETED)
    assert drain(ready) == [1]


def brute_force(ready: ReadySet) -> set[int]:
    """What a full scan says is ready (the definition the incremental set must match)."""
    done_phases = {p.id for p in ready.phases.values() if p.status is P.COMPLETED}
    done_tasks = {t.id for t in ready.tasks.values() if t.status is T.COMPLETED}
    return {
        t.id
        for t in ready.tasks.values()
        if t.status is T.PENDING
        and set(t.depends_on) <= done_tasks
        and ready.phases[t.phase_id].status in (P.APPROVED, P.IN_PROGRESS)
        and set(ready.phases[t.phase_id].depends_on) <= done_phases
    }


@given(
    st.lists(st.tuples(st.integers(0, 2), st.sets(st.integers(0, 14), max_size=3)), max_size=15),
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 14), st.sampled_from(list(T) + list(P))),
        max_size=40,
    ),
)
def test_the_ready_set_always_matches_a_full_scan(
    tasks: list[tuple[int, set[int]]], changes: list[tuple[bool, int, object]]
) -> None:
    ready = ReadySet()
    for phase in range(3):
        ready.add_phase(phase, phase, P.APPROVED, depends_on=[phase - 1] if phase else [])
    for task_id, (phase, deps) in enumerate(tasks):
        ready.add_task(task_id, phase, depends_on=[d for d in deps if d < task_id])
    taken: set[int] = set()
    for on_task, target, status in changes:
        if on_task and target in ready.tasks and isinstance(status, TaskStatus):
            ready.set_task_status(target, status)
            taken.discard(target)
        elif not on_task and target < 3 and isinstance(status, PhaseStatus):
            ready.set_phase_status(target, status)
        expected = brute_force(ready) - taken
        got = set(drain(ready))
        assert got == expected
        taken |= got
        for phase in ready.phases.values():
            statuses = [ready.tasks[t].status for t in phase.tasks]
            done = bool(statuses) and all(s is T.COMPLETED for s in statuses)
            assert ready.phase_tasks_done(phase.id) == done
