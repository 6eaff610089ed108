"""Questions a run asks the user: ``devfactory/question`` and ``devfactory/hitl/*``."""

from __future__ import annotations

from ._base import Model, Params
from .enums import HitlAction, HitlStatus


class HitlRequest(Model, kw_only=True):
    """A question from a run; the run waits (``waiting_for_user``) until it is answered."""

    id: int
    run_id: int
    question: str
    choices: list[str] = []
    kind: str = "question"
    """``question``, or ``plan``: ``question`` holds a plan (Markdown) to approve (action
    approve), edit (amend, the edited plan as text) or reject (reject, with feedback to
    revise it, or none to end the run)."""
    status: HitlStatus = HitlStatus.PENDING
    response_action: HitlAction | None = None
    response_text: str | None = None
    created_at: str
    answered_at: str | None = None


class HitlRespondParams(Params, kw_only=True):
    """Parameters of ``devfactory/hitl/respond``."""

    request_id: int
    action: HitlAction = HitlAction.ANSWER
    text: str | None = None


class HitlListParams(Params, kw_only=True):
    """Parameters of ``devfactory/hitl/list``: pending questions by default."""

    run_id: int | None = None
    status: HitlStatus | None = HitlStatus.PENDING


class HitlList(Model, kw_only=True):
    """Result of ``devfactory/hitl/list``."""

    requests: list[HitlRequest]


class QuestionNotification(Model, kw_only=True):
    """``devfactory/question``: a run asks the user something."""

    request: HitlRequest
