--- Agent runs: `:DevFactory run|runs|pause|resume|cancel|retry|directive` over
--- `devfactory/runs/*`.
local async = require('devfactory.async')
local config = require('devfactory.config')
local constants = require('devfactory.constants')
local events = require('devfactory.events')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local R = constants.Requests

local M = {}

--- Options `:DevFactory run` accepts as `--name=value` before the prompt.
M.RUN_OPTIONS = { 'agent', 'provider', 'model', 'mode' }

---@type table<integer, integer> client id -> the run the user worked with last
M.current = {}

--- The run a command is about: the argument (`3` or `#3`), else the console's run, else the
--- last run used in this session, else the newest run.
---@param client vim.lsp.Client
---@param arg string?
---@return integer
function M.resolve(client, arg)
  if arg and arg ~= '' then
    local id = tonumber((arg:gsub('^#', '')))
    if not id then
      async.fail(('a run is a number like 3 or #3, got %q'):format(arg))
    end
    return id --[[@as integer]]
  end
  if vim.b.devfactory_run_id and vim.b.devfactory_client_id == client.id then
    return vim.b.devfactory_run_id
  end
  if M.current[client.id] then
    return M.current[client.id]
  end
  local list = rpc.call(R.RUNS_LIST, { limit = 1 }, { client = client })
  if list.runs[1] then
    return list.runs[1].id
  end
  return async.fail('no runs yet: start one with :DevFactory run {prompt}')
end

--- Split `--name=value` options from the prompt words.
---@param fargs string[]
---@return table options, string prompt
function M.parse_run_args(fargs)
  local options, words = {}, {}
  for _, arg in ipairs(fargs) do
    local name, value = arg:match('^%-%-([%w_]+)=(.*)$')
    if name and #words == 0 then
      if not vim.list_contains(M.RUN_OPTIONS, name) then
        async.fail(
          ('unknown option --%s for :DevFactory run (accepted: --%s)'):format(
            name,
            table.concat(M.RUN_OPTIONS, '=, --') .. '='
          )
        )
      end
      options[name] = value
    else
      table.insert(words, arg)
    end
  end
  return options, table.concat(words, ' ')
end

---@param client vim.lsp.Client
---@param run table
local function follow(client, run)
  events.remember(client.id, run)
  M.current[client.id] = run.id
  if config.options.console.open_on_run then
    require('devfactory.console').open(client, run.id)
  end
end

--- `:DevFactory run [--agent=..] [--provider=..] [--model=..] [--mode=..] [prompt]`
---@param fargs string[]
---@return table? run
function M.create(fargs)
  local options, prompt = M.parse_run_args(fargs)
  if vim.trim(prompt) == '' then
    prompt = ui.input({ prompt = 'DevFactory task: ' })
    if not prompt or vim.trim(prompt) == '' then
      return nil
    end
  end
  local params = vim.tbl_extend('force', config.options.run or {}, options)
  params.prompt = prompt
  params.start = true
  local run, client = rpc.call(R.RUNS_CREATE, params)
  ui.info(('run #%d started: %s'):format(run.id, run.title or prompt))
  follow(client, run)
  return run
end

--- `:DevFactory runs`: pick a run (newest first) and open its console.
function M.pick()
  local list, client = rpc.call(R.RUNS_LIST, { limit = 50 })
  if #list.runs == 0 then
    ui.info('no runs yet: start one with :DevFactory run {prompt}')
    return
  end
  for _, run in ipairs(list.runs) do
    events.remember(client.id, run)
  end
  local run = ui.select(list.runs, {
    prompt = 'DevFactory runs',
    format_item = format.run_item,
    kind = 'devfactory.run',
  })
  if run then
    M.current[client.id] = run.id
    require('devfactory.console').open(client, run.id)
  end
end

--- `:DevFactory console [run]`
---@param fargs string[]
function M.console(fargs)
  local client = rpc.client()
  local run_id = M.resolve(client, fargs[1])
  M.current[client.id] = run_id
  require('devfactory.console').open(client, run_id)
end

--- `quiet`: the run's own status event already says it (unless notifications are off).
--- Which status allows which is the daemon's table (constants.RUN_CONTROLS); completion
--- offers only those runs.
local CONTROLS = {
  pause = { method = R.RUNS_PAUSE, done = 'run #%d pauses at its next step' },
  resume = { method = R.RUNS_RESUME, done = 'run #%d resumed' },
  cancel = { method = R.RUNS_CANCEL, done = 'run #%d cancelled', quiet = true },
}

--- `:DevFactory pause|resume|cancel [run]`
---@param action 'pause'|'resume'|'cancel'
---@param fargs string[]
function M.control(action, fargs)
  local spec = CONTROLS[action]
  local client = rpc.client()
  local run_id = M.resolve(client, fargs[1])
  local run = rpc.call(spec.method, { runId = run_id }, { client = client })
  events.remember(client.id, run)
  if not (spec.quiet and config.options.notify) then
    ui.info(spec.done:format(run_id))
  end
end

--- `:DevFactory retry [run]`: a new run that retries this one.
---@param fargs string[]
function M.retry(fargs)
  local client = rpc.client()
  local run_id = M.resolve(client, fargs[1])
  local run = rpc.call(R.RUNS_RETRY, { runId = run_id }, { client = client })
  ui.info(('run #%d retries run #%d'):format(run.id, run_id))
  follow(client, run)
end

--- `:DevFactory directive [run] [text]`: a message for the agent's next turn.
---@param fargs string[]
function M.directive(fargs)
  local client = rpc.client()
  local run_arg
  if fargs[1] and fargs[1]:match('^#?%d+$') then
    run_arg = table.remove(fargs, 1)
  end
  local run_id = M.resolve(client, run_arg)
  local text = table.concat(fargs, ' ')
  if vim.trim(text) == '' then
    text = ui.input({ prompt = ('Directive for run #%d: '):format(run_id) })
    if not text or vim.trim(text) == '' then
      return
    end
  end
  rpc.call(R.RUNS_DIRECTIVE, { runId = run_id, text = text }, { client = client })
  ui.info(('directive sent to run #%d'):format(run_id))
end

return M
