"""The workspace's trust from the editor: ``devfactory/workspace/trustStatus``, ``trust`` and
``revokeTrust`` (:mod:`..trust_review`, the same path as ``devfactory trust``).

A trust changes nothing in this daemon: its settings were read at ``initialize`` and shaped the
services built from them (storage, sandbox, providers, the gateway bridge), so reloading them
in place would mean rebuilding every service while runs use them. The editor restarts the
daemon after a trust or a revoke instead, the one way every setting applies alike (the command
policy applies at once anyway: it is re-read when the trust record changes).

Only the local user may trust: these handlers refuse a team gateway's client whatever its
token (the gateway refuses them before, :mod:`..team.abilities`; this is the second lock).
"""

from __future__ import annotations

import asyncio

from devfactory.protocol._base import NoParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.trust import WorkspaceTrust, WorkspaceTrustParams

from .. import rpc, trust_review
from ..app import DevFactoryServer
from ..context import Workspace
from ..errors import InvalidState, Refused
from ..team import callers


async def _local_workspace(server: DevFactoryServer, method: str) -> Workspace:
    """The workspace, when the local user asks; Refused for a gateway's client."""
    if (caller := callers.current()) is not None:
        raise Refused(
            f"{method} is refused for the gateway's client {caller!r}: only the user of this"
            " machine may trust its workspace's settings"
        )
    return await server.need(Workspace)


def setup(server: DevFactoryServer) -> None:
    @rpc.request(server, Requests.WORKSPACE_TRUST_STATUS)
    async def trust_status(params: NoParams) -> WorkspaceTrust:
        workspace = await _local_workspace(server, Requests.WORKSPACE_TRUST_STATUS)
        return await asyncio.to_thread(trust_review.status, workspace.root)

    @rpc.request(server, Requests.WORKSPACE_TRUST)
    async def trust(params: WorkspaceTrustParams) -> WorkspaceTrust:
        workspace = await _local_workspace(server, Requests.WORKSPACE_TRUST)
        try:
            return await asyncio.to_thread(trust_review.grant, workspace.root, params.digest)
        except trust_review.TrustChanged as exc:
            raise InvalidState(str(exc)) from None

    @rpc.request(server, Requests.WORKSPACE_REVOKE_TRUST)
    async def revoke_trust(params: NoParams) -> WorkspaceTrust:
        workspace = await _local_workspace(server, Requests.WORKSPACE_REVOKE_TRUST)
        return await asyncio.to_thread(trust_review.revoke, workspace.root)
