"""Commands in a run's worktree: ``devfactory/commands/run``, ``/list`` and ``/policy``.

Provides the ``CommandService`` (the agent's ``run_command`` tool uses the same one): it
first recovers the commands of a daemon that died, reports a policy that does not validate to
the user, and stops every running command on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from lsprotocol import types

from devfactory.protocol._base import NoParams
from devfactory.protocol.commands import (
    CommandExecution,
    CommandList,
    CommandListParams,
    CommandPolicy,
    CommandRunParams,
)
from devfactory.protocol.enums import SnapshotType
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run
from devfactory.storage import database_files

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace
from ..errors import InvalidParams, InvalidState
from ..execution.sandbox import Sandbox
from ..paths import team_token_file


async def start(
    server: DevFactoryServer,
    workspace: Workspace,
    events: services.EventBus,
    snapshots: services.SnapshotService | None,
) -> AsyncIterator[services.CommandService]:
    async def pre_command_snapshot(run: Run, description: str) -> object:
        if snapshots is None or run.worktree_path is None:
            raise RuntimeError("snapshots are not available in this daemon")
        return await snapshots.create(
            SnapshotType.PRE_COMMAND, description, run_id=run.id, worktree=Path(run.worktree_path)
        )

    commands = services.CommandService(
        store=workspace.store,
        events=events,
        paths=workspace.paths,
        project_id=workspace.project.id,
        settings=workspace.settings.commands,
        snapshot=pre_command_snapshot,
        secret_names=[
            name
            for provider in workspace.settings.providers.values()
            for name in provider.api_key_env
        ],
        owner=workspace.daemon.name,
        sandbox=Sandbox(
            state_dir=workspace.paths.state,
            private=[
                team_token_file(workspace.settings.team.token_file),
                *database_files(workspace.store.location),
            ],
        ),
    )
    await commands.recover(workspace.daemon)
    policy = commands.policy()
    for problem in () if policy.awaiting_trust and server.reviews_trust else policy.problems:
        server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=problem)
        )
    server.run_task(warm_up(commands), name="commands-warm-up")
    yield commands
    await commands.close()


async def warm_up(commands: services.CommandService) -> None:
    """Probe bubblewrap and the pids cgroup now, not during the first command."""
    await commands.sandbox_info()
    await commands.process_limit()


def setup(server: DevFactoryServer) -> None:
    @rpc.request(server, Requests.COMMANDS_RUN)
    async def run_command(params: CommandRunParams) -> CommandExecution:
        if not params.command.strip():
            raise InvalidParams("command is empty: pass the command line to run, e.g. 'pytest -q'")
        if params.timeout_s is not None and params.timeout_s <= 0:
            raise InvalidParams(
                f"timeoutS must be a positive number of seconds, got {params.timeout_s}"
            )
        commands = await server.need(services.CommandService)
        stops = commands.stops(params.run_id)  # a Stop sent after this request ends the command
        run = await (await server.need(Workspace)).run(params.run_id)
        if not run.worktree_path or not Path(run.worktree_path).is_dir():
            raise InvalidState(
                f"run {run.id} has no worktree yet; commands run in a run's worktree, which"
                " is created when the run starts"
            )
        outcome = await commands.execute(
            run, params.command, timeout_s=params.timeout_s, origin="user", stops_seen=stops
        )
        return outcome.execution

    @rpc.request(server, Requests.COMMANDS_LIST)
    async def list_commands(params: CommandListParams) -> CommandList:
        run = await (await server.need(Workspace)).run(params.run_id)
        commands = await server.need(services.CommandService)
        return CommandList(executions=await commands.list(run.id))

    @rpc.request(server, Requests.COMMANDS_POLICY)
    async def policy(params: NoParams) -> CommandPolicy:
        return await (await server.need(services.CommandService)).policy_view()
