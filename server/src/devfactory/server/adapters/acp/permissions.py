"""What a run asks the user, as ACP ``session/request_permission``.

Two kinds of question reach the user: a run's questions (``devfactory/question``: the command
policy asking before project code runs without the sandbox, or the agent's ``ask_user``), and
the decision on each proposed change at the end of a turn. Both become permission requests
whose options the client shows as buttons; the chosen option is mapped back to an answer
(``devfactory/hitl/respond``) or to ``devfactory/changes/approve`` / ``reject``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from acp.schema import AllowedOutcome, PermissionOption, PermissionOptionKind

from devfactory.protocol.hitl import HitlRequest

YES_NO: Final = ["Yes", "No"]
"""Options of a question that offers none (ACP permissions cannot carry free text)."""
_REJECTING = re.compile(r"^(no|refuse|reject|deny|decline|cancel|stop|skip|don't|do not)\b", re.I)
_STANDING = re.compile(r"\b(always|every|all|this run's)\b", re.I)


def option_kind(choice: str) -> PermissionOptionKind:
    """The ACP kind of an answer, from its wording (clients style them: allow, reject)."""
    rejecting = bool(_REJECTING.search(choice.strip()))
    standing = bool(_STANDING.search(choice))
    if rejecting:
        return "reject_always" if standing else "reject_once"
    return "allow_always" if standing else "allow_once"


def question_options(request: HitlRequest) -> list[PermissionOption]:
    """One option per choice of the question, its id the choice's position."""
    choices = request.choices or YES_NO
    return [
        PermissionOption(option_id=str(index), name=choice, kind=option_kind(choice))
        for index, choice in enumerate(choices)
    ]


def question_answer(request: HitlRequest, outcome: Any) -> str:
    """The answer text for the chosen option; a dismissed question gets the safe answer."""
    choices = request.choices or YES_NO
    if isinstance(outcome, AllowedOutcome) and outcome.option_id.isdigit():
        index = int(outcome.option_id)
        if 0 <= index < len(choices):
            return choices[index]
    refusals = [c for c in choices if option_kind(c).startswith("reject")]
    return refusals[0] if refusals else choices[-1]


APPLY: Final = "apply"
APPLY_ALL: Final = "apply_all"
REJECT: Final = "reject"
BY_HUNK: Final = "by_hunk"
CHANGE_OPTIONS: Final = [
    PermissionOption(option_id=APPLY, name="Apply", kind="allow_once"),
    PermissionOption(
        option_id=APPLY_ALL, name="Always apply (yolo mode for this session)", kind="allow_always"
    ),
    PermissionOption(option_id=REJECT, name="Reject", kind="reject_once"),
]
"""Deciding one proposed change; a dismissed request leaves it proposed, to decide later."""
_BY_HUNK_OPTION: Final = PermissionOption(
    option_id=BY_HUNK, name="Review each hunk", kind="allow_once"
)


def change_options(open_hunks: int) -> list[PermissionOption]:
    """The options for a change with ``open_hunks`` undecided hunks: with two or more, the
    user may also decide them one by one (ACP asks per tool call, not per hunk)."""
    if open_hunks < 2:
        return CHANGE_OPTIONS
    return [*CHANGE_OPTIONS[:2], _BY_HUNK_OPTION, CHANGE_OPTIONS[2]]


APPLY_HUNK: Final = "apply_hunk"
REJECT_HUNK: Final = "reject_hunk"
HUNK_OPTIONS: Final = [
    PermissionOption(option_id=APPLY_HUNK, name="Apply this hunk", kind="allow_once"),
    PermissionOption(option_id=REJECT_HUNK, name="Reject this hunk", kind="reject_once"),
]
"""Deciding one hunk; a dismissed request leaves the hunk proposed."""


def chosen(outcome: Any) -> str | None:
    """The option id the user chose, or None when the request was dismissed or cancelled."""
    return outcome.option_id if isinstance(outcome, AllowedOutcome) else None
