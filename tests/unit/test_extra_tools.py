"""Extra tools from several sources (MCP servers, an initiative's factory tools) offered to one
run as one: every source's tools listed, each call sent to the source that has the tool."""

from __future__ import annotations

from typing import Any

from devfactory.server.agents.loop import combined
from devfactory.server.agents.providers.base import ToolSpec


class Source:
    def __init__(self, *names: str) -> None:
        self.specs = [ToolSpec(name=n, description=n, parameters={}) for n in names]
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def handles(self, name: str) -> bool:
        return any(spec.name == name for spec in self.specs)

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        self.calls.append((name, arguments))
        return f"{name} done"


async def test_several_sources_are_offered_as_one() -> None:
    mcp, factory = Source("mcp__git__log"), Source("ask_agent", "propose")
    both = combined(mcp, None, factory)
    assert both is not None
    assert [s.name for s in both.specs] == ["mcp__git__log", "ask_agent", "propose"]
    assert both.handles("propose") and not both.handles("write_file")
    assert await both.call("ask_agent", {"task_id": 1}) == "ask_agent done"
    assert (mcp.calls, factory.calls) == ([], [("ask_agent", {"task_id": 1})])


def test_one_source_or_none_is_itself() -> None:
    only = Source("ask_agent")
    assert combined(None, only) is only
    assert combined(None, None) is None
