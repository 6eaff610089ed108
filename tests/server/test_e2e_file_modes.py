"""File modes after an approve: a file the change creates gets the mode the user's umask gives
(as their editor or ``touch`` would make it), and a file it edits keeps the mode it had.

One atomic write (``safefs.SafeTree.write``) does both; two that had drifted apart once made
every created file owner-only (0600). The daemon runs under the umask of each case, as an
editor started from a shell with that umask would start it, and its client applies no
workspace edits (as the CLI): the daemon writes every file itself. (An editor that can create
files is asked to, and its own umask applies.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import attrs
import pytest
from lsprotocol import types

from devfactory.protocol.changes import ChangeDecisionResult
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run
from runs_support import stop_daemon
from support import (
    SERVER_COMMAND,
    DaemonClient,
    initialize_params,
    make_git_repo,
    wait_for_run,
    write_script,
)

EDITED_MODE = 0o640
"""The edited file's mode: unlike any umask default, so keeping it is seen."""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


CREATED = ["CHANGELOG_AI.md", "NOTES.md", "docs/HOWTO.md"]
"""What the approve creates: the agent's two new files and its changelog entry."""


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o027, 0o077], ids=lambda m: f"umask-{m:03o}")
async def test_an_approved_change_creates_files_with_the_users_umask(tmp_path: Path, umask: int):
    workspace = make_git_repo(tmp_path / "ws", {"app.py": "VALUE = 1\n"})
    os.chmod(workspace / "app.py", EDITED_MODE)
    script = write_script(
        workspace,
        [
            {"text": "1. Add notes and change the value"},
            {
                "toolCalls": [
                    {"name": "write_file", "arguments": {"path": "NOTES.md", "content": "n\n"}},
                    {
                        "name": "write_file",
                        "arguments": {"path": "docs/HOWTO.md", "content": "h\n"},
                    },
                    {
                        "name": "edit_file",
                        "arguments": {"path": "app.py", "search": "1", "replace": "2"},
                    },
                ]
            },
            {"toolCalls": [{"name": "finish", "arguments": {"summary": "notes and value"}}]},
        ],
    )
    client = DaemonClient(apply_edits=False)
    # The daemon inherits the umask from the shell that starts it, as from an editor's.
    await client.start_io("sh", "-c", f'umask {umask:03o} && exec "$@"', "sh", *SERVER_COMMAND)
    try:
        await client.initialize_session(
            attrs.evolve(
                initialize_params(workspace, options={"index": {"watch": False}}),
                capabilities=types.ClientCapabilities(),  # no workspace/applyEdit
            )
        )
        created: Run = await client.call(
            Requests.RUNS_CREATE,
            {"prompt": "notes", "provider": "scripted", "model": script, "mode": "review"},
        )
        run = await wait_for_run(client, created.id, {"completed", "failed"})
        assert run.status.value == "completed", run.failed_reason
        result: ChangeDecisionResult = await client.call(
            Requests.CHANGES_APPROVE, {"runId": run.id}
        )
        assert sorted(c.path for c in result.changes) == sorted([*CREATED, "app.py"])
    finally:
        await stop_daemon(client)
    assert (workspace / "NOTES.md").read_text() == "n\n"
    assert (workspace / "app.py").read_text() == "VALUE = 2\n"
    modes = {name: mode(workspace / name) for name in [*CREATED, "app.py"]}
    assert modes == {**dict.fromkeys(CREATED, 0o666 & ~umask), "app.py": EDITED_MODE}
