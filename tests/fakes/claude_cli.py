"""A fake ``claude`` CLI speaking Claude Code's ``--output-format stream-json`` lines.

Install it with ``install_fake_claude(bin_dir)`` and put ``bin_dir`` first on PATH (or set
``providers.claude_code.executable`` to the returned path). What it does depends on a tag in
the prompt, so a test (or an end-to-end run) scripts it through the run's prompt alone:

* default: ``system/init``, an assistant message (text + a ``Write`` tool_use), writes
  ``CLAUDE.txt`` in its working directory (the run's worktree) with the prompt, a tool_result,
  a stderr line, one non-JSON line, then a successful ``result`` with usage and cost;
* ``[fake:error]``: an ``error_max_turns`` result and exit code 1;
* ``[fake:hang]``: after init it starts a grandchild (``sleep``) and waits forever, writing
  both pids to ``$FAKE_CLAUDE_PIDS`` so a test can check that cancelling killed them.

``--resume <id>`` keeps that session id (else ``sess-new``). With ``$FAKE_CLAUDE_ARGV`` set it
appends its argv there as a JSON line. A key in ``$ANTHROPIC_API_KEY`` is echoed on stderr (so
tests can see which key a task got, and that it is redacted on the way out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

SUCCESS_USAGE = {
    "input_tokens": 120,
    "cache_creation_input_tokens": 30,
    "cache_read_input_tokens": 50,
    "output_tokens": 45,
}
SUCCESS_COST = 0.0123


def install_fake_claude(bin_dir: Path) -> Path:
    """Write an executable ``claude`` into ``bin_dir`` that runs this fake."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    executable = bin_dir / "claude"
    executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__)}" "$@"\n')
    executable.chmod(0o755)
    return executable


def _emit(data: dict[str, object]) -> None:
    print(json.dumps(data), flush=True)


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def main(argv: list[str]) -> int:
    if log := os.environ.get("FAKE_CLAUDE_ARGV"):
        with open(log, "a") as handle:
            handle.write(json.dumps(argv) + "\n")
    prompt = _option(argv, "-p") or ""
    session = _option(argv, "--resume") or "sess-new"
    if key := os.environ.get("ANTHROPIC_API_KEY"):
        print(f"using ANTHROPIC_API_KEY={key}", file=sys.stderr, flush=True)
    model = _option(argv, "--model") or "claude-fake"
    _emit({"type": "system", "subtype": "init", "session_id": session, "model": model})
    if "[fake:hang]" in prompt:
        child = subprocess.Popen(["sleep", "300"])
        if pids := os.environ.get("FAKE_CLAUDE_PIDS"):
            Path(pids).write_text(f"{os.getpid()} {child.pid}")
        time.sleep(300)
        return 0
    if "[fake:error]" in prompt:
        _emit(
            {
                "type": "result",
                "subtype": "error_max_turns",
                "is_error": True,
                "session_id": session,
                "num_turns": 3,
            }
        )
        return 1
    message = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I'll write CLAUDE.txt."},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "Write",
                "input": {"file_path": "CLAUDE.txt"},
            },
        ],
    }
    _emit({"type": "assistant", "message": message, "session_id": session})
    Path("CLAUDE.txt").write_text(prompt)
    result_block = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "File written"}
    user = {"role": "user", "content": [result_block]}
    _emit({"type": "user", "message": user, "session_id": session})
    print("progress: not json", flush=True)
    print("wrote 1 file", file=sys.stderr, flush=True)
    _emit(
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "result": "Wrote CLAUDE.txt.",
            "session_id": session,
            "usage": SUCCESS_USAGE,
            "total_cost_usd": SUCCESS_COST,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
