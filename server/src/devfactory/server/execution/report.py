"""What the model reads after a command: the verdict or the result, compact and complete.

The tool result names the exit code, why a command was stopped, the parsed test counts and
the end of the output, with the path of the full output files for the user.
"""

from __future__ import annotations

from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.events import TestCounts

TITLE_CHARS = 120


def short(command: str, limit: int = TITLE_CHARS) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(command.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def counts_text(counts: TestCounts) -> str:
    return (
        f"{counts.passed} passed, {counts.failed} failed, {counts.errors} errors,"
        f" {counts.skipped} skipped"
    )


def refusal_result(rule: str, reason: str) -> str:
    return f"Command refused ({rule}): {reason}\nNothing was run."


def run_result(
    execution: CommandExecution, *, duration_s: float, stop_reason: str | None, output_bytes: int
) -> str:
    """The tool result of a command that ran."""
    status = (
        f"stopped ({stop_reason}); exit status {execution.exit_code}"
        if execution.was_killed
        else f"exit code {execution.exit_code}"
    )
    where = "in the sandbox" if execution.sandboxed else "without the OS sandbox"
    lines = [f"$ {short(execution.command, 500)}", f"{status} after {duration_s:.1f}s, {where}"]
    if execution.test_counts is not None:
        lines.append(f"tests ({execution.test_framework}): {counts_text(execution.test_counts)}")
    elif execution.test_framework is not None:
        lines.append(f"tests ({execution.test_framework}): no summary found in the output")
    if execution.output_tail:
        shown = len(execution.output_tail.encode())
        note = "" if output_bytes <= shown else f" (the end of {output_bytes} bytes)"
        lines += [f"output{note}:", execution.output_tail]
    else:
        lines.append("(no output)")
    return "\n".join(lines)
