"""Two daemons on one workspace (an editor's and a short-lived CLI's): a client that asks for
``ownRunsOnly`` gets a daemon that starts only the runs it queued, never the editor's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devfactory.protocol.enums import RunStatus
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunIdParams
from runs_support import (
    RUN_OPTIONS,
    create_run,
    finish,
    turn,
    wait_finished,
    wait_status,
    write_script,
)
from support import DaemonClient, initialize_params, make_client, make_git_repo

S = RunStatus
OPTIONS = {**RUN_OPTIONS, "maxConcurrentRuns": 1}


async def start_daemon(workspace: Path, *, own_runs_only: bool) -> DaemonClient:
    client = make_client()
    await client.start_io(sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio")
    params = initialize_params(workspace, options=OPTIONS)
    if own_runs_only:
        params.capabilities.experimental = {"devfactory": {"ownRunsOnly": True}}
    await client.initialize_session(params)
    return client


@pytest.mark.both_databases
async def test_a_cli_daemon_leaves_the_editors_queued_runs_alone(tmp_path: Path):
    workspace = make_git_repo(tmp_path / "project")
    slow = write_script(tmp_path, "slow", [turn("1. Think", delay_s=600)])
    quick = write_script(tmp_path, "quick", [turn("1. Go"), finish()])
    editor = await start_daemon(workspace, own_runs_only=False)
    cli = None
    try:
        busy = await create_run(editor, slow)
        await wait_status(editor, busy.id, S.RUNNING)
        waiting = await create_run(editor, quick)
        assert waiting.status is S.QUEUED

        cli = await start_daemon(workspace, own_runs_only=True)
        mine = await create_run(cli, quick)
        assert (await wait_finished(cli, mine.id)).status is S.COMPLETED
        untouched: Run = await cli.call(Requests.RUNS_GET, RunIdParams(run_id=waiting.id))
        assert untouched.status is S.QUEUED, "the CLI daemon did not take the editor's run"
        await cli.shutdown_session()

        await editor.call(Requests.RUNS_CANCEL, RunIdParams(run_id=busy.id))
        assert (await wait_finished(editor, waiting.id)).status is S.COMPLETED
        await editor.shutdown_session()
    finally:
        for client in (cli, editor):
            if client is not None:
                await client.stop()
