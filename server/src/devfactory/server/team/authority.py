"""``Authority``: who a token is and what it may do, every decision written to the audit log.

The gateway asks it once per request (a revoked token stops working at its next request, not
at its next connection); refusals are ``Refused`` errors that name the missing ability.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from devfactory.storage import Store
from devfactory.storage.ports import ApiToken

from ..errors import Refused
from . import tokens
from .abilities import LOCAL, METHOD_ABILITY, READ, Ability, missing_ability, parse_abilities
from .conditions import extra_need

log = logging.getLogger(__name__)


class Authority:
    """Creates and checks the API tokens of one project (``project_id``) over one store."""

    def __init__(self, store: Store, project_id: int) -> None:
        self.store = store
        self.project_id = project_id

    async def create(self, name: str, abilities: list[str]) -> tuple[str, ApiToken]:
        """A new token (the secret, shown once) and its record."""
        if not name.strip():
            raise ValueError("a token needs a --name (who or what holds it)")
        checked = parse_abilities(abilities)
        secret = tokens.new_token()
        record = await self.store.api_tokens.create(
            self.project_id, name.strip(), tokens.hint(secret), tokens.digest(secret), checked
        )
        return secret, record

    async def identify(self, secret: str) -> tuple[ApiToken | None, str | None]:
        """The token ``secret`` is (None if unknown), and why it may not be used (None if
        it is live). A token of another project is unknown here, as if it did not exist."""
        if (problem := tokens.format_problem(secret)) is not None:
            return None, problem
        digest = tokens.digest(secret)
        found = await self.store.api_tokens.by_digest(digest)
        if found is None or not hmac.compare_digest(found[1], digest):
            return None, "the token is not known to this gateway"
        token = found[0]
        if token.project_id is None:
            return token, (
                f"the token {token.name!r} was made before tokens belonged to a project, so no "
                "gateway accepts it: re-create it (devfactory token revoke "
                f"{token.name}, then devfactory token create --name {token.name} ...)"
            )
        if token.project_id != self.project_id:
            return None, "the token is not known to this gateway"
        if token.revoked_at is not None:
            return token, f"the token {token.name!r} was revoked at {token.revoked_at}"
        return token, None

    async def authorize(self, secret: str, method: str, params: Any = None) -> ApiToken:
        """The token, if it may call ``method`` with ``params``; ``Refused`` (audited)
        otherwise. Params that make a call do more (a yolo run, writing the project map)
        need more (:mod:`.conditions`); bad params are the handler's InvalidParams."""
        ability = METHOD_ABILITY.get(method, "admin")
        token, problem = await self.identify(secret)
        if problem is not None or token is None:
            name = "" if token is None else token.name
            await self._audit(token, name, method, ability, refused=problem)
            raise Refused(f"{method} is refused: {problem}")
        missing, why = missing_ability(method, token.abilities), ""
        if missing is None and (need := await extra_need(method, params, self.store)):
            ability = need.ability
            if need.ability not in token.abilities and Ability.ADMIN not in token.abilities:
                missing, why = need.ability, f" for this call: {need.why}"
        if missing == LOCAL:
            reason = "only the user of the gateway's machine may call it, no token may"
            await self._audit(token, token.name, method, ability, refused=reason)
            raise Refused(f"{method} is refused: {reason}")
        if missing is not None:
            reason = f"the token {token.name!r} lacks the {missing!r} ability{why}"
            await self._audit(token, token.name, method, ability, refused=reason)
            raise Refused(f"{method} is refused: {reason} (devfactory token create --ability "
                          f"{missing} ...)")  # fmt: skip
        if ability != READ:  # reads are not worth a row each (the event stream polls)
            await self._audit(token, token.name, method, ability, refused=None)
        return token

    async def _audit(
        self, token: ApiToken | None, name: str, method: str, ability: str, refused: str | None
    ) -> None:
        if refused is not None:
            log.warning("refused %s for %s: %s", method, name or "an unknown token", refused)
        await self.store.audit.record(
            token_id=None if token is None else token.id,
            token_name=name,
            method=method,
            ability=ability,
            allowed=refused is None,
            reason=refused or "",
        )
