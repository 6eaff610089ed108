--- How events, runs and changes read in buffers, pickers and messages.
local constants = require('devfactory.constants')

local M = {}

local T = constants.EventType

--- What the console's second column calls each event type.
M.EVENT_LABELS = {
  [T.USER_PROMPT] = 'prompt',
  [T.AI_CONTEXT_LOADED] = 'context',
  [T.RAG_SEARCH_STARTED] = 'search',
  [T.RAG_SEARCH_COMPLETED] = 'search done',
  [T.AI_PLAN_CREATED] = 'plan',
  [T.AI_MESSAGE] = 'assistant',
  [T.FILE_READ] = 'read',
  [T.FILE_CREATED] = 'created',
  [T.FILE_UPDATED] = 'updated',
  [T.FILE_DELETED] = 'deleted',
  [T.COMMAND_STARTED] = 'command',
  [T.COMMAND_OUTPUT] = 'output',
  [T.COMMAND_FAILED] = 'command failed',
  [T.COMMAND_COMPLETED] = 'command done',
  [T.GIT_STATUS_CHECKED] = 'git status',
  [T.GIT_BRANCH_CREATED] = 'git branch',
  [T.GIT_DIFF_CREATED] = 'git diff',
  [T.SNAPSHOT_CREATED] = 'snapshot',
  [T.SNAPSHOT_RESTORED] = 'restored',
  [T.DOCS_UPDATED] = 'docs',
  [T.TEST_STARTED] = 'tests',
  [T.TEST_COMPLETED] = 'tests done',
  [T.TEST_FAILED] = 'tests failed',
  [T.PAUSED_FOR_INPUT] = 'question',
  [T.RESUMED] = 'resumed',
  [T.DIRECTIVE_RECEIVED] = 'directive',
  [T.MCP_TOOL_CALLED] = 'mcp tool',
  [T.MCP_SERVER_FAILED] = 'mcp server',
  [T.CHANGE_PROPOSED] = 'proposed',
  [T.CHANGE_APPROVED] = 'approved',
  [T.CHANGE_REJECTED] = 'rejected',
  [T.CHANGE_APPLIED] = 'applied',
  [T.CHANGE_CONFLICT] = 'conflict',
  [T.CHANGE_REVERTED] = 'reverted',
  [T.RUN_STATUS_CHANGED] = 'status',
  [T.ERROR] = 'error',
  [T.FINAL_SUMMARY] = 'summary',
  [T.CONTEXT_TRUNCATED] = 'cut',
  [T.CONTEXT_COMPACTED] = 'compacted',
  [T.CHECKPOINT_CREATED] = 'checkpoint',
  [T.RUN_REWOUND] = 'rewound',
  [T.BUDGET_REACHED] = 'budget',
}

--- Width of the event column in the console (the longest label fits).
M.TYPE_WIDTH = 14

--- The console label of an event type (a type newer than the plugin reads as words too).
---@param event_type string
---@return string
function M.event_label(event_type)
  return M.EVENT_LABELS[event_type] or (tostring(event_type):gsub('_', ' '))
end

--- `1 hunk`, `2 hunks`.
---@param count integer
---@param noun string
---@return string
function M.count(count, noun)
  return ('%d %s%s'):format(count, noun, count == 1 and '' or 's')
end

--- Highlight group of each severity (defined in console.lua, linked to Diagnostic* groups).
M.SEVERITY_HL = {
  info = 'DevFactoryInfo',
  success = 'DevFactorySuccess',
  warning = 'DevFactoryWarning',
  error = 'DevFactoryError',
  debug = 'DevFactoryDebug',
}

--- Events whose lines fold away (command output can run to thousands of lines).
M.FOLDED = {
  [T.COMMAND_OUTPUT] = true,
}

--- Events that carry the whole text the model streamed before them.
--- Events a console does not show: the conversation's messages (the model's text shows as
--- ai_message, tool results as the tools' own events).
M.HIDDEN = {
  [T.CONVERSATION_MESSAGE_ADDED] = true,
}

M.ENDS_STREAM = {
  [T.AI_MESSAGE] = true,
  [T.AI_PLAN_CREATED] = true,
  [T.FINAL_SUMMARY] = true,
}

--- Seconds to add to a UTC time to get local time.
local function utc_offset()
  local now = os.time()
  return os.difftime(now, os.time(os.date('!*t', now) --[[@as osdateparam]]))
end

--- `2026-11-22T13:05:09.123Z` -> `14:05:09` in local time.
---@param iso string?
---@return string
function M.clock(iso)
  local y, mo, d, h, mi, s = tostring(iso):match('^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)')
  if not y then
    return '--:--:--'
  end
  local as_local = os.time({
    year = tonumber(y),
    month = tonumber(mo),
    day = tonumber(d),
    hour = tonumber(h),
    min = tonumber(mi),
    sec = tonumber(s),
    isdst = false,
  })
  return os.date('%H:%M:%S', as_local + utc_offset()) --[[@as string]]
end

---@param text string
---@return string[]
local function split_lines(text)
  local lines = vim.split(text, '\n', { plain = true, trimempty = false })
  if #lines > 1 and lines[#lines] == '' then
    table.remove(lines)
  end
  return lines
end

--- Events whose message is the model's (or the user's) words, written in markdown.
M.MARKDOWN = {
  [T.USER_PROMPT] = true,
  [T.AI_PLAN_CREATED] = true,
  [T.AI_MESSAGE] = true,
  [T.FINAL_SUMMARY] = true,
  [T.DIRECTIVE_RECEIVED] = true,
}

--- Inline markdown a message line may hold, and the group each is drawn with.
local INLINE = {
  { pattern = '()%*%*[^*]+%*%*()', group = 'DevFactoryMarkdownStrong' },
  { pattern = '()`[^`]+`()', group = 'DevFactoryMarkdownCode' },
  { pattern = '()%[[^%]]+%]%([^)]+%)()', group = 'DevFactoryMarkdownLink' },
}

---@alias devfactory.Highlight {row: integer, col: integer, end_col: integer, group: string}

--- Highlights of markdown in `lines` (headings, lists, fenced code, bold, code, links), each
--- `indent` bytes in; rows count from `first_row`.
---@param lines string[]
---@param first_row integer
---@param indent integer
---@return devfactory.Highlight[]
function M.markdown_highlights(lines, first_row, indent)
  local marks = {}
  local fenced = false
  for i, line in ipairs(lines) do
    local row, text = first_row + i - 1, line:sub(indent + 1)
    local function mark(col, end_col, group)
      table.insert(
        marks,
        { row = row, col = indent + col, end_col = indent + end_col, group = group }
      )
    end
    if text:match('^%s*```') then
      fenced = not fenced
      mark(0, #text, 'DevFactoryMarkdownCode')
    elseif fenced then
      mark(0, #text, 'DevFactoryMarkdownCode')
    elseif text:match('^#+ ') then
      mark(0, #text, 'DevFactoryMarkdownHeading')
    else
      local bullet = text:match('^(%s*[-*+] )') or text:match('^(%s*%d+%. )')
      if bullet then
        mark(0, #bullet, 'DevFactoryMarkdownList')
      end
      for _, inline in ipairs(INLINE) do
        for from, to in text:gmatch(inline.pattern) do
          mark(from - 1, to - 1, inline.group)
        end
      end
    end
  end
  return marks
end

---@class devfactory.EventLines
---@field lines string[]
---@field folded boolean
---@field highlights devfactory.Highlight[]

--- The console lines of one event: `time  label  title`, then its message indented when it
--- says more than the title.
---@param event table
---@return devfactory.EventLines
function M.event_lines(event)
  local time = M.clock(event.createdAt)
  local kind = tostring(event.type)
  local label = M.event_label(kind)
  local title = tostring(event.title or '')
  local header = ('%s  %-' .. M.TYPE_WIDTH .. 's %s'):format(time, label, title)
  local lines = { (header:gsub('\n', ' ')) }
  local message = type(event.message) == 'string' and event.message or ''
  local payload = type(event.payload) == 'table' and event.payload or {}
  if message == '' and kind == T.COMMAND_OUTPUT and type(payload.text) == 'string' then
    message = payload.text -- output events keep their text in the payload only
  end
  if message ~= '' and vim.trim(message) ~= vim.trim(title) then
    for _, line in ipairs(split_lines(message)) do
      table.insert(lines, '    ' .. line)
    end
  end
  local type_start = #time + 2
  local highlights = {
    { row = 0, col = 0, end_col = #time, group = 'DevFactoryTime' },
    {
      row = 0,
      col = type_start,
      end_col = type_start + #label,
      group = M.SEVERITY_HL[event.severity] or 'DevFactoryInfo',
    },
  }
  if M.MARKDOWN[kind] then
    vim.list_extend(highlights, M.markdown_highlights(vim.list_slice(lines, 2), 1, 4))
  end
  return { lines = lines, folded = M.FOLDED[kind] == true, highlights = highlights }
end

--- Streamed model text as console lines.
---@param text string
---@return string[]
function M.stream_lines(text)
  local out = {}
  for _, line in ipairs(split_lines(text)) do
    table.insert(out, '  > ' .. line)
  end
  return out
end

--- `#3 [running] Fix the greeting (backend, scripted)`
---@param run table
---@return string
function M.run_item(run)
  return ('#%d [%s] %s (%s, %s)'):format(
    run.id,
    run.status,
    run.title or run.prompt or '',
    run.agent or '?',
    run.provider or '?'
  )
end

--- The quickfix text of one hunk (numbered from 1, as the daemon's diagnostics are), or of
--- a whole change when `hunk` is nil (created, deleted or binary files, conflicts).
---@param change table
---@param hunk table?
---@return string
function M.hunk_item(change, hunk)
  if not hunk then
    local text = ('run #%d change %d: %s %s [%s]'):format(
      change.runId,
      change.id,
      change.action,
      change.path,
      change.status
    )
    if change.status == constants.ChangeStatus.CONFLICT then
      text = ('%s %s; resolve with :DevFactory resolve %d'):format(
        text,
        change.reason or 'your edits overlap it',
        change.id
      )
    end
    return text
  end
  return ('run #%d change %d hunk %d/%d [%s] %s'):format(
    change.runId,
    change.id,
    hunk.index + 1,
    #change.hunks,
    hunk.status or change.status,
    hunk.header or ''
  )
end

--- The first non-blank line of a snippet, trimmed.
---@param snippet string?
---@return string
function M.first_line(snippet)
  for _, line in ipairs(vim.split(snippet or '', '\n', { plain = true })) do
    if vim.trim(line) ~= '' then
      return vim.trim(line)
    end
  end
  return ''
end

return M
