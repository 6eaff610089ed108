"""``Segment``: how a team worker drives a run (one segment at a time, under a lease)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from devfactory.protocol.enums import EventType
from devfactory.protocol.hitl import HitlRequest
from devfactory.protocol.runs import Run
from devfactory.storage import Store

PAGE = 1000


@dataclass(frozen=True)
class Segment:
    """A run driven by a team worker, one segment at a time (``team/runner.py``)."""

    guard: Callable[[], Awaitable[None]]
    """Awaited before each write to the worktree and each command: raises ``LeaseLost`` once
    another worker holds the run's lease."""
    directives: Callable[[], Awaitable[list[str]]]
    """Awaited at each step: the user's messages sent to the run from any daemon since."""


class SegmentEnded(Exception):
    """The run paused or asked the user a question: this segment ends here, and the resume
    or the answer enqueues the next one (which goes on from the stored conversation)."""


def answer_text(request: HitlRequest) -> str:
    """An answered question as the model reads it (the ``ask_user`` tool's result)."""
    action = request.response_action.value if request.response_action else "answer"
    text = request.response_text or ""
    return text if action == "answer" else f"{action}: {text}".strip()


def ends_segment(kind: str, tool_call_id: str | None) -> bool:
    """Whether waiting for this answer ends a worker's segment: a question the model asked
    with ``ask_user`` (its answer becomes the tool's result in the stored conversation). A
    plan to approve or a command to allow is waited for in the segment."""
    return kind == "question" and tool_call_id is not None


async def prompted(store: Store, project_id: int, run_id: int, iteration: int) -> bool:
    """Whether the run's task (or review feedback) of ``iteration`` was shown already: a
    later segment of the same iteration goes on without showing it again."""
    since = 0
    while True:
        events = await store.events.list(project_id, run_id=run_id, since=since, limit=PAGE)
        for event in events:
            if event.type is EventType.USER_PROMPT and event.payload.get("iteration") == iteration:
                return True
        if len(events) < PAGE:
            return False
        since = events[-1].id


def for_workers(run: Run) -> bool:
    """Whether team workers execute ``run``: every run but an initiative's task, which stays
    with the daemon that schedules the initiative (its tools and its worktree's preparation
    are that daemon's)."""
    return run.metadata.initiative_id is None
