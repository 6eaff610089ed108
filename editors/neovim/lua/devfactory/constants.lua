--- The wire contract's names, mirrored from `protocol/src/devfactory/protocol/` (methods.py and
--- enums.py). tests/e2e/test_neovim_plugin.py fails when this file and the Python side differ,
--- so edit both together.
local M = {}

M.PROTOCOL_VERSION = '1'

--- Client -> daemon requests.
M.Requests = {
  HEALTH = 'devfactory/health',
  PROJECT_INFO = 'devfactory/project/info',
  PROJECT_MAP = 'devfactory/project/map',
  PROJECT_CLONE = 'devfactory/project/clone',
  PROJECT_PULL = 'devfactory/project/pull',
  SEARCH = 'devfactory/search',
  INDEX_STATUS = 'devfactory/index/status',
  INDEX_REBUILD = 'devfactory/index/rebuild',
  RUNS_CREATE = 'devfactory/runs/create',
  RUNS_GET = 'devfactory/runs/get',
  RUNS_LIST = 'devfactory/runs/list',
  RUNS_START = 'devfactory/runs/start',
  RUNS_PAUSE = 'devfactory/runs/pause',
  RUNS_RESUME = 'devfactory/runs/resume',
  RUNS_CANCEL = 'devfactory/runs/cancel',
  RUNS_RETRY = 'devfactory/runs/retry',
  RUNS_DIRECTIVE = 'devfactory/runs/directive',
  EVENTS = 'devfactory/events',
  HITL_RESPOND = 'devfactory/hitl/respond',
  HITL_LIST = 'devfactory/hitl/list',
  SNAPSHOTS_CREATE = 'devfactory/snapshots/create',
  SNAPSHOTS_LIST = 'devfactory/snapshots/list',
  SNAPSHOTS_RESTORE = 'devfactory/snapshots/restore',
  CHANGES_LIST = 'devfactory/changes/list',
  CHANGES_DIFF = 'devfactory/changes/diff',
  CHANGES_APPROVE = 'devfactory/changes/approve',
  CHANGES_REJECT = 'devfactory/changes/reject',
  CHANGES_COMMENT = 'devfactory/changes/comment',
  CHANGES_COMMENTS = 'devfactory/changes/comments',
  CHANGES_RESOLVE_COMMENT = 'devfactory/changes/resolveComment',
  CHANGES_REQUEST_CHANGES = 'devfactory/changes/requestChanges',
  REVIEWS_SUBMIT = 'devfactory/reviews/submit',
  GIT_COMMIT = 'devfactory/git/commit',
  GIT_PUSH = 'devfactory/git/push',
  GIT_LOG = 'devfactory/git/log',
  COMMANDS_RUN = 'devfactory/commands/run',
  COMMANDS_LIST = 'devfactory/commands/list',
  COMMANDS_POLICY = 'devfactory/commands/policy',
}

--- Daemon -> client notifications.
M.Notifications = {
  EVENT = 'devfactory/event',
  RUN_CHANGED = 'devfactory/runChanged',
  STREAM = 'devfactory/stream',
  QUESTION = 'devfactory/question',
  CHANGE_PROPOSED = 'devfactory/changeProposed',
}

--- `workspace/executeCommand` commands offered by the daemon's code actions.
--- approve/reject take {changeId} or {changeId, hunkIndex}; approveRun/rejectRun {runId};
--- showDiff {changeId}.
M.Commands = {
  APPROVE = 'devfactory.approve',
  REJECT = 'devfactory.reject',
  APPROVE_RUN = 'devfactory.approveRun',
  REJECT_RUN = 'devfactory.rejectRun',
  SHOW_DIFF = 'devfactory.showDiff',
}

M.RunStatus = {
  DRAFT = 'draft',
  QUEUED = 'queued',
  RUNNING = 'running',
  PAUSED = 'paused',
  WAITING_FOR_USER = 'waiting_for_user',
  COMPLETED = 'completed',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
}

--- Statuses a run never leaves by itself.
M.TERMINAL_RUN_STATUSES = {
  [M.RunStatus.COMPLETED] = true,
  [M.RunStatus.FAILED] = true,
  [M.RunStatus.CANCELLED] = true,
}

M.AgentRole = {
  ARCHITECT = 'architect',
  BACKEND = 'backend',
  FRONTEND = 'frontend',
  IPHONE = 'iphone',
  RAG = 'rag',
  QA = 'qa',
  DEVOPS = 'devops',
  DOCUMENTATION = 'documentation',
}

M.Severity = {
  INFO = 'info',
  SUCCESS = 'success',
  WARNING = 'warning',
  ERROR = 'error',
  DEBUG = 'debug',
}

M.EventType = {
  USER_PROMPT = 'user_prompt',
  AI_CONTEXT_LOADED = 'ai_context_loaded',
  RAG_SEARCH_STARTED = 'rag_search_started',
  RAG_SEARCH_COMPLETED = 'rag_search_completed',
  AI_PLAN_CREATED = 'ai_plan_created',
  AI_MESSAGE = 'ai_message',
  FILE_READ = 'file_read',
  FILE_CREATED = 'file_created',
  FILE_UPDATED = 'file_updated',
  FILE_DELETED = 'file_deleted',
  COMMAND_STARTED = 'command_started',
  COMMAND_OUTPUT = 'command_output',
  COMMAND_FAILED = 'command_failed',
  COMMAND_COMPLETED = 'command_completed',
  GIT_STATUS_CHECKED = 'git_status_checked',
  GIT_BRANCH_CREATED = 'git_branch_created',
  GIT_DIFF_CREATED = 'git_diff_created',
  SNAPSHOT_CREATED = 'snapshot_created',
  SNAPSHOT_RESTORED = 'snapshot_restored',
  DOCS_UPDATED = 'docs_updated',
  TEST_STARTED = 'test_started',
  TEST_COMPLETED = 'test_completed',
  TEST_FAILED = 'test_failed',
  PAUSED_FOR_INPUT = 'paused_for_input',
  RESUMED = 'resumed',
  DIRECTIVE_RECEIVED = 'directive_received',
  CHANGE_PROPOSED = 'change_proposed',
  CHANGE_APPROVED = 'change_approved',
  CHANGE_REJECTED = 'change_rejected',
  CHANGE_APPLIED = 'change_applied',
  CHANGE_CONFLICT = 'change_conflict',
  RUN_STATUS_CHANGED = 'run_status_changed',
  ERROR = 'error',
  FINAL_SUMMARY = 'final_summary',
}

M.ChangeStatus = {
  PROPOSED = 'proposed',
  APPROVED = 'approved',
  REJECTED = 'rejected',
  APPLIED = 'applied',
  CONFLICT = 'conflict',
  STALE = 'stale',
}

M.ExecutionMode = {
  REVIEW = 'review',
  YOLO = 'yolo',
}

M.HitlAction = {
  ANSWER = 'answer',
  APPROVE = 'approve',
  REJECT = 'reject',
  AMEND = 'amend',
}

M.ProviderName = {
  OPENAI = 'openai',
  ANTHROPIC = 'anthropic',
  CLAUDE_CODE = 'claude_code',
  LOCAL_SHELL = 'local_shell',
  SCRIPTED = 'scripted',
}

--- JSON-RPC error codes of `protocol/errors.py` the plugin words specially.
M.ErrorCodes = {
  METHOD_NOT_FOUND = -32601,
  INVALID_PARAMS = -32602,
  INTERNAL_ERROR = -32603,
  NOT_FOUND = -32004,
  INVALID_STATE = -32005,
  REFUSED = -32006,
  UNAVAILABLE = -32007,
}

--- The sorted values of one of the enum tables above (for completion and validation).
---@param enum table<string, string>
---@return string[]
function M.values(enum)
  local out = vim.tbl_values(enum)
  table.sort(out)
  return out
end

return M
