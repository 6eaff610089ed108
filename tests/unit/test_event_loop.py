"""A service's event loop ends when the service does, whatever its leftover tasks do."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Each case runs in a process of its own: the defect was a process that never ended.
PROGRAM = textwrap.dedent(
    """
    import asyncio, logging, sys
    from devfactory.server.event_loop import run_service

    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    async def spawn():  # caught while asyncio connects the child's pipes (CPython gh-125502)
        process = await asyncio.create_subprocess_exec("true", stdout=asyncio.subprocess.PIPE)
        await process.communicate()

    async def stubborn():
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                pass

    async def main(case):
        loop = asyncio.get_running_loop()
        loop.create_task(spawn() if case == "spawn" else stubborn(), name=case)
        await asyncio.sleep(0)
        return "served"

    print(run_service(main(sys.argv[1]), grace_s=0.5))
    """
)


def run_case(case: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, case], capture_output=True, text=True, timeout=60
    )


def test_a_task_cancelled_while_spawning_a_process_does_not_keep_the_service_alive() -> None:
    done = run_case("spawn")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "served"


def test_a_task_that_ignores_cancellation_is_named_and_left_behind() -> None:
    done = run_case("stubborn")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "served"
    assert "task stubborn did not stop within 0.5s" in done.stderr
