"""``devfactory mcp`` as another agent sees it: the official ``mcp`` SDK's client starts it over
stdio, lists its tools and resources, searches the real index, reads runs of the real daemon,
and gets clear errors for bad calls while the server keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from mcp import Client, MCPError, StdioServerParameters
from mcp.types import CallToolResult, TextContent, TextResourceContents

from runs_support import call, finish, turn, write_script
from support import git, make_git_repo, trust_workspace

pytestmark = pytest.mark.asyncio(loop_scope="module")

FILES = {
    "shop/cart.py": (
        "class Cart:\n"
        "    def add_item(self, sku, quantity):\n"
        '        """Put quantity units of sku in the cart."""\n'
        "        self.items[sku] = self.items.get(sku, 0) + quantity\n"
    ),
    "shop/pricing.py": "def total_price(cart, discount):\n    return sum(cart.items.values())\n",
}


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_git_repo(tmp_path_factory.mktemp("mcp") / "project", FILES)
    (root / "devfactory.toml").write_text(
        'default_provider = "scripted"\n[index]\nembedder = "none"\nwatch = false\n'
    )
    git(root, "add", "devfactory.toml")
    git(root, "commit", "-qm", "settings")
    return trust_workspace(root)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def mcp(workspace: Path) -> AsyncIterator[Client]:
    server = StdioServerParameters(
        command=sys.executable,
        args=["-P", "-m", "devfactory.server", "mcp", "--allow-runs", "-w", str(workspace)],
        cwd=str(workspace),
    )
    # anyio's task groups must be left by the task that entered them: one task holds the
    # connection while the module's tests use it.
    entered: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def hold() -> None:
        async with Client(server, read_timeout_seconds=60, cache=None) as client:
            entered.set_result(client)
            await release.wait()

    holder = asyncio.create_task(hold())
    try:
        yield await entered
    finally:
        release.set()
        await holder


async def until_found(client: Client, tool: str, arguments: dict[str, Any], expected: str) -> str:
    """Call ``tool`` until its answer holds ``expected``: the index builds in the background."""
    for _ in range(200):
        text = text_of(await client.call_tool(tool, arguments))
        if expected in text:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{tool} never found {expected!r}; last answer: {text}")


async def test_lists_the_read_only_tools_and_resources(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    assert set(tools) == {
        "search_code",
        "find_symbol",
        "project_map",
        "list_runs",
        "run_events",
        "create_run",  # --allow-runs
    }
    assert tools["search_code"].annotations is not None
    assert tools["search_code"].annotations.read_only_hint is True
    resources = [str(r.uri) for r in (await mcp.list_resources()).resources]
    assert resources == ["devfactory://project/map"]
    templates = [t.uri_template for t in (await mcp.list_resource_templates()).resource_templates]
    assert templates == ["devfactory://runs/{run_id}/timeline"]


async def test_search_code_and_find_symbol_answer_from_the_index(mcp: Client) -> None:
    found = await until_found(mcp, "search_code", {"query": "add item to cart"}, "shop/cart.py")
    assert "Put quantity units of sku" in found
    files = await until_found(
        mcp, "search_code", {"query": "add item to cart", "group_by": "file"}, "# shop/cart.py"
    )
    assert files.startswith("# shop/cart.py\nshop/cart.py:")
    symbol = await until_found(mcp, "find_symbol", {"name": "add_item"}, "shop/cart.py:2")
    assert "Cart.add_item" in symbol
    assert "pricing" not in symbol
    missing = text_of(await mcp.call_tool("find_symbol", {"name": "no_such_function"}))
    assert missing == "no definition of 'no_such_function' in the index (try search_code)"


async def test_project_map_tool_and_resource(mcp: Client, workspace: Path) -> None:
    markdown = text_of(await mcp.call_tool("project_map", {}))
    assert "python" in markdown.lower()
    assert not (workspace / "PROJECT_MAP.md").exists()  # read-only: nothing written
    contents = (await mcp.read_resource("devfactory://project/map")).contents
    assert isinstance(contents[0], TextResourceContents)
    assert contents[0].text == markdown


async def test_the_map_resource_never_reads_through_a_link(
    mcp: Client, workspace: Path, tmp_path: Path
) -> None:
    """A committed PROJECT_MAP.md linking to a private key went whole into the MCP client's
    context; the written map is read as a file, a link is left alone for the generated map."""
    secret = tmp_path / "id_rsa"
    secret.write_text("TOP-SECRET-PRIVATE-KEY\n")
    written = workspace / "PROJECT_MAP.md"
    try:
        written.symlink_to(secret)
        linked = (await mcp.read_resource("devfactory://project/map")).contents[0]
        assert isinstance(linked, TextResourceContents)
        assert "TOP-SECRET" not in linked.text and "python" in linked.text.lower()
        written.unlink()
        written.write_text("# the map as the user keeps it\n")
        kept = (await mcp.read_resource("devfactory://project/map")).contents[0]
        assert isinstance(kept, TextResourceContents)
        assert kept.text == "# the map as the user keeps it\n"
    finally:
        written.unlink(missing_ok=True)


async def test_a_created_run_is_listed_with_its_events_and_timeline(
    mcp: Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    script = write_script(
        tmp_path_factory.mktemp("scripts"),
        "read",
        [turn("1. Read the cart."), turn("", call("read_file", path="shop/cart.py")), finish()],
    )
    created = await mcp.call_tool(
        "create_run", {"prompt": "Explain the cart", "provider": "scripted", "model": str(script)}
    )
    run = created.structured_content
    assert run is not None and run["status"] in ("queued", "running")
    assert run["mode"] == "review"
    run_id = run["id"]
    for _ in range(300):
        runs = (await mcp.call_tool("list_runs", {})).structured_content
        assert runs is not None
        if runs["result"][0]["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert runs["result"][0]["id"] == run_id
    events = (await mcp.call_tool("run_events", {"run_id": run_id})).structured_content
    assert events is not None
    kinds = [e["type"] for e in events["events"] if e["type"] != "conversation_message_added"]
    assert kinds[:2] == ["run_status_changed", "run_status_changed"]
    assert "file_read" in kinds and kinds[-2:] == ["final_summary", "run_status_changed"]
    page = (await mcp.call_tool("run_events", {"run_id": run_id, "limit": 2})).structured_content
    assert (
        page is not None and page["hasMore"] is True and page["lastId"] == page["events"][1]["id"]
    )

    timeline = (await mcp.read_resource(f"devfactory://runs/{run_id}/timeline")).contents[0]
    assert isinstance(timeline, TextResourceContents)
    assert timeline.text.startswith(f"# Run {run_id}: Explain the cart\n")
    assert "**file_read** (debug): Read shop/cart.py" in timeline.text
    assert "conversation_message_added" not in timeline.text


@pytest.mark.parametrize(
    ("tool", "arguments", "error"),
    [
        ("no_such_tool", {}, "Unknown tool: no_such_tool"),
        ("run_events", {"run_id": 9999}, "run 9999 does not exist"),
        ("search_code", {"query": "cart", "limit": 0}, "limit"),
        ("run_events", {"run_id": "seven"}, "run_id"),
    ],
)
async def test_bad_calls_get_clear_errors_and_the_server_keeps_serving(
    mcp: Client, tool: str, arguments: dict[str, Any], error: str
) -> None:
    result = await mcp.call_tool(tool, arguments)
    assert result.is_error
    assert error in text_of(result)
    assert (await mcp.call_tool("list_runs", {"limit": 1})).is_error is False


async def test_unknown_resources_are_protocol_errors(mcp: Client) -> None:
    for uri in ("devfactory://runs/9999/timeline", "devfactory://runs/seven/timeline"):
        with pytest.raises(MCPError) as raised:
            await mcp.read_resource(uri)
        assert "9999" in str(raised.value) or "seven" in str(raised.value)
    assert json.loads(text_of(await mcp.call_tool("list_runs", {"limit": 1})))  # still serving


async def test_a_daemon_that_cannot_start_is_one_line_and_an_exit(tmp_path: Path) -> None:
    """As from every other command: no traceback for the MCP client's log to show."""
    root = make_git_repo(tmp_path / "newer", {"app.py": "VALUE = 1\n"})
    database = root / ".devfactory" / "devfactory.db"
    database.parent.mkdir()
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA user_version = 999")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-P", "-m", "devfactory.server", "mcp", "-w", str(root),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    [line] = err.decode().splitlines()
    assert line.startswith(f"Error: {database} has schema version 999"), line
