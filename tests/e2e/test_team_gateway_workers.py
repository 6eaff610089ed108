"""Issue 18's team scenario end to end, every part a real process on a real PostgreSQL: a
``devfactory gateway`` on a clone whose settings hand runs to workers, two ``devfactory
worker`` processes on another clone, and two editors attached to the gateway, each with its
own token. A run created through the gateway executes on a worker; that worker is killed
with SIGKILL mid-run and the run finishes on the other; both editors saw the same live
events, and the gateway's replay equals them, without a gap or a duplicate; an approve
without ``changes:approve`` is refused by name and audited, and with it the change applies
to the gateway's clone.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from cli_support import CALC, cli_env
from devfactory.protocol import errors as codes
from devfactory.protocol.changes import ChangeDecisionResult, ChangeList
from devfactory.protocol.enums import ChangeStatus, RunStatus
from devfactory.protocol.errors import RpcError
from devfactory.protocol.events import Event
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunCreateParams
from gateway_support import collect, ended, of_run, serve_gateway
from postgresql_support import postgres_server
from runs_support import call, finish, kinds, replay, turn, write_script
from team_support import stop_lease_holder, team_clone, team_origin, workers

pytest.importorskip("psycopg", reason="psycopg is not installed")

from devfactory.storage.postgresql import PostgresStore

FIXED = "def add(a, b):\n    return a + b\n"


def once_each(events: list[Event]) -> list[Event]:
    """``events`` without repeats (a client may be sent an event twice; its id tells)."""
    return list({e.id: e for e in events}.values())


async def test_a_run_through_the_gateway_survives_its_worker_and_is_approved_by_ability(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "go-on"
    script = write_script(
        tmp_path / "scripts",
        "fix",
        [
            turn("1. Fix add()"),
            turn("", call("write_file", path="calc.py", content=FIXED)),
            turn("Checking the fix", wait_for_file=gate),
            finish("Fixed add()."),
        ],
    )
    url = postgres_server().new_database()
    origin = team_origin(tmp_path / "origin", url)
    machine = team_clone(origin, tmp_path / "worker-machine")
    hub = team_clone(origin, tmp_path / "gateway-machine")
    env = {**cli_env(), "DEVFACTORY_STORAGE": url}
    store = await PostgresStore.open(url)
    try:
        async with serve_gateway(hub, tmp_path, env, url) as gateway:
            alice = await gateway.client(gateway.token("alice", "runs:create"))
            bob = await gateway.client(gateway.token("bob", "runs:create", "changes:approve"))
            live = {"alice": collect(alice), "bob": collect(bob)}
            try:
                with workers(machine, tmp_path, 2) as processes:
                    run: Run = await alice.call(
                        Requests.RUNS_CREATE,
                        RunCreateParams(prompt="Fix add()", provider="scripted", model=str(script)),
                    )
                    assert run.status is RunStatus.QUEUED, "the gateway hands it to the workers"

                    # A worker proposed the change and waits on the gate: kill it there.
                    _, victim = await stop_lease_holder(store, run.id, processes, signal.SIGKILL)
                    gate.touch()

                    for events in live.values():
                        await asyncio.wait_for(ended(events, run.id), 90)
                    done = await store.db.fetchone(
                        "SELECT lease_epoch, owner FROM agent_runs WHERE id = %s", (run.id,)
                    )
                    survivor = next(p.pid for p in processes if p.pid != victim)
                    assert done is not None and done["lease_epoch"] >= 2
                    assert str(done["owner"]).endswith(f":{survivor}")

                # Replay through the gateway: each event once, numbered 1..n in the run, and
                # what each editor saw live.
                replayed = await replay(alice, run.id)
                ids = [e.id for e in replayed]
                assert ids == sorted(set(ids))
                seqs = await store.db.fetchall(
                    "SELECT run_seq FROM agent_events WHERE run_id = %s ORDER BY id", (run.id,)
                )
                assert [r["run_seq"] for r in seqs] == list(range(1, len(ids) + 1))
                assert once_each(of_run(live["alice"], run.id)) == replayed
                assert once_each(of_run(live["bob"], run.id)) == replayed
                happened = kinds(replayed)
                assert happened.count("user_prompt") == 1, "the takeover did not repeat the task"
                assert happened.count("final_summary") == 1
                assert happened[-1] == "status:completed"

                # Approving takes changes:approve: alice is refused (audited), bob applies.
                listed: ChangeList = await bob.call(Requests.CHANGES_LIST, {"runId": run.id})
                (change,) = [c for c in listed.changes if c.path == "calc.py"]
                assert change.status is ChangeStatus.PROPOSED
                with pytest.raises(RpcError) as refused:
                    await alice.request(Requests.CHANGES_APPROVE, {"changeIds": [change.id]})
                result: ChangeDecisionResult = await bob.call(
                    Requests.CHANGES_APPROVE, {"changeIds": [change.id]}
                )
                on_approve = (hub / "calc.py").read_text()  # to tell apart a write undone later
            finally:
                await alice.close()
                await bob.close()
        assert refused.value.code == codes.REFUSED
        assert "lacks the 'changes:approve' ability" in refused.value.message
        audit = await store.audit.list()
        assert {(e.method, e.ability, e.allowed) for e in audit if e.token_name == "alice"} == {
            (Requests.RUNS_CREATE, "runs:create", True),
            (Requests.CHANGES_APPROVE, "changes:approve", False),
        }
        assert result.applied == [change.id] and result.snapshot_id is not None
        assert (hub / "calc.py").read_text() == FIXED, (
            f"applied on the gateway's clone (just after the approve it held {on_approve!r};"
            f" the decision: {result})"
        )
        assert (machine / "calc.py").read_text() == CALC, "the workers' clone is untouched"
    finally:
        await store.close()
