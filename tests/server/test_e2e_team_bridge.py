"""A developer's daemon bridged to the team's gateway (``[team] gateway`` in devfactory.toml,
the token in ``DEVFACTORY_TOKEN``): the editor speaks stdio to its local daemon; runs, events
and changes are the gateway's, and the gateway's live events reach the editor."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol import errors as codes
from devfactory.protocol.changes import ChangeList
from devfactory.protocol.client import DaemonClient
from devfactory.protocol.errors import RpcError
from devfactory.protocol.events import Event, EventList, EventNotification
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.project import Project
from devfactory.protocol.runs import Run, RunCreateParams, RunList
from gateway_support import TEAM_TOML, RunningGateway, gateway_on_both_databases
from runs_support import call, finish, turn, write_script
from support import make_git_repo, trust_workspace

pytestmark = pytest.mark.asyncio(loop_scope="module")


team = gateway_on_both_databases()


def developer_workspace(folder: Path, team: RunningGateway) -> Path:
    toml = f'{TEAM_TOML}[team]\ngateway = "{team.url}"\nca_file = "{team.ca_file}"\n'
    return trust_workspace(
        make_git_repo(folder / "dev", {"app.py": "VALUE = 1\n", "devfactory.toml": toml})
    )


async def test_runs_events_and_changes_come_from_the_gateway(
    team: RunningGateway, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "bridged", [
        turn("Plan: change the value."),
        turn("Changing it", call("write_file", path="app.py", content="VALUE = 2\n")),
        finish("value changed"),
    ])  # fmt: skip
    token = team.token("dev-alice", "runs:create", "runs:control")
    env = {**team.env, "DEVFACTORY_TOKEN": token}
    env.pop("DEVFACTORY_STORAGE", None)  # the developer's own state stays in their SQLite
    workspace = developer_workspace(tmp_path, team)
    live: list[Event] = []

    def on(method: str, params: Any) -> None:
        if method == Notifications.EVENT and isinstance(params, EventNotification):
            live.append(params.event)

    async with DaemonClient.spawn(workspace, env=env) as editor:
        editor.on_notification(on)
        run: Run = await editor.call(
            Requests.RUNS_CREATE,
            RunCreateParams(prompt="bridged", provider="scripted", model=str(script)),
        )
        while not any(
            e.run_id == run.id and e.payload.get("toStatus") == "completed" for e in live
        ):
            await asyncio.sleep(0.02)
        replay: EventList = await editor.call(Requests.EVENTS, {"runId": run.id, "limit": 1000})
        changes: ChangeList = await editor.call(Requests.CHANGES_LIST, {"runId": run.id})
        with pytest.raises(RpcError) as refused:
            await editor.request(Requests.CHANGES_APPROVE, {"changeIds": [changes.changes[0].id]})
        local: Project = await editor.call(Requests.PROJECT_INFO)

    assert [e for e in live if e.run_id == run.id] == replay.events
    assert "app.py" in [c.path for c in changes.changes]
    assert refused.value.code == codes.REFUSED and "changes:approve" in refused.value.message
    assert local.root_path == str(workspace.resolve())  # not bridged: the developer's folder
    assert (workspace / "app.py").read_text() == "VALUE = 1\n"  # the run worked on the gateway
    async with await team.client(team.token("reader-alice")) as reader:
        runs: RunList = await reader.call(Requests.RUNS_LIST, {})
    assert run.id in [r.id for r in runs.runs]


async def test_without_a_token_bridged_methods_say_how_to_get_one(
    team: RunningGateway, tmp_path: Path
) -> None:
    env = {**team.env, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("DEVFACTORY_STORAGE", None)
    env.pop("DEVFACTORY_TOKEN", None)
    workspace = developer_workspace(tmp_path, team)
    with pytest.MonkeyPatch.context() as patch:  # trusted in the config folder it runs with
        patch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
        trust_workspace(workspace)
    async with DaemonClient.spawn(workspace, env=env) as editor:
        with pytest.raises(RpcError) as missing:
            await editor.request(Requests.RUNS_LIST, {})
        project: Project = await editor.call(Requests.PROJECT_INFO)
    assert missing.value.code == codes.UNAVAILABLE
    assert "DEVFACTORY_TOKEN" in missing.value.message and "token create" in missing.value.message
    assert project.root_path == str(workspace.resolve())
