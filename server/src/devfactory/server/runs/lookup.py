"""Finding a run of this workspace by id: the check every request naming a run makes."""

from __future__ import annotations

from devfactory.protocol.runs import Run
from devfactory.storage import Store

from ..errors import NotFound


async def project_run(store: Store, project_id: int, run_id: int) -> Run:
    """The run ``run_id`` if it belongs to the project; NotFound otherwise (the database may
    hold the runs of other workspaces)."""
    run = await store.runs.get(run_id)
    if run is None or run.project_id != project_id:
        raise NotFound("run", run_id)
    return run
