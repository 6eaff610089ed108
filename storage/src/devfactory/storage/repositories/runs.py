"""The ``agent_runs`` table."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from devfactory.protocol.enums import RunStatus
from devfactory.protocol.runs import Run, RunMetadata

from ..clock import now_iso
from ..codec import dump, load, row_to
from ..database import Database

_UPDATABLE = frozenset(
    {
        "status",
        "title",
        "model",
        "branch_name",
        "worktree_path",
        "base_snapshot_id",
        "current_step",
        "queued_at",
        "started_at",
        "completed_at",
        "failed_reason",
        "owner",
        "metadata",
    }
)


def _run(row: Any) -> Run:
    return row_to(Run, row, metadata=load(row["metadata"], RunMetadata))


class RunRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        project_id: int,
        title: str,
        prompt: str,
        status: RunStatus,
        agent: str,
        provider: str,
        model: str | None,
        mode: str,
        metadata: RunMetadata,
        retry_of: int | None = None,
    ) -> Run:
        now = now_iso()
        run_id = await self.db.execute(
            "INSERT INTO agent_runs (project_id, title, prompt, status, agent, provider, model,"
            " mode, retry_of, metadata, created_at, queued_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                project_id,
                title,
                prompt,
                status.value,
                agent,
                provider,
                model,
                mode,
                retry_of,
                dump(metadata),
                now,
                now if status is RunStatus.QUEUED else None,
            ),
        )
        run = await self.get(run_id)
        assert run is not None
        return run

    async def get(self, run_id: int) -> Run | None:
        row = await self.db.fetchone("SELECT * FROM agent_runs WHERE id = ?", (run_id,))
        return None if row is None else _run(row)

    async def list(
        self, project_id: int, statuses: Iterable[RunStatus] | None = None, limit: int = 50
    ) -> builtins.list[Run]:
        """Newest first."""
        wanted = [s.value for s in statuses or ()]
        if wanted:
            marks = ",".join("?" * len(wanted))
            rows = await self.db.fetchall(
                f"SELECT * FROM agent_runs WHERE project_id = ? AND status IN ({marks})"
                " ORDER BY id DESC LIMIT ?",
                (project_id, *wanted, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_runs WHERE project_id = ? ORDER BY id DESC LIMIT ?",
                (project_id, limit),
            )
        return [_run(row) for row in rows]

    async def queued(self, project_id: int) -> builtins.list[Run]:
        """Queued runs, first in first out."""
        rows = await self.db.fetchall(
            "SELECT * FROM agent_runs WHERE project_id = ? AND status = 'queued'"
            " ORDER BY queued_at, id",
            (project_id,),
        )
        return [_run(row) for row in rows]

    async def update(
        self, run_id: int, *, expect_status: RunStatus | None = None, **fields: Any
    ) -> Run | None:
        """Set columns of a run (``metadata`` takes a RunMetadata); returns the new record.

        With ``expect_status`` the update is a compare-and-set: it happens only if the run is
        still in that status (another daemon may have claimed it), else None is returned.
        """
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = [
            dump(value) if name == "metadata" else getattr(value, "value", value)
            for name, value in fields.items()
        ]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        sql = f"UPDATE agent_runs SET {assignments} WHERE id = ?"
        params: builtins.list[Any] = [*values, run_id]
        if expect_status is not None:
            sql += " AND status = ?"
            params.append(expect_status.value)
        changed = await self.db.update(sql, params)
        if changed == 0 and expect_status is not None:
            return None
        return await self.get(run_id)

    async def owner(self, run_id: int) -> str | None:
        value = await self.db.scalar("SELECT owner FROM agent_runs WHERE id = ?", (run_id,))
        return None if value is None else str(value)
