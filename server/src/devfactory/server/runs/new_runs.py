"""What a new run is, before it is written: a request's run (``devfactory/runs/create``,
checked and defaulted from the settings) and an adopted one (work done elsewhere, such as an
initiative's integration branch, that review proposes like any run's)."""

from __future__ import annotations

import msgspec

from devfactory.protocol.enums import AgentRole, ExecutionMode, RunStatus
from devfactory.protocol.runs import Run, RunCreateParams, RunMetadata
from devfactory.protocol.settings import Settings
from devfactory.storage.ports import NewRun

from ..errors import InvalidParams
from .lookup import configured_provider

MAX_PROMPT = 100_000


def requested_run(
    params: RunCreateParams,
    settings: Settings,
    project_id: int,
    *,
    retry_of: Run | None,
    metadata: RunMetadata | None,
) -> NewRun:
    """The run ``params`` ask for (queued unless ``params.start`` is false); InvalidParams
    naming the field when the prompt or the provider will not do."""
    prompt = params.prompt.strip()
    if not prompt:
        raise InvalidParams("prompt must not be empty: describe the task for the agent")
    if len(prompt) > MAX_PROMPT:
        raise InvalidParams(f"prompt is {len(prompt)} characters; the limit is {MAX_PROMPT}")
    provider = configured_provider(settings, params.provider)
    title = (params.title or prompt.splitlines()[0]).strip()[:120]
    metadata = msgspec.structs.replace(
        metadata or RunMetadata(),
        rag=params.rag,
        safe_mode=params.safe_mode,
        max_steps=params.max_steps,
        plan_mode=params.plan,
        max_cost_usd=params.max_cost_usd,
        max_tokens=params.max_tokens,
    )
    if retry_of is not None:
        metadata.provider_session_id = retry_of.metadata.provider_session_id
    return NewRun(
        project_id=project_id,
        title=title,
        prompt=prompt,
        status=RunStatus.QUEUED if params.start else RunStatus.DRAFT,
        agent=params.agent.value,
        provider=provider,
        model=params.model or settings.providers[provider].model,
        mode=params.mode.value,
        metadata=metadata,
        retry_of=None if retry_of is None else retry_of.id,
    )


def adopted_run(
    title: str, prompt: str, metadata: RunMetadata, settings: Settings, project_id: int
) -> NewRun:
    """A completed run no agent ever drives, for work done elsewhere."""
    return NewRun(
        project_id=project_id,
        title=title[:120],
        prompt=prompt,
        status=RunStatus.COMPLETED,
        agent=AgentRole.ARCHITECT.value,
        provider=settings.default_provider,
        model=None,
        mode=ExecutionMode.REVIEW.value,
        metadata=metadata,
    )
