"""What each ``devfactory/*`` method needs of an API token.

Every method of the protocol has a row (``tests/unit/test_team_tokens.py`` checks it), so a
new method cannot reach the gateway unchecked: a method without one is refused. Read-only
methods need a valid token and nothing more (``READ``); ``admin`` holds every ability.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from devfactory.protocol.methods import Requests as R


class Ability(StrEnum):
    RUNS_CREATE = "runs:create"
    """Start work: runs, retries, follow-ups, initiatives, tasks, chats, commands."""
    RUNS_CONTROL = "runs:control"
    """Steer work that exists: pause, resume, cancel, answer, comment, snapshots."""
    CHANGES_APPROVE = "changes:approve"
    """Accept or reject what a run proposes (changes, reviews, phases)."""
    GIT_PUSH = "git:push"
    """Commit and push."""
    ADMIN = "admin"
    """Everything, and the workspace itself (clone, pull)."""


READ: Final = "read"
"""The pseudo-ability of read-only methods: any valid token."""
LOCAL: Final = "local"
"""The pseudo-ability of what only the user of the gateway's machine may do: no token holds
it, ``admin`` included. Trusting the workspace's own settings is theirs: a token holder who
could trust them would choose the programs the host runs as its user and where its keys go."""

GRANTABLE = tuple(a.value for a in Ability)

_NEEDS: dict[str, tuple[str, ...]] = {
    Ability.RUNS_CREATE: (
        R.RUNS_CREATE, R.RUNS_START, R.RUNS_RETRY, R.RUNS_MESSAGE, R.COMMANDS_RUN,
        R.INITIATIVES_CREATE, R.PHASES_CREATE, R.TASKS_CREATE, R.TASKS_RETRY,
        R.CHAT_START, R.CHAT_SEND,
    ),
    Ability.RUNS_CONTROL: (
        R.RUNS_PAUSE, R.RUNS_RESUME, R.RUNS_CANCEL, R.RUNS_DIRECTIVE, R.RUNS_REWIND,
        R.HITL_RESPOND, R.SNAPSHOTS_CREATE, R.SNAPSHOTS_RESTORE, R.INDEX_REBUILD,
        R.CHANGES_COMMENT, R.CHANGES_RESOLVE_COMMENT, R.CHANGES_REQUEST_CHANGES,
        R.INITIATIVES_ARCHIVE, R.PHASES_UPDATE, R.PHASES_COMMENT, R.PHASES_RESOLVE_COMMENT,
        R.PHASES_REQUEST_CHANGES, R.TASKS_UPDATE, R.TASKS_RESPOND, R.PROPOSALS_ACCEPT,
        R.PROPOSALS_DISMISS, R.CONVERSATIONS_ANSWER,
    ),
    Ability.CHANGES_APPROVE: (
        R.CHANGES_APPROVE, R.CHANGES_REJECT, R.CHANGES_RESOLVE, R.REVIEWS_SUBMIT,
        R.PHASES_APPROVE, R.INITIATIVES_APPLY,
    ),
    Ability.GIT_PUSH: (R.GIT_COMMIT, R.GIT_PUSH),
    Ability.ADMIN: (R.PROJECT_CLONE, R.PROJECT_PULL),
    LOCAL: (R.WORKSPACE_TRUST_STATUS, R.WORKSPACE_TRUST, R.WORKSPACE_REVOKE_TRUST),
    READ: (
        R.HEALTH, R.PROJECT_INFO, R.PROJECT_MAP, R.PROJECT_RULES, R.SEARCH, R.INDEX_STATUS,
        R.RUNS_GET, R.RUNS_LIST, R.EVENTS, R.HITL_LIST, R.SNAPSHOTS_LIST, R.CHANGES_LIST,
        R.CHANGES_DIFF, R.CHANGES_COMMENTS, R.GIT_LOG, R.COMMANDS_LIST, R.COMMANDS_POLICY,
        R.INITIATIVES_LIST, R.INITIATIVES_GET, R.INITIATIVES_ARTIFACTS, R.PHASES_DIFF,
        R.PHASES_COMMENTS, R.TASKS_GET, R.PROPOSALS_LIST, R.CONVERSATIONS_LIST, R.CHAT_GET,
        R.CHAT_LIST,
    ),
}  # fmt: skip

METHOD_ABILITY: Final[dict[str, str]] = {
    method: str(ability) for ability, methods in _NEEDS.items() for method in methods
}
"""Method -> the ability it needs (``READ`` for read-only ones)."""


def missing_ability(method: str, held: list[str]) -> str | None:
    """The ability ``method`` needs that ``held`` lacks, or None when it is allowed.

    A method with no row is refused as needing ``admin``: nothing passes unchecked. A
    ``LOCAL`` method is refused whatever ``held`` holds.
    """
    needed = METHOD_ABILITY.get(method, Ability.ADMIN.value)
    if needed == LOCAL:
        return LOCAL
    if needed == READ or needed in held or Ability.ADMIN.value in held:
        return None
    return needed


def parse_abilities(names: list[str]) -> list[str]:
    """``names`` checked against the abilities there are (ValueError naming a wrong one)."""
    for name in names:
        if name not in GRANTABLE:
            raise ValueError(f"unknown ability {name!r}; abilities: {', '.join(GRANTABLE)}")
    return sorted(set(names), key=GRANTABLE.index)
