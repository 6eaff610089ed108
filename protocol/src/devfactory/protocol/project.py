"""Project records and the daemon's health: ``devfactory/health``, ``devfactory/project/*``."""

from __future__ import annotations

from ._base import Model, Params
from .enums import SandboxSource


class LanguageStat(Model, kw_only=True):
    """How much of the workspace is written in one language."""

    language: str
    files: int
    bytes: int


class Project(Model, kw_only=True):
    """The workspace a daemon serves, registered on ``initialize``."""

    id: int
    name: str
    slug: str
    root_path: str
    default_branch: str | None = None
    current_branch: str | None = None
    languages: list[LanguageStat] = []
    frameworks: list[str] = []
    created_at: str
    updated_at: str


class SandboxInfo(Model, kw_only=True):
    """Whether commands run inside an OS sandbox, which bubblewrap, and why not."""

    active: bool
    tool: str | None = None
    """Path of the bubblewrap executable that was tried (the working one when active)."""
    version: str | None = None
    """Its version (``bwrap --version``), when it answered."""
    source: SandboxSource | None = None
    """Whether it is the system's bubblewrap or the one bundled with the daemon."""
    reason: str | None = None
    """Why commands do not run sandboxed, when they do not."""


class ProviderCheck(Model, kw_only=True):
    """Whether the default provider can take a run now, so the first one does not fail."""

    name: str
    model: str | None = None
    ready: bool
    problem: str | None = None
    """What stops it, with the fix: a key variable that is not set, a local server that does
    not answer, a missing executable or script."""


class Health(Model, kw_only=True):
    """Result of ``devfactory/health``: versions, database state and counts."""

    version: str
    protocol_version: str
    python_version: str
    sqlite_version: str
    sqlite_vec_version: str | None
    database_ok: bool
    database_problem: str | None = None
    """Why ``database_ok`` is false: writes fail (a full disk, a stuck writer) or the integrity
    check found damage."""
    database_path: str
    database_engine: str = "sqlite"
    """sqlite or postgresql: ``sqlite_version`` is then the engine's version and
    ``sqlite_vec_version`` its vector extension's (sqlite-vec, or pgvector when installed)."""
    schema_version: int
    project_id: int | None
    counts: dict[str, int] = {}
    sandbox: SandboxInfo
    log_path: str
    embedder: str | None = None
    provider: ProviderCheck | None = None
    """The default provider (``defaultProvider``) checked; null when runs are off."""


class RouteInfo(Model, kw_only=True):
    """An HTTP route a framework detector found."""

    method: str
    path: str
    handler: str | None = None
    file: str
    line: int | None = None


class FrameworkInfo(Model, kw_only=True):
    """What one framework detector found in the workspace; paths are workspace-relative."""

    name: str
    confidence: float
    markers: list[str] = []
    entry_points: list[str] = []
    routes: list[RouteInfo] = []
    controllers: list[str] = []
    models: list[str] = []
    migrations: list[str] = []
    services: list[str] = []
    config_files: list[str] = []
    package_files: list[str] = []


class ProjectMapParams(Params, kw_only=True):
    """Parameters of ``devfactory/project/map``."""

    write: bool = True
    """Write PROJECT_MAP.md at the workspace root (otherwise only return the text)."""


class ProjectMap(Model, kw_only=True):
    """Result of ``devfactory/project/map``."""

    path: str
    markdown: str
    frameworks: list[FrameworkInfo] = []
    languages: list[LanguageStat] = []


class ProjectCloneParams(Params, kw_only=True):
    """Parameters of ``devfactory/project/clone``: connect a repository by cloning it."""

    repository_url: str
    path: str


class ProjectPullParams(Params, kw_only=True):
    """Parameters of ``devfactory/project/pull``: update the workspace from its remote."""

    remote: str = "origin"
    branch: str | None = None


class GitCommandResult(Model, kw_only=True):
    """Outcome of a clone or pull."""

    ok: bool
    path: str
    output: str
