"""The core feature: the LSP lifecycle, ``devfactory/health`` and ``devfactory/project/info``.

``initialize`` opens the workspace database, registers the project and answers quickly;
the features start in the background after the response (:mod:`..wiring`), this one first
(it detects the project's languages), and requests that need one wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import time
from collections.abc import AsyncIterator
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from devfactory.protocol._base import NoParams
from devfactory.protocol.context import ProjectRules, ProjectRulesParams
from devfactory.protocol.methods import PROTOCOL_VERSION, Requests
from devfactory.protocol.project import Health, Project, ProviderCheck
from devfactory.storage import DatabaseError, open_store, shown_location

from .. import documents, rpc, services
from ..app import DevFactoryServer
from ..config import load_settings, storage_location
from ..context import Workspace
from ..errors import InvalidParams, Unavailable
from ..git.runner import GitError, GitRunner
from ..logs import attach_workspace_logging
from ..paths import StatePaths
from ..project import registration
from ..runs.ownership import DaemonLock
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


async def open_workspace(
    root: Path, init_options: object, *, report_held_back: bool = True
) -> tuple[Workspace, list[str]]:
    """Open the workspace: state folder, database, project record (``report_held_back``:
    :func:`..config.load_settings`)."""
    if not root.is_dir():
        raise Unavailable(f"the workspace folder {root} does not exist")
    settings, problems = load_settings(root, init_options, report_held_back=report_held_back)
    try:  # before anything is written there: the folder may be a repository's own
        repository = await registration.inspect(GitRunner(root))
    except (GitError, registration.NotAWorkspace) as exc:
        raise Unavailable(str(exc)) from None
    paths = StatePaths(root)
    paths.ensure()
    try:
        store = await open_store(storage_location(settings, paths.database))
    except DatabaseError as exc:
        raise Unavailable(str(exc)) from None
    name = settings.team.project or root.name
    facts = (
        name,
        registration.slugify(name),
        repository.default_branch,
        repository.current_branch,
    )
    # A restart finds the project as it left it: no write (a commit can wait on the disk).
    key = registration.project_key(root, settings.team.project)
    project = await store.projects.by_root(key)
    if project is None or facts != (
        project.name,
        project.slug,
        project.default_branch,
        project.current_branch,
    ):
        name, slug, default_branch, current_branch = facts
        project = await store.projects.register(
            root_path=key,
            name=name,
            slug=slug,
            default_branch=default_branch,
            current_branch=current_branch,
        )
    if settings.team.workers:
        if store.run_queue is None:
            problems.append(
                "team.workers needs a PostgreSQL storage (the workers' queue is in it); "
                "runs execute in this daemon"
            )
        else:
            from ..runs.segment import for_workers

            await store.run_queue.enable(for_workers)
    if repository.exclude is not None:
        registration.exclude_state_dir(repository.exclude, repository.prefix)
    workspace = Workspace(
        paths=paths,
        settings=settings,
        store=store,
        project=project,
        is_git_repo=repository.is_worktree and not repository.prefix,
        inside_repository=repository.is_worktree and bool(repository.prefix),
        daemon=DaemonLock(paths.state / "daemons"),
    )
    return workspace, problems


async def start(workspace: Workspace) -> AsyncIterator[Project]:
    """The project, once its languages are detected (first thing after the response)."""
    await detect_languages(workspace)
    yield workspace.project


async def detect_languages(workspace: Workspace) -> None:
    from ..project.files import list_workspace_files
    from ..project.languages import language_stats

    files = await asyncio.to_thread(
        list_workspace_files, workspace.root, workspace.settings.index.exclude
    )
    stats = await asyncio.to_thread(language_stats, workspace.root, files)
    await workspace.store.projects.set_detection(
        workspace.project.id, stats, workspace.project.frameworks
    )
    refreshed = await workspace.store.projects.get(workspace.project.id)
    if refreshed is not None:
        workspace.project = refreshed


def setup(server: DevFactoryServer) -> None:
    documents.register(server, server.document_listeners)

    @server.feature(types.INITIALIZE)
    async def on_initialize(params: types.InitializeParams) -> None:
        started = time.perf_counter()
        root = workspace_root(params)
        workspace, problems = await open_workspace(
            root, params.initialization_options, report_held_back=not server.reviews_trust
        )
        attach_workspace_logging(
            workspace.paths.log_file, server.window_log_message, workspace.settings.log_level
        )
        log.info("serving %s (project %d)", root, workspace.project.id)
        for problem in problems:
            server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=problem)
            )
        server.wiring.open(
            {DevFactoryServer: server, Workspace: workspace},
            spawn=lambda coro: server.run_task(coro, name="features"),
        )
        log.info("initialized in %.0f ms", (time.perf_counter() - started) * 1000)

    @server.feature(types.INITIALIZED)
    async def on_initialized(params: types.InitializedParams) -> None:
        server.wiring.begin()

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(params: None) -> None:
        workspace = server.workspace_or_none
        if workspace is None:
            return
        await server.wiring.stop()
        await server.cancel_tasks()
        await workspace.store.close()
        workspace.daemon.release()

    @rpc.request(server, Requests.HEALTH)
    async def health(params: NoParams) -> Health:
        workspace = await server.need(Workspace)
        commands = await server.find(services.CommandService)
        index = await server.find(services.IndexService)
        if commands is not None:
            sandbox = await commands.sandbox_info()
        else:  # a daemon without the commands feature: whether one would work here
            from ..execution.sandbox import Sandbox

            sandbox = await Sandbox(state_dir=workspace.paths.state).info()
        status = await workspace.store.status()
        return Health(
            version=__version__,
            protocol_version=PROTOCOL_VERSION,
            python_version=platform.python_version(),
            sqlite_version=status.engine_version,
            sqlite_vec_version=status.vector_version,
            database_ok=status.problem is None,
            database_problem=status.problem,
            database_path=shown_location(workspace.store.location),
            database_engine=status.engine,
            schema_version=status.schema_version,
            project_id=workspace.project.id,
            counts=await workspace.store.counts(workspace.project.id),
            sandbox=sandbox,
            log_path=str(workspace.paths.log_file),
            embedder=index.embedder_label if index is not None else None,
            provider=await provider_check(workspace),
        )

    async def provider_check(workspace: Workspace) -> ProviderCheck | None:
        if await server.find(services.RunManager) is None:
            return None
        from ..agents.providers.readiness import check_provider  # with the runs feature only

        return await check_provider(workspace.settings, workspace.root, workspace.store)

    @rpc.request(server, Requests.PROJECT_INFO)
    async def project_info(params: NoParams) -> Project:
        return await server.need(Project)

    @rpc.request(server, Requests.PROJECT_RULES)
    async def project_rules(params: ProjectRulesParams) -> ProjectRules:
        from ..agents.attachments import AttachmentError, relative_path
        from ..agents.rules import load_catalog, rules_for
        from ..safefs import PathRefused, check_path

        workspace = await server.need(Workspace)
        path = None
        if params.path:
            try:
                path = check_path(relative_path(params.path, workspace.root))
            except (AttachmentError, PathRefused) as exc:
                raise InvalidParams(f"path: {exc}") from None
        agent = workspace.settings.agent
        catalog = await asyncio.to_thread(load_catalog, workspace.root, agent.instructions)
        return rules_for(catalog, path, agent.rules_max_chars)
