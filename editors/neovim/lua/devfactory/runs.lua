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
--- Options it accepts as a bare `--name` (true).
M.RUN_FLAGS = { 'plan' }

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
    local flag = arg:match('^%-%-([%w_]+)$')
    if flag and #words == 0 and vim.list_contains(M.RUN_FLAGS, flag) then
      options[flag] = true
    elseif name and #words == 0 then
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

--- Where the options of the last `:DevFactory run` of each project are kept.
---@return string
function M.remembered_file()
  return vim.fs.joinpath(vim.fn.stdpath('state'), 'devfactory', 'last-run.json')
end

local REMEMBERED_PROJECTS = 50

---@return table<string, table> project root -> the options its last run was given
local function remembered_all()
  local ok, data = pcall(function()
    return vim.json.decode(table.concat(vim.fn.readfile(M.remembered_file()), '\n'))
  end)
  return ok and type(data) == 'table' and data or {}
end

--- The `--name=value` options the last run of `root` was given.
---@param root string
---@return table
function M.remembered(root)
  local options = remembered_all()[root]
  options = type(options) == 'table' and options or {}
  options.at = nil
  return options
end

---@param root string
---@param options table
local function remember(root, options)
  local all = remembered_all()
  all[root] = vim.tbl_extend('force', options, { at = os.time() })
  local roots = vim.tbl_keys(all)
  table.sort(roots, function(a, b)
    return (all[a].at or 0) > (all[b].at or 0)
  end)
  for i = REMEMBERED_PROJECTS + 1, #roots do
    all[roots[i]] = nil
  end
  local file = M.remembered_file()
  vim.fn.mkdir(vim.fs.dirname(file), 'p')
  pcall(vim.fn.writefile, { vim.json.encode(all) }, file)
end

--- Stop before a run that would fail at once: the daemon's health says the provider it would
--- use (the default, with its configured model) cannot run.
---@param client vim.lsp.Client
---@param params table
local function check_provider(client, params)
  if params.model then
    return -- a model of its own: the health of the default model does not tell
  end
  local provider = (rpc.call(R.HEALTH, {}, { client = client }) or {}).provider
  if
    type(provider) ~= 'table'
    or provider.ready
    or (params.provider or provider.name) ~= provider.name
  then
    return
  end
  async.fail(
    ('%s; fix it (:checkhealth devfactory) or choose another with --provider='):format(
      provider.problem
    )
  )
end

--- `:DevFactory run [--agent=..] [--provider=..] [--model=..] [--mode=..] [--plan] [prompt]`:
--- the options left out are those of the project's last run, then the `run` option's (plan
--- mode is asked for each run, never remembered).
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
  local client = rpc.client()
  local root = rpc.root(client) or vim.fn.getcwd()
  local plan = options.plan
  options.plan = nil
  local chosen = vim.tbl_extend('force', M.remembered(root), options)
  local params = vim.tbl_extend('force', config.options.run or {}, chosen)
  params.plan = plan
  params.prompt = prompt
  params.start = true
  check_provider(client, params)
  local run = rpc.call(R.RUNS_CREATE, params, { client = client })
  remember(root, chosen)
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
