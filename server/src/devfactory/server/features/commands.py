"""Commands in a run's worktree: ``devfactory/commands/run``, ``/list`` and ``/policy``.

Creates the ``CommandService`` during initialize (the agent's ``run_command`` tool uses the
same one), reports a policy that does not validate to the user, and stops every running
command on shutdown.
"""

from __future__ import annotations

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

from .. import rpc
from ..app import DevFactoryServer
from ..errors import InvalidParams, InvalidState, NotFound
from ..execution.service import CommandService
from ..services import Services


def setup(server: DevFactoryServer) -> None:
    async def start(services: Services) -> None:
        assert services.events is not None, "the events feature must start first"

        async def pre_command_snapshot(run: Run, description: str) -> object:
            if services.snapshots is None or run.worktree_path is None:
                raise RuntimeError("snapshots are not available in this daemon")
            return await services.snapshots.create(
                SnapshotType.PRE_COMMAND,
                description,
                run_id=run.id,
                worktree=Path(run.worktree_path),
            )

        services.commands = CommandService(
            store=services.store,
            events=services.events,
            paths=services.paths,
            project_id=services.project.id,
            settings=services.settings.commands,
            snapshot=pre_command_snapshot,
            secret_names=[
                name
                for provider in services.settings.providers.values()
                for name in provider.api_key_env
            ],
            owner=services.daemon.name,
        )
        await services.commands.recover(services.daemon)
        for problem in services.commands.policy().problems:
            server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=problem)
            )

    async def warm_up(services: Services) -> None:
        """Probe bubblewrap and the pids cgroup now, not during the first command."""
        if services.commands is not None:
            await services.commands.sandbox_info()
            await services.commands.process_limit()

    async def stop(services: Services) -> None:
        if services.commands is not None:
            await services.commands.close()

    server.on_initialize.append(start)
    server.on_initialized.append(warm_up)
    server.on_shutdown.append(stop)

    def commands() -> CommandService:
        service = server.services.commands
        if service is None:
            raise InvalidState("command execution is not available in this daemon")
        return service

    async def get_run(run_id: int) -> Run:
        services = server.services
        run = await services.store.runs.get(run_id)
        if run is None or run.project_id != services.project.id:
            raise NotFound("run", run_id)
        return run

    @rpc.request(server, Requests.COMMANDS_RUN)
    async def run_command(params: CommandRunParams) -> CommandExecution:
        if not params.command.strip():
            raise InvalidParams("command is empty: pass the command line to run, e.g. 'pytest -q'")
        if params.timeout_s is not None and params.timeout_s <= 0:
            raise InvalidParams(
                f"timeoutS must be a positive number of seconds, got {params.timeout_s}"
            )
        run = await get_run(params.run_id)
        if not run.worktree_path or not Path(run.worktree_path).is_dir():
            raise InvalidState(
                f"run {run.id} has no worktree yet; commands run in a run's worktree, which"
                " is created when the run starts"
            )
        outcome = await commands().execute(
            run, params.command, timeout_s=params.timeout_s, origin="user"
        )
        return outcome.execution

    @rpc.request(server, Requests.COMMANDS_LIST)
    async def list_commands(params: CommandListParams) -> CommandList:
        run = await get_run(params.run_id)
        return CommandList(executions=await commands().list(run.id))

    @rpc.request(server, Requests.COMMANDS_POLICY)
    async def policy(params: NoParams) -> CommandPolicy:
        return await commands().policy_view()
