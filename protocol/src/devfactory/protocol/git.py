"""Git audit and publishing: ``devfactory/git/*``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ._base import Model, Params


class GitOperation(Model, kw_only=True):
    """One git command the daemon ran, as recorded in the audit log."""

    id: int
    project_id: int
    run_id: int | None = None
    operation: str
    args: list[str]
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    duration_ms: float
    created_at: str


class GitLogParams(Params, kw_only=True):
    """Parameters of ``devfactory/git/log``: newest first."""

    run_id: int | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 200
    """Operations to return, 1 to 10000."""


class GitLog(Model, kw_only=True):
    """Result of ``devfactory/git/log``."""

    operations: list[GitOperation]


class GitCommitParams(Params, kw_only=True):
    """Parameters of ``devfactory/git/commit``."""

    run_id: int
    message: str | None = None
    """Defaults to the run's title and final summary."""


class GitCommitResult(Model, kw_only=True):
    branch: str
    commit_sha: str


class GitPushParams(Params, kw_only=True):
    """Parameters of ``devfactory/git/push``; refused until the run has an approved review."""

    run_id: int
    remote: str = "origin"


class GitPushResult(Model, kw_only=True):
    remote: str
    branch: str
    output: str
