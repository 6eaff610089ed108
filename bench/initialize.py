"""Initialize latency: from spawning ``devfactory serve --stdio`` to the initialize response.

Method: what an editor does — spawn the daemon's console script, send ``initialize`` for a
small git workspace, time until the response arrives (then shut it down). The first start
creates ``.devfactory/`` and the database; the figure is the median of the starts after it.
Baselines in the same session: a bare pygls server (no features) answering initialize, and
``python -c pass``, each start of the three interleaved with the others'. Every process runs
with its bytecode cached, as an installed package has it: ``PYTHONDONTWRITEBYTECODE`` (set in
some shells and CI) is dropped from their environment, or the workspace's own sources, which
are installed editable, would be compiled again at every start while pygls' are not.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from devfactory.protocol.client import DaemonClient, default_server_command

from .common import git, median, ms, row

REPEATS = 15
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
BARE_SERVER = (
    "from pygls.lsp.server import LanguageServer\nLanguageServer('bare', '1').start_io()\n"
)


async def initialize_time(command: list[str], root: Path) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=root,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=ENV,
    )
    client = DaemonClient(process, root=root, settings={"index": {"watch": False}})
    client.start()
    await client.initialize(client_name="bench")
    took = time.perf_counter() - started
    await client.close()
    return took


async def python_startup() -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass", env=ENV)
    await process.wait()
    return time.perf_counter() - started


async def measure(root: Path, bare: Path) -> dict[str, list[float]]:
    first = await initialize_time(default_server_command(), root)
    results: dict[str, list[float]] = {"first start (creates the database)": [first]}
    for _ in range(REPEATS):
        for name, command in (
            ("devfactory serve --stdio", default_server_command()),
            ("bare pygls server", [sys.executable, str(bare)]),
        ):
            results.setdefault(name, []).append(await initialize_time(command, root))
        results.setdefault("python -c pass", []).append(await python_startup())
    return results


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        (root / "app.py").write_text("def main():\n    return 1\n")
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "init")
        bare = Path(tmp) / "bare_server.py"
        bare.write_text(BARE_SERVER)
        results = asyncio.run(measure(root, bare))
    print(row("spawn to initialize response", "median", "min", "max"))
    for name, values in results.items():
        print(row(name, ms(median(values)), ms(min(values)), ms(max(values))))
    ours = median(results["devfactory serve --stdio"])
    print(f"ratio devfactory / bare pygls: {ours / median(results['bare pygls server']):.2f}")


if __name__ == "__main__":
    main()
