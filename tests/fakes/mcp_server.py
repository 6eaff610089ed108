"""A small MCP server for the tests, on stdio, built with the official ``mcp`` SDK.

An issue tracker: ``lookup_issue`` (harmless), ``close_issue`` (changes something: asks),
``secret_tool`` (left out by ``allowed_tools``) and ``crash`` (the server dies mid-call)::

    {"mcp": {"servers": {"tracker": {"command": sys.executable, "args": [FAKE_MCP_SERVER]}}}}
"""

from __future__ import annotations

import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer

FAKE_MCP_SERVER = str(Path(__file__).resolve())

server = MCPServer(name="tracker")


@server.tool()
def lookup_issue(number: int) -> str:
    """The title of issue ``number``."""
    return f"Issue {number}: add() subtracts"


@server.tool()
def close_issue(number: int) -> str:
    """Close issue ``number``."""
    return f"closed issue {number}"


@server.tool()
def secret_tool() -> str:
    """Not for runs."""
    return "secret"


@server.tool()
def crash() -> str:
    """Kill the server, as a server crashing mid-run would."""
    os._exit(3)


if __name__ == "__main__":
    server.run("stdio")
