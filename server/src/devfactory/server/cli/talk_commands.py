"""``devfactory message|rewind|rules``: talking to runs from the terminal.

``message`` continues a run's conversation (``devfactory/runs/message``) and follows its next
iteration to the end like ``devfactory run``; ``rewind`` puts a run back to a step
(``devfactory/runs/rewind``); ``rules`` prints the project rules files that apply to a path
(``devfactory/project/rules``). The work is in ``talk_session``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import WORKSPACE
from .run_commands import RUN_ID


@click.command("message")
@RUN_ID
@click.argument("text")
@click.option("--yes", "-y", is_flag=True, help="Answer the agent's questions automatically.")
@WORKSPACE
def message_command(run_id: int, text: str, yes: bool, workspace: Path) -> None:
    """Send TEXT to run RUN: a follow-up once it stopped (followed to its end), a directive
    while it works, the answer while it waits. @path and @symbol attach them."""
    from .talk_session import send_message

    send_message(run_id, text, workspace, automatic=yes)


@click.command("rewind")
@RUN_ID
@click.argument("step", type=click.IntRange(min=0))
@WORKSPACE
def rewind_command(run_id: int, step: int, workspace: Path) -> None:
    """Put run RUN's worktree and conversation back as they were after STEP (0: its start)."""
    from .talk_session import rewind

    rewind(run_id, step, workspace)


@click.command("rules")
@click.argument("path", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
@WORKSPACE
def rules_command(path: str | None, as_json: bool, workspace: Path) -> None:
    """Print the project rules (AGENTS.md, CLAUDE.md, .clinerules...) that apply to PATH, or to
    the whole project, in the order the agent reads them."""
    from .talk_session import show_rules

    show_rules(path, workspace, as_json=as_json)


COMMANDS = [message_command, rewind_command, rules_command]
