"""A team worker's worktree writes check its lease first: once another worker took the run
over (``LeaseLost``), write_file, edit_file and delete_file change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.enums import ChangeAction
from devfactory.server.agents.tools import ToolBox
from devfactory.storage import LeaseLost


async def nothing(*args: Any, **kwargs: Any) -> None:
    return None


def toolbox(worktree: Path, *, held: bool) -> ToolBox:
    async def guard() -> None:
        if not held:
            raise LeaseLost(7, 1)

    async def changed(path: str, action: ChangeAction) -> int | None:
        return None

    return ToolBox(
        run_id=7, worktree=worktree, emit=nothing, on_file_changed=changed, search=None,
        guard=guard,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("write_file", {"path": "a.py", "content": "new\n"}),
        ("edit_file", {"path": "a.py", "search": "old", "replace": "new"}),
        ("delete_file", {"path": "a.py"}),
    ],
)
async def test_a_worker_that_lost_the_lease_writes_nothing(
    tmp_path: Path, tool: str, arguments: dict[str, str]
) -> None:
    (tmp_path / "a.py").write_text("old\n")
    with pytest.raises(LeaseLost, match="run 7 was taken over"):
        await getattr(toolbox(tmp_path, held=False), tool)(**arguments)
    assert (tmp_path / "a.py").read_text() == "old\n"

    await getattr(toolbox(tmp_path, held=True), tool)(**arguments)
    assert not (tmp_path / "a.py").exists() or (tmp_path / "a.py").read_text() == "new\n"
