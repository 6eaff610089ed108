"""The core feature: the LSP lifecycle, ``devfactory/health`` and ``devfactory/project/info``.

``initialize`` opens the workspace database, registers the project and answers quickly;
anything slow (indexing, recovery) waits for ``initialized`` and runs in the background.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import time
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from devfactory.protocol._base import NoParams
from devfactory.protocol.methods import PROTOCOL_VERSION, Requests
from devfactory.protocol.project import Health, Project, ProviderCheck
from devfactory.storage import DatabaseError, open_store

from .. import documents, rpc
from ..app import DevFactoryServer
from ..config import load_settings
from ..errors import Unavailable
from ..execution.sandbox import Sandbox
from ..git.runner import GitError, GitRunner
from ..logs import attach_workspace_logging
from ..paths import StatePaths
from ..project import registration
from ..project.files import list_workspace_files
from ..project.languages import language_stats
from ..runs.ownership import DaemonLock
from ..services import Services
from ..version import __version__

log = logging.getLogger(__name__)


def workspace_root(params: types.InitializeParams) -> Path:
    """The folder the client opened: first workspace folder, else rootUri, else rootPath."""
    uri = None
    if params.workspace_folders:
        uri = params.workspace_folders[0].uri
    elif params.root_uri:
        uri = params.root_uri
    if uri is not None:
        path = to_fs_path(uri)
        if path:
            return Path(path).resolve()
    if params.root_path:
        return Path(params.root_path).resolve()
    return Path.cwd().resolve()


async def open_services(root: Path, init_options: object) -> tuple[Services, list[str]]:
    """Open the workspace: state folder, database, project record."""
    if not root.is_dir():
        raise Unavailable(f"the workspace folder {root} does not exist")
    settings, problems = load_settings(root, init_options)
    paths = StatePaths(root)
    paths.ensure()
    try:
        store = await open_store(paths.database)
    except DatabaseError as exc:
        raise Unavailable(str(exc)) from None
    git = GitRunner(root)
    try:
        is_repo = await registration.is_git_worktree(git)
        default_branch, current_branch = (
            await registration.branches(git) if is_repo else (None, None)
        )
    except GitError as exc:
        await store.close()
        raise Unavailable(str(exc)) from None
    project = await store.projects.register(
        root_path=str(root),
        name=root.name,
        slug=registration.slugify(root.name),
        default_branch=default_branch,
        current_branch=current_branch,
    )
    services = Services(
        paths=paths,
        settings=settings,
        store=store,
        project=project,
        is_git_repo=is_repo,
        daemon=DaemonLock(paths.state / "daemons"),
    )
    if is_repo:
        await registration.exclude_state_dir(git)
    return services, problems


async def detect_languages(services: Services) -> None:
    files = await asyncio.to_thread(
        list_workspace_files, services.root, services.settings.index.exclude
    )
    stats = await asyncio.to_thread(language_stats, services.root, files)
    await services.store.projects.set_detection(
        services.project.id, stats, services.project.frameworks
    )
    refreshed = await services.store.projects.get(services.project.id)
    if refreshed is not None:
        services.project = refreshed


def setup(server: DevFactoryServer) -> None:
    documents.register(server)

    @server.feature(types.INITIALIZE)
    async def on_initialize(params: types.InitializeParams) -> None:
        server.loop = asyncio.get_running_loop()
        started = time.perf_counter()
        root = workspace_root(params)
        services, problems = await open_services(root, params.initialization_options)
        server.services_or_none = services
        attach_workspace_logging(services.paths.log_file, server, services.settings.log_level)
        log.info("serving %s (project %d)", root, services.project.id)
        await detect_languages(services)
        for problem in problems:
            server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=problem)
            )
        await server.call_hooks(server.on_initialize, "initialize")
        log.info("initialized in %.0f ms", (time.perf_counter() - started) * 1000)

    @server.feature(types.INITIALIZED)
    async def on_initialized(params: types.InitializedParams) -> None:
        if server.services_or_none is not None:
            server.run_task(
                server.call_hooks(server.on_initialized, "initialized"), name="initialized"
            )

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(params: None) -> None:
        services = server.services_or_none
        if services is None:
            return
        await server.call_hooks(reversed(server.on_shutdown), "shutdown")
        await server.cancel_tasks()
        await services.store.close()
        services.daemon.release()
        server.services_or_none = None

    @rpc.request(server, Requests.HEALTH)
    async def health(params: NoParams) -> Health:
        services = server.services
        status = await services.store.status()
        return Health(
            version=__version__,
            protocol_version=PROTOCOL_VERSION,
            python_version=platform.python_version(),
            sqlite_version=status.engine_version,
            sqlite_vec_version=status.vector_version,
            database_ok=status.problem is None,
            database_problem=status.problem,
            database_path=str(services.paths.database),
            schema_version=status.schema_version,
            project_id=services.project.id,
            counts=await services.store.counts(services.project.id),
            sandbox=(
                await services.commands.sandbox_info()
                if services.commands is not None
                else await Sandbox(state_dir=services.paths.state).info()
            ),
            log_path=str(services.paths.log_file),
            embedder=services.index.embedder_label if services.index is not None else None,
            provider=await provider_check(services),
        )

    async def provider_check(services: Services) -> ProviderCheck | None:
        if services.runs is None:
            return None
        from ..agents.providers.readiness import check_provider  # with the runs feature only

        return await check_provider(services.settings, services.root, services.store)

    @rpc.request(server, Requests.PROJECT_INFO)
    async def project_info(params: NoParams) -> Project:
        return server.services.project
