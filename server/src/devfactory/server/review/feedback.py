"""Review feedback: line comments, request-changes iterations, run reviews, the AI changelog.

Comments on a change can go back to the run as its next instructions: a paused run gets them
as a directive; a completed one is sent back to work (the run manager's ``send_back``) for
another iteration on the same worktree, so review is a conversation, not just yes/no.
"""

from __future__ import annotations

from typing import Protocol

from devfactory.protocol.changes import (
    ChangeCommentParams,
    CommentListParams,
    CommentResolveParams,
    RequestChangesParams,
    ReviewComment,
    ReviewSubmitParams,
    RunReview,
)
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import DocsUpdated
from devfactory.protocol.runs import Run
from devfactory.storage.clock import now_iso

from ..errors import InvalidParams, InvalidState, NotFound
from ..safefs import FileTooLarge, PathRefused
from . import changelog
from .changelog import CHANGELOG
from .files import as_text
from .service import ReviewService
from .texts import MAX_REVIEW_BYTES


class RunControl(Protocol):
    """What review feedback asks of runs (the run manager implements it)."""

    async def get(self, run_id: int) -> Run: ...

    async def directive(self, run_id: int, text: str) -> Run:
        """Give a live run more instructions."""
        ...

    async def send_back(self, run_id: int, feedback: str) -> Run:
        """Queue another iteration of a completed run, on ``feedback``."""
        ...


class Feedback:
    def __init__(self, review: ReviewService) -> None:
        self.review = review

    async def comment(self, params: ChangeCommentParams) -> ReviewComment:
        change = await self.review.get(params.change_id)
        if params.line < 1:
            raise InvalidParams(
                f"line must be 1 or more (a line of the proposed file), got {params.line}"
            )
        if not params.body.strip():
            raise InvalidParams("body must not be empty")
        return await self.review.store.reviews.add_comment(
            change.run_id, change.id, params.line, params.body.strip()
        )

    async def comments(self, params: CommentListParams) -> list[ReviewComment]:
        return await self.review.store.reviews.comments(
            run_id=params.run_id,
            change_id=params.change_id,
            include_resolved=params.include_resolved,
        )

    async def resolve(self, params: CommentResolveParams) -> ReviewComment:
        comment = await self.review.store.reviews.resolve(params.comment_id, params.resolved)
        if comment is None:
            raise NotFound("comment", params.comment_id)
        return comment

    async def request_changes(self, params: RequestChangesParams, runs: RunControl) -> Run:
        """Send the run's open comments (and a note) back to it as its next instructions."""
        run = await runs.get(params.run_id)
        comments = await self.review.store.reviews.comments(
            run_id=run.id, change_id=None, include_resolved=False
        )
        if not comments and not (params.note or "").strip():
            raise InvalidParams("there are no open comments on this run; add comments or a note")
        lines = [(params.note or "").strip()] if params.note else []
        for comment in comments:
            change = await self.review.get(comment.change_id)
            lines.append(f"- {change.path} line {comment.line}: {comment.body}")
        feedback = "\n".join(line for line in lines if line)
        if run.status in (RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.WAITING_FOR_USER):
            return await runs.directive(run.id, f"Review feedback:\n{feedback}")
        if run.status is not RunStatus.COMPLETED:
            raise InvalidState(
                f"run {run.id} is {run.status.value}; request changes on a completed, running or "
                "paused run (retry a failed or cancelled one)"
            )
        await self.review.supersede_proposed(run, "superseded by a new iteration")
        queued = await runs.send_back(run.id, feedback)
        for comment in comments:
            await self.review.store.reviews.resolve(comment.id, True)
        return queued

    async def submit(self, params: ReviewSubmitParams) -> RunReview:
        await self.review.run(params.run_id)
        return await self.review.store.reviews.submit(params.run_id, params.decision, params.notes)

    async def propose_changelog(
        self, run: Run, base_commit: str, summary: str, files: list[str]
    ) -> None:
        """Put the run's entry on top of CHANGELOG_AI.md in its worktree and propose it."""
        if not run.worktree_path or not files:
            return
        worktree = self.review.worktree(run)
        try:
            current = worktree.read(CHANGELOG, MAX_REVIEW_BYTES)
        except (PathRefused, FileTooLarge) as exc:
            await self.review.not_proposed(run, None, str(exc))
            return
        file_lines = "\n".join(f"- `{f}`" for f in files)
        entry = (
            f"## Run {run.id}: {run.title}\n\n"
            f"- Date: {now_iso()[:10]}\n- Agent: {run.agent.value} ({run.provider})\n\n"
            f"{summary.strip()}\n\nFiles:\n{file_lines}\n"
        )
        body = changelog.with_entry(None if current is None else as_text(current), entry)
        try:
            worktree.write(CHANGELOG, body.encode())
        except PathRefused as exc:  # a link appeared since the read
            await self.review.not_proposed(run, None, str(exc))
            return
        change = await self.review.propose(run, base_commit, CHANGELOG)
        await self.review.store.documentation.record_update(
            project_id=run.project_id,
            run_id=run.id,
            path=CHANGELOG,
            kind="changelog",
            summary=summary[:500],
            change_id=None if change is None else change.id,
        )
        await self.review.events.emit(
            run.id,
            EventType.DOCS_UPDATED,
            f"Proposed {CHANGELOG} entry",
            DocsUpdated(path=CHANGELOG, kind="changelog"),
            message=f"run {run.id}: {run.title}",
        )
