"""Every ``devfactory/*`` method: its name, its params type and its result type.

``REQUESTS`` and ``NOTIFICATIONS`` are the registry the server validates against, the client
decodes with, and the JSON Schema export walks. TypeScript and Lua mirror these names from the
generated schema.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from . import (
    changes,
    commands,
    context,
    events,
    git,
    hitl,
    index,
    initiatives,
    project,
    proposals,
    runs,
    snapshots,
    tasks,
    trust,
)
from ._base import NoParams

PROTOCOL_VERSION: Final = "1"


class RequestSpec(NamedTuple):
    params: type[Any]
    result: type[Any]
    doc: str


class Requests:
    """Client -> daemon requests."""

    HEALTH: Final = "devfactory/health"
    PROJECT_INFO: Final = "devfactory/project/info"
    PROJECT_MAP: Final = "devfactory/project/map"
    PROJECT_CLONE: Final = "devfactory/project/clone"
    PROJECT_PULL: Final = "devfactory/project/pull"
    PROJECT_RULES: Final = "devfactory/project/rules"
    SEARCH: Final = "devfactory/search"
    INDEX_STATUS: Final = "devfactory/index/status"
    INDEX_REBUILD: Final = "devfactory/index/rebuild"
    RUNS_CREATE: Final = "devfactory/runs/create"
    RUNS_GET: Final = "devfactory/runs/get"
    RUNS_LIST: Final = "devfactory/runs/list"
    RUNS_START: Final = "devfactory/runs/start"
    RUNS_PAUSE: Final = "devfactory/runs/pause"
    RUNS_RESUME: Final = "devfactory/runs/resume"
    RUNS_CANCEL: Final = "devfactory/runs/cancel"
    RUNS_RETRY: Final = "devfactory/runs/retry"
    RUNS_DIRECTIVE: Final = "devfactory/runs/directive"
    RUNS_MESSAGE: Final = "devfactory/runs/message"
    RUNS_REWIND: Final = "devfactory/runs/rewind"
    EVENTS: Final = "devfactory/events"
    HITL_RESPOND: Final = "devfactory/hitl/respond"
    HITL_LIST: Final = "devfactory/hitl/list"
    SNAPSHOTS_CREATE: Final = "devfactory/snapshots/create"
    SNAPSHOTS_LIST: Final = "devfactory/snapshots/list"
    SNAPSHOTS_RESTORE: Final = "devfactory/snapshots/restore"
    CHANGES_LIST: Final = "devfactory/changes/list"
    CHANGES_DIFF: Final = "devfactory/changes/diff"
    CHANGES_APPROVE: Final = "devfactory/changes/approve"
    CHANGES_REJECT: Final = "devfactory/changes/reject"
    CHANGES_RESOLVE: Final = "devfactory/changes/resolve"
    CHANGES_COMMENT: Final = "devfactory/changes/comment"
    CHANGES_COMMENTS: Final = "devfactory/changes/comments"
    CHANGES_RESOLVE_COMMENT: Final = "devfactory/changes/resolveComment"
    CHANGES_REQUEST_CHANGES: Final = "devfactory/changes/requestChanges"
    REVIEWS_SUBMIT: Final = "devfactory/reviews/submit"
    GIT_COMMIT: Final = "devfactory/git/commit"
    GIT_PUSH: Final = "devfactory/git/push"
    GIT_LOG: Final = "devfactory/git/log"
    COMMANDS_RUN: Final = "devfactory/commands/run"
    COMMANDS_LIST: Final = "devfactory/commands/list"
    COMMANDS_POLICY: Final = "devfactory/commands/policy"
    INITIATIVES_CREATE: Final = "devfactory/initiatives/create"
    INITIATIVES_LIST: Final = "devfactory/initiatives/list"
    INITIATIVES_GET: Final = "devfactory/initiatives/get"
    INITIATIVES_ARCHIVE: Final = "devfactory/initiatives/archive"
    INITIATIVES_APPLY: Final = "devfactory/initiatives/apply"
    INITIATIVES_ARTIFACTS: Final = "devfactory/initiatives/artifacts"
    PHASES_CREATE: Final = "devfactory/phases/create"
    PHASES_UPDATE: Final = "devfactory/phases/update"
    PHASES_APPROVE: Final = "devfactory/phases/approve"
    PHASES_REQUEST_CHANGES: Final = "devfactory/phases/requestChanges"
    PHASES_DIFF: Final = "devfactory/phases/diff"
    PHASES_COMMENT: Final = "devfactory/phases/comment"
    PHASES_COMMENTS: Final = "devfactory/phases/comments"
    PHASES_RESOLVE_COMMENT: Final = "devfactory/phases/resolveComment"
    TASKS_CREATE: Final = "devfactory/tasks/create"
    TASKS_UPDATE: Final = "devfactory/tasks/update"
    TASKS_GET: Final = "devfactory/tasks/get"
    TASKS_RESPOND: Final = "devfactory/tasks/respond"
    TASKS_RETRY: Final = "devfactory/tasks/retry"
    PROPOSALS_LIST: Final = "devfactory/proposals/list"
    PROPOSALS_ACCEPT: Final = "devfactory/proposals/accept"
    PROPOSALS_DISMISS: Final = "devfactory/proposals/dismiss"
    CONVERSATIONS_LIST: Final = "devfactory/conversations/list"
    CONVERSATIONS_ANSWER: Final = "devfactory/conversations/answer"
    CHAT_START: Final = "devfactory/chat/start"
    CHAT_SEND: Final = "devfactory/chat/send"
    CHAT_GET: Final = "devfactory/chat/get"
    CHAT_LIST: Final = "devfactory/chat/list"
    WORKSPACE_TRUST_STATUS: Final = "devfactory/workspace/trustStatus"
    WORKSPACE_TRUST: Final = "devfactory/workspace/trust"
    WORKSPACE_REVOKE_TRUST: Final = "devfactory/workspace/revokeTrust"


class Notifications:
    """Daemon -> client notifications."""

    EVENT: Final = "devfactory/event"
    RUN_CHANGED: Final = "devfactory/runChanged"
    STREAM: Final = "devfactory/stream"
    QUESTION: Final = "devfactory/question"
    CHANGE_PROPOSED: Final = "devfactory/changeProposed"
    INITIATIVE_CHANGED: Final = "devfactory/initiativeChanged"


class Commands:
    """``workspace/executeCommand`` commands the daemon registers (used by code actions).

    Arguments: ``devfactory.approve`` / ``devfactory.reject`` take ``[changeId]`` or
    ``[changeId, hunkIndex]``; ``devfactory.approveRun`` / ``devfactory.rejectRun`` take
    ``[runId]``; ``devfactory.showDiff`` takes ``[changeId]``.
    """

    APPROVE: Final = "devfactory.approve"
    REJECT: Final = "devfactory.reject"
    APPROVE_RUN: Final = "devfactory.approveRun"
    REJECT_RUN: Final = "devfactory.rejectRun"
    SHOW_DIFF: Final = "devfactory.showDiff"


class Capabilities:
    """Keys an editor may set to true in ``initialize``'s ``capabilities.experimental``."""

    TRUST_REVIEW: Final = "devfactoryTrustReview"
    """The editor asks ``devfactory/workspace/trustStatus`` once the daemon runs and warns of
    settings that wait for trust itself, with a way to review and trust them; the daemon then
    leaves those warnings out of its ``window/showMessage``."""


R = Requests
Ini, T, P = initiatives, tasks, proposals
FACTORY_REQUESTS: Final[dict[str, RequestSpec]] = {
    R.INITIATIVES_CREATE: RequestSpec(
        Ini.InitiativeCreateParams, Ini.Initiative, "Plan a goal: specification, phases, tasks."
    ),
    R.INITIATIVES_LIST: RequestSpec(
        Ini.InitiativeListParams, Ini.InitiativeList, "Initiatives, newest first."
    ),
    R.INITIATIVES_GET: RequestSpec(
        Ini.InitiativeIdParams, Ini.InitiativeTree, "An initiative with its phases and tasks."
    ),
    R.INITIATIVES_ARCHIVE: RequestSpec(
        Ini.InitiativeIdParams, Ini.Initiative, "Archive an initiative (its runs stop)."
    ),
    R.INITIATIVES_APPLY: RequestSpec(
        Ini.InitiativeIdParams, Ini.InitiativeApplied, "Apply a finished initiative's result."
    ),
    R.INITIATIVES_ARTIFACTS: RequestSpec(
        Ini.InitiativeIdParams, P.ArtifactList, "The typed handoffs of an initiative."
    ),
    R.PHASES_CREATE: RequestSpec(Ini.PhaseCreateParams, Ini.Phase, "Add a phase."),
    R.PHASES_UPDATE: RequestSpec(Ini.PhaseUpdateParams, Ini.Phase, "Edit a phase."),
    R.PHASES_APPROVE: RequestSpec(
        Ini.PhaseIdParams, Ini.Phase, "Approve a phase's plan, or its reviewed work."
    ),
    R.PHASES_REQUEST_CHANGES: RequestSpec(
        Ini.PhaseRequestChangesParams, T.TaskList, "Send a phase back: revision tasks."
    ),
    R.PHASES_DIFF: RequestSpec(Ini.PhaseIdParams, Ini.PhaseDiff, "A phase's combined diff."),
    R.PHASES_COMMENT: RequestSpec(
        Ini.PhaseCommentParams, Ini.PhaseComment, "Comment on a line of a phase's diff."
    ),
    R.PHASES_COMMENTS: RequestSpec(
        Ini.PhaseCommentsParams, Ini.PhaseCommentList, "A phase's review comments."
    ),
    R.PHASES_RESOLVE_COMMENT: RequestSpec(
        Ini.PhaseCommentResolveParams, Ini.PhaseComment, "Resolve a phase review comment."
    ),
    R.TASKS_CREATE: RequestSpec(T.TaskCreateParams, T.Task, "Add a task to a phase."),
    R.TASKS_UPDATE: RequestSpec(T.TaskUpdateParams, T.Task, "Edit or move a task."),
    R.TASKS_GET: RequestSpec(T.TaskIdParams, T.Task, "One task."),
    R.TASKS_RESPOND: RequestSpec(T.TaskRespondParams, T.Task, "Answer a checkpoint task."),
    R.TASKS_RETRY: RequestSpec(T.TaskIdParams, T.Task, "Run a failed task again."),
    R.PROPOSALS_LIST: RequestSpec(
        P.ProposalListParams, P.ProposalList, "Proposals, pending by default."
    ),
    R.PROPOSALS_ACCEPT: RequestSpec(
        P.ProposalAcceptParams, P.Proposal, "Accept a proposal (with edits)."
    ),
    R.PROPOSALS_DISMISS: RequestSpec(P.ProposalDismissParams, P.Proposal, "Dismiss a proposal."),
    R.CONVERSATIONS_LIST: RequestSpec(
        P.ConversationListParams, P.ConversationList, "Agent-to-agent questions."
    ),
    R.CONVERSATIONS_ANSWER: RequestSpec(
        P.ConversationAnswerParams, P.Conversation, "Answer an agent's question yourself."
    ),
    R.CHAT_START: RequestSpec(
        P.ChatStartParams, P.ChatSession, "Start refining a phase or task with an agent."
    ),
    R.CHAT_SEND: RequestSpec(P.ChatSendParams, P.ChatSession, "Say something; get the reply."),
    R.CHAT_GET: RequestSpec(P.ChatSessionParams, P.ChatSession, "One chat session."),
    R.CHAT_LIST: RequestSpec(P.ChatListParams, P.ChatSessionList, "An initiative's chats."),
}

REQUESTS: Final[dict[str, RequestSpec]] = {
    R.HEALTH: RequestSpec(NoParams, project.Health, "Versions, database state and counts."),
    R.PROJECT_INFO: RequestSpec(NoParams, project.Project, "The project this daemon serves."),
    R.PROJECT_MAP: RequestSpec(
        project.ProjectMapParams, project.ProjectMap, "Detect frameworks; write PROJECT_MAP.md."
    ),
    R.PROJECT_CLONE: RequestSpec(
        project.ProjectCloneParams, project.GitCommandResult, "Clone a repository to a path."
    ),
    R.PROJECT_PULL: RequestSpec(
        project.ProjectPullParams, project.GitCommandResult, "Pull the workspace's branch."
    ),
    R.PROJECT_RULES: RequestSpec(
        context.ProjectRulesParams, context.ProjectRules, "The project rules files for a path."
    ),
    R.SEARCH: RequestSpec(index.SearchParams, index.SearchResult, "Search the workspace index."),
    R.INDEX_STATUS: RequestSpec(NoParams, index.IndexStatus, "State of the workspace index."),
    R.INDEX_REBUILD: RequestSpec(
        index.IndexRebuildParams, index.IndexRebuildResult, "Re-index (with progress)."
    ),
    R.RUNS_CREATE: RequestSpec(runs.RunCreateParams, runs.Run, "Create (and queue) a run."),
    R.RUNS_GET: RequestSpec(runs.RunIdParams, runs.Run, "One run."),
    R.RUNS_LIST: RequestSpec(runs.RunListParams, runs.RunList, "Runs, newest first."),
    R.RUNS_START: RequestSpec(runs.RunIdParams, runs.Run, "Queue a draft run."),
    R.RUNS_PAUSE: RequestSpec(runs.RunIdParams, runs.Run, "Pause at the next step boundary."),
    R.RUNS_RESUME: RequestSpec(runs.RunIdParams, runs.Run, "Resume a paused run."),
    R.RUNS_CANCEL: RequestSpec(runs.RunIdParams, runs.Run, "Cancel now (kills commands)."),
    R.RUNS_RETRY: RequestSpec(runs.RunIdParams, runs.Run, "A new run retrying this one."),
    R.RUNS_DIRECTIVE: RequestSpec(
        runs.RunDirectiveParams, runs.Run, "Inject a user message into the agent's next turn."
    ),
    R.RUNS_MESSAGE: RequestSpec(
        runs.RunMessageParams, runs.Run, "Talk to a run: a directive, an answer or a follow-up."
    ),
    R.RUNS_REWIND: RequestSpec(
        runs.RunRewindParams, runs.RunRewindResult, "Rewind a run to an earlier step."
    ),
    R.EVENTS: RequestSpec(events.EventsParams, events.EventList, "Replay persisted events."),
    R.HITL_RESPOND: RequestSpec(
        hitl.HitlRespondParams, hitl.HitlRequest, "Answer a question from a run."
    ),
    R.HITL_LIST: RequestSpec(hitl.HitlListParams, hitl.HitlList, "Questions, pending by default."),
    R.SNAPSHOTS_CREATE: RequestSpec(
        snapshots.SnapshotCreateParams, snapshots.Snapshot, "Snapshot the working state."
    ),
    R.SNAPSHOTS_LIST: RequestSpec(
        snapshots.SnapshotListParams, snapshots.SnapshotList, "Snapshots, newest first."
    ),
    R.SNAPSHOTS_RESTORE: RequestSpec(
        snapshots.SnapshotRestoreParams,
        snapshots.SnapshotRestoreResult,
        "Restore a snapshot (itself undoable).",
    ),
    R.CHANGES_LIST: RequestSpec(changes.ChangesListParams, changes.ChangeList, "Changes."),
    R.CHANGES_DIFF: RequestSpec(
        changes.ChangeDiffParams, changes.ChangeDiff, "A change's diff and both versions."
    ),
    R.CHANGES_APPROVE: RequestSpec(
        changes.ChangeDecisionParams, changes.ChangeDecisionResult, "Approve and apply."
    ),
    R.CHANGES_REJECT: RequestSpec(
        changes.ChangeDecisionParams, changes.ChangeDecisionResult, "Reject."
    ),
    R.CHANGES_RESOLVE: RequestSpec(
        changes.ChangeResolveParams, changes.Change, "Mark a conflict resolved in your file."
    ),
    R.CHANGES_COMMENT: RequestSpec(
        changes.ChangeCommentParams, changes.ReviewComment, "Comment on a line of a change."
    ),
    R.CHANGES_COMMENTS: RequestSpec(
        changes.CommentListParams, changes.CommentList, "Review comments."
    ),
    R.CHANGES_RESOLVE_COMMENT: RequestSpec(
        changes.CommentResolveParams, changes.ReviewComment, "Resolve a review comment."
    ),
    R.CHANGES_REQUEST_CHANGES: RequestSpec(
        changes.RequestChangesParams, runs.Run, "Send open comments back to the run."
    ),
    R.REVIEWS_SUBMIT: RequestSpec(
        changes.ReviewSubmitParams, changes.RunReview, "Record a review of a run."
    ),
    R.GIT_COMMIT: RequestSpec(git.GitCommitParams, git.GitCommitResult, "Commit a run's branch."),
    R.GIT_PUSH: RequestSpec(git.GitPushParams, git.GitPushResult, "Push a reviewed run's branch."),
    R.GIT_LOG: RequestSpec(git.GitLogParams, git.GitLog, "The git audit log."),
    R.COMMANDS_RUN: RequestSpec(
        commands.CommandRunParams, commands.CommandExecution, "Run a command in a run's worktree."
    ),
    R.COMMANDS_LIST: RequestSpec(
        commands.CommandListParams, commands.CommandList, "A run's command executions."
    ),
    R.COMMANDS_POLICY: RequestSpec(NoParams, commands.CommandPolicy, "The effective policy."),
    R.WORKSPACE_TRUST_STATUS: RequestSpec(
        NoParams, trust.WorkspaceTrust, "The workspace's settings that wait for your trust."
    ),
    R.WORKSPACE_TRUST: RequestSpec(
        trust.WorkspaceTrustParams, trust.WorkspaceTrust, "Trust the values you reviewed."
    ),
    R.WORKSPACE_REVOKE_TRUST: RequestSpec(
        NoParams, trust.WorkspaceTrust, "Take the workspace's trust back."
    ),
    **FACTORY_REQUESTS,
}

N = Notifications
NOTIFICATIONS: Final[dict[str, type[Any]]] = {
    N.EVENT: events.EventNotification,
    N.RUN_CHANGED: runs.RunChangedNotification,
    N.STREAM: runs.StreamNotification,
    N.QUESTION: hitl.QuestionNotification,
    N.CHANGE_PROPOSED: changes.ChangeProposedNotification,
    N.INITIATIVE_CHANGED: initiatives.InitiativeChangedNotification,
}
