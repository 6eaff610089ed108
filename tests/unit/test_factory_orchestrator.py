"""The orchestrator's mirror of an initiative (its ready set) against changes made while it is
first read from the store. The rest of the orchestrator runs in the factory's e2e tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from test_storage_contract_factory import new_initiative, project_id_of

from devfactory.protocol.enums import AgentRole
from devfactory.server.factory.orchestrator import Orchestrator
from devfactory.storage.ports import NewPhase, NewTask
from devfactory.storage.sqlite import SqliteStore


async def test_a_phase_created_while_the_ready_set_is_read_is_mirrored(tmp_path: Path) -> None:
    """A phase and its task created between ``load``'s two reads are mirrored nowhere (there is
    no ready set yet): the task was never offered, or the read or its next change raised
    KeyError (a task whose phase the read had not seen), which left the initiative unscheduled."""
    store = await SqliteStore.open(tmp_path / "db.sqlite")
    try:
        initiative = await new_initiative(store, await project_id_of(store))
        context: Any = SimpleNamespace(store=store, worktrees=tmp_path / "worktrees")
        records: Any = SimpleNamespace(listeners=[])
        orchestrator = Orchestrator(context, records, execution=None)  # type: ignore[arg-type]
        (mirror,) = records.listeners  # told of every committed change
        created: list[Any] = []

        async def planner_adds_a_phase_and_its_task() -> None:
            phase, _ = await store.initiatives.create_phase(
                NewPhase(initiative_id=initiative.id, name="API")
            )
            task, _ = await store.tasks.create(
                NewTask(
                    initiative_id=initiative.id, phase_id=phase.id, title="Routes",
                    agent=AgentRole.BACKEND,
                )
            )  # fmt: skip
            created.append(task)
            mirror(initiative, [phase], [task])

        def then_a_change(read: Callable[[int], Awaitable[Any]]) -> Callable[[int], Any]:
            """``read``, with the change committed right after the first read of either kind,
            whichever ``load`` does first: it lands between its two reads."""

            async def reading(initiative_id: int) -> Any:
                found = await read(initiative_id)
                if not created:
                    await planner_adds_a_phase_and_its_task()
                return found

            return reading

        store.tasks.list = then_a_change(store.tasks.list)  # type: ignore[method-assign,assignment]
        store.initiatives.phases = then_a_change(store.initiatives.phases)  # type: ignore[method-assign,assignment]
        ready = await orchestrator.load(initiative.id)

        (task,) = created
        assert ready.take() == task.id
        mirror(initiative, [], [task])  # its next change is mirrored too
        assert ready.is_ready(task.id)
    finally:
        await store.close()
