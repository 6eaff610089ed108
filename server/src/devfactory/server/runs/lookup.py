"""The checks every request naming a run, or the provider of a new one, makes: the run
belongs to this workspace, the provider is configured (and the caller may use it)."""

from __future__ import annotations

from devfactory.protocol.runs import Run
from devfactory.protocol.settings import Settings
from devfactory.storage import Store

from ..errors import InvalidParams, NotFound, Refused
from ..team.callers import refusal


async def project_run(store: Store, project_id: int, run_id: int) -> Run:
    """The run ``run_id`` if it belongs to the project; NotFound otherwise (the database may
    hold the runs of other workspaces)."""
    run = await store.runs.get(run_id)
    if run is None or run.project_id != project_id:
        raise NotFound("run", run_id)
    return run


def configured_provider(settings: Settings, requested: str | None) -> str:
    """``requested``, or the default provider, if the settings configure it; InvalidParams
    naming the configured ones otherwise, Refused if the caller may not use it (a client of
    the gateway asking for ``scripted``)."""
    provider = requested or settings.default_provider
    if provider not in settings.providers:
        known = ", ".join(sorted(settings.providers))
        raise InvalidParams(f"provider {provider!r} is not configured; known: {known}")
    if (refused := refusal(provider)) is not None:
        raise Refused(refused)
    return provider
