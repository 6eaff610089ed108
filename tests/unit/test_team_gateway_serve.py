"""The gateway's transport under hostile clients, with small limits: a client that stops
reading or floods requests cannot hold the gateway's memory, and knocking on the port with
made-up tokens cannot grow the audit log without bound. The gateway behind it is a stand-in
(its token checks are the real ``Authority`` over every storage adapter)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devfactory.server.team import tokens
from devfactory.server.team.authority import Authority
from devfactory.server.team.gateway_serve import TOO_SLOW, Budget, GatewayServer, Outbox
from devfactory.storage import Store
from team_support import project_authority


class StandIn:
    """What ``GatewayServer`` uses of a ``Gateway``; requests wait for ``release``."""

    def __init__(self, authority: Authority) -> None:
        self.authority = authority
        self.workspace = SimpleNamespace(store=authority.store)
        self.clients: list[Callable[[bytes], None]] = []
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0

    def attach(self, send: Callable[[bytes], None]) -> Callable[[], None]:
        self.clients.append(send)
        return lambda: self.clients.remove(send)

    async def handle(self, token: str, body: bytes | str) -> bytes | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return b'{"jsonrpc": "2.0", "id": 1, "result": null}'


@contextlib.asynccontextmanager
async def serving(store: Store, **limits: Any) -> AsyncIterator[tuple[StandIn, str, str]]:
    """(the stand-in, ws:// url, a live admin token) of a gateway transport with ``limits``."""
    gateway = StandIn(await project_authority(store))
    secret, _ = await gateway.authority.create("tester", ["admin"])
    server = GatewayServer(gateway, **limits)  # type: ignore[arg-type]
    port = await server.start("127.0.0.1", 0, None)
    try:
        yield gateway, f"ws://127.0.0.1:{port}", secret
    finally:
        gateway.release.set()
        await server.close()


def connecting(url: str, token: str) -> Any:
    return connect(url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None)


async def drain(client: ClientConnection) -> None:
    """Read until the connection closes (ConnectionClosed); 5 s without a message fails."""
    while True:
        await asyncio.wait_for(client.recv(), 5)


def request(n: int) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": n, "method": "devfactory/runs/list"})


async def test_a_client_is_answered_at_most_max_in_flight_requests_at_once(
    any_store: Store,
) -> None:
    async with (
        serving(any_store, max_in_flight=4) as (gateway, url, secret),
        connecting(url, secret) as client,
    ):
        for n in range(20):
            await client.send(request(n))
        await asyncio.sleep(0.3)
        assert gateway.in_flight == 4, "the rest wait unread"
        gateway.release.set()
        answers = [await asyncio.wait_for(client.recv(), 5) for _ in range(20)]
    assert len(answers) == 20 and gateway.most_in_flight == 4


async def test_a_client_that_falls_behind_by_bytes_is_disconnected(any_store: Store) -> None:
    async with (
        serving(any_store, max_queued_bytes=100_000) as (gateway, url, secret),
        connecting(url, secret) as client,
    ):
        await asyncio.sleep(0.1)
        (send,) = gateway.clients
        for _ in range(200):  # 200 messages, far below any count bound: 6.4 MB queued
            send(b'{"jsonrpc": "2.0", "method": "x", "params": "' + b"y" * 32_000 + b'"}')
        with pytest.raises(ConnectionClosed) as closed:
            await drain(client)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == TOO_SLOW


def test_the_outbox_counts_bytes_and_drops_everything_past_its_bound() -> None:
    async def go() -> None:
        outbox = Outbox(10)
        outbox.put(b"12345")
        outbox.put(b"1234")
        assert outbox.queued_bytes == 9 and await outbox.get() == b"12345"
        outbox.put(b"123456")
        assert outbox.queued_bytes == 10 and not outbox.overflowed.is_set()
        outbox.put(b"1")
        assert outbox.overflowed.is_set() and outbox.queued_bytes == 0

    asyncio.run(go())


async def test_knocking_with_made_up_tokens_does_not_grow_the_audit_log(
    any_store: Store,
) -> None:
    async with serving(any_store, audited_knocks=3) as (_, url, secret):
        for junk in ["junk", "dft_" + "a" * 36, secret[:-1] + "?"] * 10:
            with pytest.raises(InvalidStatus):
                async with connecting(url, junk):
                    pass
        assert await any_store.audit.list() == [], "malformed tokens are only logged"
        for _ in range(10):  # well-formed (the checksum is public) but unknown
            with pytest.raises(InvalidStatus):
                async with connecting(url, tokens.new_token()):
                    pass
        audited = await any_store.audit.list()
        async with connecting(url, secret):  # a live token still gets in
            pass
    assert [(e.method, e.allowed) for e in audited] == [("connect", False)] * 3
    assert all("not known to this gateway" in e.reason for e in audited)


def test_the_budget_counts_what_it_refused_into_the_next_it_allows() -> None:
    now = [0.0]
    budget = Budget(2, clock=lambda: now[0])
    assert [budget.take() for _ in range(4)] == [(True, 0), (True, 0), (False, 0), (False, 0)]
    now[0] = 61.0
    assert budget.take() == (True, 2)
