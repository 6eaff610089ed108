"""A fake command-line coding agent (an aider stand-in) for the ``local_shell`` provider.

Use it as ``providers.local_shell.command = shell_agent_command("--message", "{prompt}")``.
It prints a few lines on stdout and stderr, writes ``AGENT.txt`` (the message) in its working
directory, and exits 0. ``--exit N`` makes it exit with N instead; ``--hang`` makes it start a
grandchild (``sleep``), write both pids to ``$FAKE_AGENT_PIDS`` and wait forever.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def shell_agent_command(*args: str) -> list[str]:
    """The argv template running this fake with ``args`` (may hold ``{prompt}``/``{model}``)."""
    return [sys.executable, str(Path(__file__)), *args]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--message", default="")
    parser.add_argument("--model", default="")
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args(argv)
    print(f"model: {args.model or 'default'}", flush=True)
    if args.hang:
        child = subprocess.Popen(["sleep", "300"])
        if pids := os.environ.get("FAKE_AGENT_PIDS"):
            Path(pids).write_text(f"{os.getpid()} {child.pid}")
        time.sleep(300)
    Path("AGENT.txt").write_text(args.message)
    print("warning: fake agent", file=sys.stderr, flush=True)
    print("Applied edit to AGENT.txt", flush=True)
    return int(args.exit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
