"""The daemon on a team's PostgreSQL database: ``devfactory demo`` with ``DEVFACTORY_STORAGE``
runs the whole flow (plan, tools, commands, question, proposed change, approval) on it, and
the database, not the workspace, holds what happened; ``demo --factory`` does the same for an
initiative (phases, tasks, their runs, handoffs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_support import DEVFACTORY, cli_env
from devfactory.protocol.enums import ChangeStatus, InitiativeStatus, RunStatus, TaskStatus
from devfactory.storage import open_store
from postgresql_support import postgres_server


def devfactory_on(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DEVFACTORY, *args],
        capture_output=True,
        text=True,
        env={**cli_env(), "DEVFACTORY_STORAGE": url},
        timeout=90,
        check=False,
    )


async def test_demo_runs_on_postgresql_and_keeps_its_history_there(tmp_path: Path) -> None:
    url = postgres_server().new_database()
    done = devfactory_on(url, "demo", "--dir", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "calc.py now adds" in done.stdout
    project_dir = tmp_path / "demo" / "calc"
    assert "return a + b" in (project_dir / "calc.py").read_text()
    assert not (project_dir / ".devfactory" / "devfactory.db").exists(), "no SQLite file"

    store = await open_store(url)
    try:
        (run,) = await store.runs.list(1)
        assert run.status is RunStatus.COMPLETED
        events = await store.events.list(run.project_id, limit=10_000)
        ids = [event.id for event in events]
        assert ids == list(range(1, len(ids) + 1)), "numbered in order, without a gap"
        assert {e.run_id for e in events} >= {run.id}
        changes = await store.changes.list(run.project_id, run_id=run.id)
        assert sorted((c.path, c.status) for c in changes) == [
            ("CHANGELOG_AI.md", ChangeStatus.APPLIED),
            ("calc.py", ChangeStatus.APPLIED),
        ]
    finally:
        await store.close()

    health = devfactory_on(url, "health", "--workspace", str(project_dir), "--json")
    assert health.returncode == 0, health.stdout + health.stderr
    reported = json.loads(health.stdout)
    assert reported["databasePath"] == url and reported["databaseOk"] is True
    assert reported["databaseEngine"] == "postgresql"
    assert reported["counts"]["runs"] == 1


async def test_the_factory_demo_runs_on_postgresql(tmp_path: Path) -> None:
    url = postgres_server().new_database()
    done = devfactory_on(url, "demo", "--factory", "--dir", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Initiative completed" in " ".join(done.stdout.split())
    project_dir = tmp_path / "demo" / "calc"
    assert (project_dir / "power.py").exists()
    assert not (project_dir / ".devfactory" / "devfactory.db").exists(), "no SQLite file"

    store = await open_store(url)
    try:
        (initiative,) = await store.initiatives.list(1)
        assert initiative.status is InitiativeStatus.COMPLETED
        tasks = await store.tasks.list(initiative.id)
        assert tasks and all(t.status is TaskStatus.COMPLETED and t.run_ids for t in tasks)
        assert await store.tasks.unhandled_runs(1) == []
        assert await store.proposals.artifacts(initiative.id, "implementation_plan")
        history = await store.events.list(1, initiative_id=initiative.id, limit=10_000)
        assert history and [e.id for e in history] == sorted({e.id for e in history})
    finally:
        await store.close()
