--- Talking to runs: `:DevFactory message [run] [text]` (a directive while a run works, the
--- answer while it waits, a follow-up turn once it stopped), `:'<,'>DevFactory ask [question]`
--- (a new run with the selected lines and their diagnostics attached), `:DevFactory rewind
--- [run] {step}` (also `r` on a checkpoint line of the console), and the approval of a plan
--- (a question of kind `plan`: the plan in a Markdown buffer you may edit, then approve or
--- reject).
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local events = require('devfactory.events')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local R = constants.Requests

local M = {}

local SEVERITY = {
  [vim.diagnostic.severity.ERROR] = 'error',
  [vim.diagnostic.severity.WARN] = 'warning',
  [vim.diagnostic.severity.INFO] = 'information',
  [vim.diagnostic.severity.HINT] = 'hint',
}

--- `[run]` then the words of a text, as `:DevFactory message 3 hello` gives them.
---@param fargs string[]
---@return string? run_arg, string text
local function run_and_text(fargs)
  local run_arg
  if fargs[1] and fargs[1]:match('^#?%d+$') then
    run_arg = table.remove(fargs, 1)
  end
  return run_arg, table.concat(fargs, ' ')
end

--- `:DevFactory message [run] [text]`
---@param fargs string[]
---@return table? run
function M.message(fargs)
  local client = rpc.client()
  local run_arg, text = run_and_text(vim.deepcopy(fargs))
  local runs = require('devfactory.runs')
  local run_id = runs.resolve(client, run_arg)
  if vim.trim(text) == '' then
    text = ui.input({ prompt = ('Message for run #%d: '):format(run_id) })
    if not text or vim.trim(text) == '' then
      return nil
    end
  end
  local run = rpc.call(R.RUNS_MESSAGE, { runId = run_id, text = text }, { client = client })
  events.remember(client.id, run)
  runs.current[client.id] = run.id
  ui.info(('message sent to run #%d (%s)'):format(run.id, run.status))
  return run
end

--- The lines `first`..`last` (1-based) of `buf` and the diagnostics among them, as context.
---@param buf integer
---@param first integer
---@param last integer
---@return table[] ContextItem list
function M.selection_context(buf, first, last)
  local uri = vim.uri_from_bufnr(buf)
  local diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.lnum + 1 >= first and d.lnum + 1 <= last then
      table.insert(diagnostics, {
        range = {
          start = { line = d.lnum, character = d.col },
          ['end'] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
        },
        message = d.message,
        severity = SEVERITY[d.severity] or 'error',
        source = d.source,
      })
    end
  end
  local range = {
    start = { line = first - 1, character = 0 },
    ['end'] = { line = last, character = 0 },
  }
  return { { uri = uri, range = range, diagnostics = diagnostics } }
end

--- `:'<,'>DevFactory ask [question]`: a new run about the selected lines (the whole buffer
--- without a range).
---@param fargs string[]
---@param opts {range: integer, line1: integer, line2: integer}
---@return table? run
function M.ask(fargs, opts)
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].buftype ~= '' or vim.api.nvim_buf_get_name(buf) == '' then
    async.fail('ask about a file of the workspace: select lines in its buffer first')
  end
  local first, last = 1, vim.api.nvim_buf_line_count(buf)
  if opts and opts.range and opts.range > 0 then
    first, last = opts.line1, opts.line2
  end
  local question = table.concat(fargs, ' ')
  if vim.trim(question) == '' then
    question = ui.input({ prompt = ('Ask DevFactory about lines %d-%d: '):format(first, last) })
    if not question or vim.trim(question) == '' then
      return nil
    end
  end
  local client = rpc.client()
  local context = M.selection_context(buf, first, last)
  if not opts or not opts.range or opts.range == 0 then
    context[1].range = nil -- the whole file
  end
  local params = vim.tbl_extend('force', require('devfactory.config').options.run or {}, {
    prompt = question,
    context = context,
    start = true,
  })
  local run = rpc.call(R.RUNS_CREATE, params, { client = client })
  ui.info(('run #%d started: %s'):format(run.id, run.title or question))
  events.remember(client.id, run)
  require('devfactory.runs').current[client.id] = run.id
  if require('devfactory.config').options.console.open_on_run then
    require('devfactory.console').open(client, run.id)
  end
  return run
end

--- Rewind a run to `step` once the user confirms.
---@param client vim.lsp.Client
---@param run_id integer
---@param step integer
---@return table? RunRewindResult
function M.rewind_to(client, run_id, step)
  local where = step == 0 and 'its start' or ('step %d'):format(step)
  local choice = ui.select({ 'Rewind', 'Cancel' }, {
    prompt = ('Rewind run #%d to %s? Its worktree and conversation go back there.'):format(
      run_id,
      where
    ),
    kind = 'devfactory.confirm',
  })
  if choice ~= 'Rewind' then
    return nil
  end
  local result = rpc.call(R.RUNS_REWIND, { runId = run_id, step = step }, { client = client })
  events.remember(client.id, result.run)
  ui.info(
    ('run #%d rewound to %s (%s put back)'):format(
      run_id,
      where,
      format.count(#result.files, 'file')
    )
  )
  return result
end

--- `:DevFactory rewind [run] {step}`
---@param fargs string[]
function M.rewind(fargs)
  local client = rpc.client()
  local step = tonumber(table.remove(fargs) or '')
  if not step then
    async.fail('which step? :DevFactory rewind [run] {step} (0: the start of the run)')
  end
  local run_id = require('devfactory.runs').resolve(client, fargs[1])
  return M.rewind_to(client, run_id, step --[[@as integer]])
end

--- The plan of a `plan` question in a Markdown buffer (editable), then approve or reject.
---@param client vim.lsp.Client
---@param request table HitlRequest of kind plan
---@return boolean answered
function M.review_plan(client, request)
  local name = ('devfactory://plan/run-%d/%d'):format(request.runId, request.id)
  -- Asked again (:DevFactory answer) while its buffer is open: keep the edits made meanwhile.
  local buf = ui.named(name)
  if not buf then
    buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].filetype = 'markdown'
    vim.bo[buf].bufhidden = 'wipe'
    vim.api.nvim_buf_set_name(buf, name)
    local plan = vim.split(request.question, '\n', { plain = true })
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, plan)
  end
  if #vim.fn.win_findbuf(buf) == 0 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
    vim.cmd('wincmd p')
  end
  local function waiting()
    ui.warn(
      ('run #%d is waiting for its plan: edit it in its buffer, then :DevFactory answer %d'):format(
        request.runId,
        request.runId
      )
    )
    return false
  end
  local choice = ui.select({ 'Approve', 'Reject' }, {
    prompt = ('Run #%d proposes a plan (edit it in its buffer, then):'):format(request.runId),
    kind = 'devfactory.plan',
  })
  local edited =
    vim.trim(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'))
  local params
  if choice == 'Approve' then
    local same = edited == vim.trim(request.question)
    params = {
      action = same and constants.HitlAction.APPROVE or constants.HitlAction.AMEND,
      text = (not same) and edited or nil,
    }
  elseif choice == 'Reject' then
    local feedback = ui.input({ prompt = 'What should change? (empty: stop the run) ' })
    if feedback == nil then
      return waiting()
    end
    params = { action = constants.HitlAction.REJECT, text = vim.trim(feedback) ~= '' and feedback or nil }
  else
    return waiting()
  end
  params.requestId = request.id
  rpc.call(R.HITL_RESPOND, params, { client = client })
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    pcall(vim.api.nvim_win_close, win, true)
  end
  return true
end

return M
