"""Abilities a call needs beyond its method's row in :mod:`.abilities`: what its params, or
the run or initiative it acts on, make it do.

- Work whose changes apply without review (a ``yolo`` run or initiative) needs
  ``changes:approve`` as well as the ability that starts or steers it: otherwise a
  ``runs:create`` token would approve through the back door. That covers ``runs/create`` and
  ``initiatives/create`` asking for yolo (their defaults, ``review`` and
  ``review_per_phase``, are the params' own: the ``defaultMode`` setting is the editors' to
  send, the daemon never falls back to it); on a yolo run, ``runs/start``, ``runs/retry``,
  ``runs/resume``, ``runs/message``, ``runs/directive``, ``hitl/respond`` and
  ``changes/requestChanges`` (each starts it again or puts new instructions into it); in a
  yolo initiative, every call that adds or rewrites what its agents are told:
  ``phases/create``, ``phases/update``, ``phases/requestChanges``, ``tasks/create``,
  ``tasks/update``, ``tasks/retry``, ``tasks/respond``, ``proposals/accept`` (the user's edits
  become a task or phase), ``conversations/answer``, ``chat/start`` and ``chat/send``.
  Pausing, cancelling and rewinding stay ``runs:control``: they only hold work back.
- ``project/map`` writes PROJECT_MAP.md into the workspace unless ``write`` is false, which
  needs ``admin`` (the workspace itself); reading the map stays a read.

Params are decoded as the handler decodes them (``rpc.decode_params``), so the gateway
checks the very call the handler will run; bad params are the handler's InvalidParams.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, NamedTuple, Protocol

from devfactory.protocol.enums import ExecutionMode, InitiativeMode
from devfactory.protocol.methods import REQUESTS
from devfactory.protocol.methods import Requests as R
from devfactory.storage import Store

from ..rpc import decode_params
from .abilities import Ability


class Need(NamedTuple):
    ability: str
    why: str
    """What the call would do that needs ``ability`` ("a yolo run applies ...")."""


_UNREVIEWED = "its changes would apply without review (yolo mode)"


async def _yolo_run(store: Store, run_id: int | None) -> bool:
    run = None if run_id is None else await store.runs.get(run_id)
    return run is not None and run.mode is ExecutionMode.YOLO


async def _yolo_initiative(store: Store, initiative_id: int | None) -> bool:
    initiative = None if initiative_id is None else await store.initiatives.get(initiative_id)
    return initiative is not None and initiative.mode is InitiativeMode.YOLO


class _Owned(Protocol):
    initiative_id: int


async def _yolo_owner(store: Store, record: _Owned | None) -> bool:
    """Whether ``record`` (a phase, task, proposal, question or chat; None when there is no
    such record) belongs to a yolo initiative."""
    return await _yolo_initiative(store, None if record is None else record.initiative_id)


async def _hitl_run(store: Store, params: Any) -> bool:
    request = await store.hitl.get(params.request_id)
    return await _yolo_run(store, None if request is None else request.run_id)


async def _phase_initiative(store: Store, params: Any) -> bool:
    return await _yolo_owner(store, await store.initiatives.get_phase(params.phase_id))


async def _task_initiative(store: Store, params: Any) -> bool:
    return await _yolo_owner(store, await store.tasks.get(params.task_id))


async def _proposal_initiative(store: Store, params: Any) -> bool:
    return await _yolo_owner(store, await store.proposals.get(params.proposal_id))


async def _conversation_initiative(store: Store, params: Any) -> bool:
    return await _yolo_owner(store, await store.conversations.get(params.conversation_id))


async def _chat_initiative(store: Store, params: Any) -> bool:
    return await _yolo_owner(store, await store.conversations.chat(params.session_id))


async def _run_of_params(store: Store, params: Any) -> bool:
    return await _yolo_run(store, params.run_id)


async def _initiative_of_params(store: Store, params: Any) -> bool:
    return await _yolo_initiative(store, params.initiative_id)


async def _asks_yolo_run(store: Store, params: Any) -> bool:
    return bool(params.mode is ExecutionMode.YOLO)


async def _asks_yolo_initiative(store: Store, params: Any) -> bool:
    return bool(params.mode is InitiativeMode.YOLO)


_APPLIES_UNREVIEWED: Final[dict[str, Callable[[Store, Any], Awaitable[bool]]]] = {
    R.RUNS_CREATE: _asks_yolo_run,
    R.RUNS_START: _run_of_params,
    R.RUNS_RETRY: _run_of_params,
    R.RUNS_RESUME: _run_of_params,
    R.RUNS_MESSAGE: _run_of_params,
    R.RUNS_DIRECTIVE: _run_of_params,
    R.HITL_RESPOND: _hitl_run,
    R.CHANGES_REQUEST_CHANGES: _run_of_params,
    R.INITIATIVES_CREATE: _asks_yolo_initiative,
    R.PHASES_CREATE: _initiative_of_params,
    R.PHASES_UPDATE: _phase_initiative,
    R.PHASES_REQUEST_CHANGES: _phase_initiative,
    R.TASKS_CREATE: _phase_initiative,
    R.TASKS_UPDATE: _task_initiative,
    R.TASKS_RETRY: _task_initiative,
    R.TASKS_RESPOND: _task_initiative,
    R.PROPOSALS_ACCEPT: _proposal_initiative,
    R.CONVERSATIONS_ANSWER: _conversation_initiative,
    R.CHAT_START: _initiative_of_params,
    R.CHAT_SEND: _chat_initiative,
}
"""Method -> whether the call starts or steers work whose changes apply unreviewed."""

CONDITIONAL: Final = frozenset({*_APPLIES_UNREVIEWED, R.PROJECT_MAP})
"""The methods whose params or target can raise the ability they need."""


async def extra_need(method: str, raw_params: Any, store: Store) -> Need | None:
    """The ability the call needs beyond its method's, or None."""
    if method not in CONDITIONAL:
        return None
    params = decode_params(method, REQUESTS[method].params, raw_params)
    if method == R.PROJECT_MAP:
        if params.write:
            return Need(Ability.ADMIN.value, "it writes PROJECT_MAP.md into the workspace "
                        "(send write: false to only read the map)")  # fmt: skip
        return None
    if await _APPLIES_UNREVIEWED[method](store, params):
        return Need(Ability.CHANGES_APPROVE.value, _UNREVIEWED)
    return None
