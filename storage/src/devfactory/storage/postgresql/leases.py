"""Run leases (team workers): who drives a run, until when, and the epoch that fences it.

Taking a lease moves the run's ``lease_epoch`` on; while a process holds it, the epoch is in
``Database.fences`` and every write for the run checks it (``events.insert_events``,
``runs._update``), so a worker that stalled past its lease and lost the run to another can
never write for it again: it gets ``LeaseLost``.
"""

from __future__ import annotations

from .database import Database


class PostgresLeaseRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def acquire(self, run_id: int, owner: str, seconds: float) -> int | None:
        """Take the run's lease for ``seconds`` if it is free or expired (or ``owner``'s
        already); the new epoch, or None while another holder's lease runs."""
        epoch = await self.db.scalar(
            "UPDATE agent_runs SET lease_epoch = lease_epoch + 1, lease_owner = %s,"
            " lease_expires_at = now() + make_interval(secs => %s)"
            " WHERE id = %s AND (lease_owner IS NULL OR lease_owner = %s"
            "  OR lease_expires_at < now())"
            " RETURNING lease_epoch",
            (owner, seconds, run_id, owner),
        )
        if epoch is None:
            return None
        self.db.fences[run_id] = int(epoch)
        return int(epoch)

    async def renew(self, run_id: int, epoch: int, seconds: float) -> bool:
        """Extend the lease; False when it is no longer ``epoch`` (another worker took it)."""
        changed = await self.db.execute(
            "UPDATE agent_runs SET lease_expires_at = now() + make_interval(secs => %s)"
            " WHERE id = %s AND lease_epoch = %s",
            (seconds, run_id, epoch),
        )
        return changed == 1

    async def holds(self, run_id: int, epoch: int) -> bool:
        """Whether ``epoch`` is still the run's lease (checked before worktree writes)."""
        current = await self.db.scalar(
            "SELECT lease_epoch FROM agent_runs WHERE id = %s", (run_id,)
        )
        return current is not None and int(current) == epoch

    async def release(self, run_id: int, epoch: int) -> None:
        """Give the lease up (the segment ended; a pause asked of it is moot); the epoch
        stays, so it never repeats."""
        self.db.fences.pop(run_id, None)
        await self.db.execute(
            "UPDATE agent_runs SET lease_owner = NULL, lease_expires_at = NULL,"
            " pause_requested = false WHERE id = %s AND lease_epoch = %s",
            (run_id, epoch),
        )

    async def revoke(self, run_id: int) -> None:
        """Fence whoever holds the lease (the user cancelled the run): the epoch moves on and
        the lease is free, so the holder's next write is refused."""
        await self.db.execute(
            "UPDATE agent_runs SET lease_epoch = lease_epoch + 1, lease_owner = NULL,"
            " lease_expires_at = NULL WHERE id = %s",
            (run_id,),
        )

    async def request_pause(self, run_id: int) -> None:
        await self.db.execute(
            "UPDATE agent_runs SET pause_requested = true WHERE id = %s", (run_id,)
        )

    async def take_pause_request(self, run_id: int) -> bool:
        """Whether a pause was requested since the last call (the request is consumed)."""
        changed = await self.db.execute(
            "UPDATE agent_runs SET pause_requested = false WHERE id = %s AND pause_requested",
            (run_id,),
        )
        return changed == 1

    async def send_directive(self, run_id: int, text: str) -> None:
        await self.db.execute(
            "UPDATE agent_runs SET pending_directives = pending_directives || to_jsonb(%s::text)"
            " WHERE id = %s",
            (text, run_id),
        )

    async def take_directives(self, run_id: int) -> list[str]:
        """The messages sent to the run since the last call, oldest first (they are consumed)."""
        rows = await self.db.fetchall(
            "WITH taken AS (SELECT pending_directives AS texts FROM agent_runs"
            "  WHERE id = %s AND pending_directives <> '[]'::jsonb FOR UPDATE),"
            " cleared AS (UPDATE agent_runs SET pending_directives = '[]'::jsonb FROM taken"
            "  WHERE agent_runs.id = %s RETURNING taken.texts)"
            " SELECT t.text FROM cleared,"
            "  jsonb_array_elements_text(cleared.texts) WITH ORDINALITY AS t(text, n)"
            " ORDER BY t.n",
            (run_id, run_id),
        )
        return [str(row["text"]) for row in rows]
