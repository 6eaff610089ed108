"""What ``devfactory comment|comments|review|commit|push`` do, once a command is chosen."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from devfactory.protocol.changes import (
    ChangeCommentParams,
    CommentList,
    CommentListParams,
    RequestChangesParams,
    ReviewComment,
    ReviewSubmitParams,
    RunReview,
)
from devfactory.protocol.enums import ReviewDecision
from devfactory.protocol.git import GitCommitParams, GitCommitResult, GitPushParams, GitPushResult
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run

from .client import connect, request, run_async
from .run_session import console, end_of, follow_iteration


def add_comment(change_id: int, line: int, body: str, workspace: Path) -> None:
    comment: ReviewComment = request(
        workspace,
        Requests.CHANGES_COMMENT,
        ChangeCommentParams(change_id=change_id, line=line, body=body),
    )
    console.print(
        f"Comment {comment.id} on change {comment.change_id} line {comment.line} "
        f"(run {comment.run_id})"
    )
    console.print(
        f"Send the run's comments back to it: [bold]devfactory review {comment.run_id} "
        "--request-changes[/]",
        soft_wrap=True,
    )


def comments_table(comments: list[ReviewComment]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("comment", "change", "line", "comment text", "state"):
        table.add_column(column)
    for comment in comments:
        table.add_row(
            str(comment.id),
            str(comment.change_id),
            str(comment.line),
            escape(comment.body),
            "resolved" if comment.resolved else "open",
        )
    return table


def list_comments(run_id: int, include_resolved: bool, workspace: Path) -> None:
    found: CommentList = request(
        workspace,
        Requests.CHANGES_COMMENTS,
        CommentListParams(run_id=run_id, include_resolved=include_resolved),
    )
    if not found.comments:
        console.print(f"Run {run_id} has no {'' if include_resolved else 'open '}comments.")
        return
    console.print(comments_table(found.comments))


def submit_review(run_id: int, decision: ReviewDecision, notes: str, workspace: Path) -> None:
    review: RunReview = request(
        workspace,
        Requests.REVIEWS_SUBMIT,
        ReviewSubmitParams(run_id=run_id, decision=decision, notes=notes),
    )
    console.print(f"Run {review.run_id} reviewed: {review.decision.value}")
    if review.decision is ReviewDecision.APPROVED:
        console.print(f"Publish it: [bold]devfactory push {review.run_id}[/]", soft_wrap=True)


def request_changes(run_id: int, note: str, workspace: Path, *, automatic: bool) -> None:
    """Send the open comments back to the run; a completed run starts another iteration here,
    followed to its end like ``devfactory run``."""

    async def go() -> Run | None:
        async with connect(workspace) as client:

            async def send() -> Run:
                run: Run = await client.call(
                    Requests.CHANGES_REQUEST_CHANGES,
                    RequestChangesParams(run_id=run_id, note=note or None),
                )
                return run

            return await follow_iteration(client, run_id, workspace, send, automatic=automatic)

    finished = run_async(go)
    if finished is None:
        console.print(f"Run {run_id} got the review as a directive for its next turn.")
        return
    end_of(finished)


def commit(run_id: int, message: str | None, workspace: Path) -> None:
    result: GitCommitResult = request(
        workspace, Requests.GIT_COMMIT, GitCommitParams(run_id=run_id, message=message)
    )
    console.print(f"Committed {result.commit_sha[:12]} on {result.branch}")


def push(run_id: int, remote: str, workspace: Path) -> None:
    result: GitPushResult = request(
        workspace, Requests.GIT_PUSH, GitPushParams(run_id=run_id, remote=remote)
    )
    console.print(f"Pushed {result.branch} to {result.remote}")
    if result.output:
        console.print(f"[dim]{escape(result.output)}[/]")
