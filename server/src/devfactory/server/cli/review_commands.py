"""``devfactory comment|comments|review|commit|push``: the review loop from the terminal.

Comment on lines of a run's proposed changes, send the comments back to the run (``review
--request-changes``, which follows the next iteration to its end), record a verdict, commit the
run's branch and push it once a review approved it. The requests are
``devfactory/changes/comment|comments|requestChanges``, ``devfactory/reviews/submit`` and
``devfactory/git/commit|push``; the work is in ``review_session``, imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from devfactory.protocol.enums import ReviewDecision

from .options import WORKSPACE
from .run_commands import RUN_ID

REQUEST_CHANGES = "request-changes"


@click.command("comment")
@click.argument("change_id", metavar="CHANGE", type=int)
@click.argument("line", type=click.IntRange(min=1))
@click.argument("body")
@WORKSPACE
def comment_command(change_id: int, line: int, body: str, workspace: Path) -> None:
    """Comment on LINE of change CHANGE (a line of the file the run proposes)."""
    from .review_session import add_comment

    add_comment(change_id, line, body, workspace)


@click.command("comments")
@RUN_ID
@click.option("--all", "include_resolved", is_flag=True, help="Resolved comments too.")
@WORKSPACE
def comments_command(run_id: int, include_resolved: bool, workspace: Path) -> None:
    """List the review comments on run RUN's changes."""
    from .review_session import list_comments

    list_comments(run_id, include_resolved, workspace)


@click.command("review")
@RUN_ID
@click.option(
    "--approve",
    "decisions",
    flag_value=ReviewDecision.APPROVED.value,
    multiple=True,
    help="Approve the run.",
)
@click.option(
    "--reject",
    "decisions",
    flag_value=ReviewDecision.REJECTED.value,
    multiple=True,
    help="Reject the run.",
)
@click.option(
    "--comment",
    "decisions",
    flag_value=ReviewDecision.COMMENTED.value,
    multiple=True,
    help="Comment only.",
)
@click.option(
    "--request-changes",
    "decisions",
    flag_value=REQUEST_CHANGES,
    multiple=True,
    help="Send the open comments (and -m) back to the run and follow its next iteration.",
)
@click.option("--message", "-m", default="", help="Review notes.")
@click.option("--yes", "-y", is_flag=True, help="Answer the agent's questions automatically.")
@WORKSPACE
def review_command(
    run_id: int, decisions: tuple[str, ...], message: str, yes: bool, workspace: Path
) -> None:
    """Review run RUN: approve, reject, comment, or request changes."""
    # The flags share one multiple option so that a contradiction is seen, not the last won.
    if len(set(decisions)) != 1:
        raise click.UsageError(
            "say what the review decides, once: --approve, --reject, --comment or --request-changes"
        )
    [decision] = set(decisions)
    from .review_session import request_changes, submit_review

    if decision == REQUEST_CHANGES:
        request_changes(run_id, message, workspace, automatic=yes)
    else:
        submit_review(run_id, ReviewDecision(decision), message, workspace)


@click.command("commit")
@RUN_ID
@click.option("--message", "-m", help="Commit message (default: the run's title and summary).")
@WORKSPACE
def commit_command(run_id: int, message: str | None, workspace: Path) -> None:
    """Commit run RUN's worktree on its branch."""
    from .review_session import commit

    commit(run_id, message, workspace)


@click.command("push")
@RUN_ID
@click.option("--remote", default="origin", show_default=True)
@WORKSPACE
def push_command(run_id: int, remote: str, workspace: Path) -> None:
    """Push run RUN's branch; refused until a review approved the run."""
    from .review_session import push

    push(run_id, remote, workspace)


COMMANDS = [comment_command, comments_command, review_command, commit_command, push_command]
