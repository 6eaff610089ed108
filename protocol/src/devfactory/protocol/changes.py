"""Proposed changes and their review: ``devfactory/changes/*`` and ``devfactory/reviews/*``."""

from __future__ import annotations

from ._base import Model, Params
from .enums import ChangeAction, ChangeStatus, ReviewDecision


class Hunk(Model, kw_only=True):
    """One hunk of a change's unified diff; line numbers are 1-based as in the diff."""

    index: int
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    header: str
    status: ChangeStatus = ChangeStatus.PROPOSED


class Change(Model, kw_only=True):
    """One file a run changed, compared with the run's base snapshot."""

    id: int
    run_id: int
    project_id: int
    path: str
    """Workspace-relative path."""
    action: ChangeAction
    status: ChangeStatus
    before_hash: str | None = None
    after_hash: str | None = None
    hunks: list[Hunk] = []
    diff_path: str | None = None
    """File under ``.devfactory/`` holding the unified diff."""
    event_id: int | None = None
    reason: str | None = None
    """Why a change became conflict or stale."""
    base_commit: str | None = None
    """The commit the change compares with: the run's base snapshot (None only for changes
    recorded before DevFactory kept it)."""
    created_at: str
    updated_at: str


class ChangesListParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/list``."""

    run_id: int | None = None
    path: str | None = None
    status: ChangeStatus | None = None


class ChangeList(Model, kw_only=True):
    """Result of ``devfactory/changes/list``."""

    changes: list[Change]


class ChangeDiffParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/diff``."""

    change_id: int


class ChangeDiff(Model, kw_only=True):
    """Result of ``devfactory/changes/diff``: the diff and both versions of the file."""

    change: Change
    diff: str
    before: str | None
    """Content at the run's base (null for a created file)."""
    after: str | None
    """Content the run proposes (null for a deleted file)."""


class ChangeDecisionParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/approve`` and ``devfactory/changes/reject``.

    Name the changes with ``change_ids`` or all proposed changes of a run with ``run_id``;
    ``hunks`` (indexes) narrows a single change to some of its hunks.
    """

    change_ids: list[int] | None = None
    run_id: int | None = None
    hunks: list[int] | None = None
    comment: str | None = None


class ChangeDecisionResult(Model, kw_only=True):
    """Result of approve/reject: the changes after the decision."""

    changes: list[Change]
    applied: list[int] = []
    conflicts: list[int] = []
    written: list[str] = []
    """Workspace-relative paths (sorted) of the files the daemon wrote or deleted on disk
    itself. A file open in the editor is changed through ``workspace/applyEdit`` instead and
    is not listed: the editor reloads its buffers of these files only."""
    snapshot_id: int | None = None
    """The pre_apply snapshot that undoes this apply."""


class ChangeResolveParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/resolve``: the user settled a conflict in their file.

    Each hunk whose proposed text is in the file (or that was merged by hand) becomes applied,
    each whose old text the user kept becomes rejected."""

    change_id: int


class ChangeProposedNotification(Model, kw_only=True):
    """``devfactory/changeProposed``: a run proposed (or updated) a change."""

    change: Change


class ReviewComment(Model, kw_only=True):
    """A reviewer's comment on a line of a change."""

    id: int
    change_id: int
    run_id: int
    line: int
    body: str
    resolved: bool = False
    created_at: str


class ChangeCommentParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/comment``."""

    change_id: int
    line: int
    body: str


class CommentResolveParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/resolveComment``."""

    comment_id: int
    resolved: bool = True


class CommentListParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/comments``."""

    run_id: int | None = None
    change_id: int | None = None
    include_resolved: bool = False


class CommentList(Model, kw_only=True):
    """Result of ``devfactory/changes/comments``."""

    comments: list[ReviewComment]


class RequestChangesParams(Params, kw_only=True):
    """Parameters of ``devfactory/changes/requestChanges``: send open comments back to the run."""

    run_id: int
    note: str | None = None


class RunReview(Model, kw_only=True):
    """A reviewer's verdict on a whole run."""

    id: int
    run_id: int
    decision: ReviewDecision
    notes: str = ""
    created_at: str


class ReviewSubmitParams(Params, kw_only=True):
    """Parameters of ``devfactory/reviews/submit``."""

    run_id: int
    decision: ReviewDecision
    notes: str = ""
