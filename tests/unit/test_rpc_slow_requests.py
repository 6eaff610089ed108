"""A ``devfactory/*`` request answered late is logged with its time, so a daemon's log says
what kept an editor waiting (the editor tests print it when a check fails)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from devfactory.protocol.methods import Requests
from devfactory.server import rpc


class Registrations:
    """The one part of pygls's server that ``rpc.request`` uses: ``feature(method)``."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[Any], Any]] = {}

    def feature(self, method: str) -> Callable[[Callable[[Any], Any]], Any]:
        return lambda handler: self.handlers.setdefault(method, handler)


async def test_a_late_answer_is_logged_and_a_prompt_one_is_not(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rpc, "SLOW_REQUEST_S", 0.05)
    server: Any = Registrations()

    @rpc.request(server, Requests.PROJECT_INFO)
    async def late(params: Any) -> str:
        await asyncio.sleep(0.1)
        return "late"

    @rpc.request(server, Requests.INDEX_STATUS)
    async def prompt(params: Any) -> str:
        return "prompt"

    with caplog.at_level(logging.INFO, logger=rpc.__name__):
        assert await server.handlers[Requests.PROJECT_INFO]({}) == "late"
        assert await server.handlers[Requests.INDEX_STATUS]({}) == "prompt"
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{Requests.PROJECT_INFO} answered in ")
