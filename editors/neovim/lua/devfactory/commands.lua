--- The `:DevFactory {subcommand}` table: what each one runs, its usage line and its completion.
--- Each body runs in a command coroutine (devfactory.async), so errors surface as one message.
local async = require('devfactory.async')
local constants = require('devfactory.constants')

local M = {}

local function runs()
  return require('devfactory.runs')
end

local function review()
  return require('devfactory.review')
end

local function feedback()
  return require('devfactory.feedback')
end

--- Run ids seen in this session, newest first, for completion (no request while typing);
--- with `control`, only the runs whose status allows it (constants.RUN_CONTROLS).
---@param control? string a RunControl value
---@return string[]
local function known_runs(control)
  local ids = {}
  for _, by_id in pairs(require('devfactory.events').runs) do
    for id, run in pairs(by_id) do
      if not control or constants.allows(run.status, control) then
        table.insert(ids, tostring(id))
      end
    end
  end
  table.sort(ids, function(a, b)
    return tonumber(a) > tonumber(b)
  end)
  return ids
end

--- Completion of the runs a control applies to.
---@param control string a RunControl value
local function runs_allowing(control)
  return function()
    return known_runs(control)
  end
end

local function complete_run_option(arglead)
  local values = {
    agent = constants.values(constants.AgentRole),
    mode = constants.values(constants.ExecutionMode),
    provider = constants.values(constants.ProviderName),
  }
  local name = arglead:match('^%-%-(%w+)=')
  if name and values[name] then
    return vim.tbl_map(function(v)
      return ('--%s=%s'):format(name, v)
    end, values[name])
  end
  local options = vim.tbl_map(function(option)
    return ('--%s='):format(option)
  end, runs().RUN_OPTIONS)
  return vim.list_extend(
    options,
    vim.tbl_map(function(flag)
      return '--' .. flag
    end, runs().RUN_FLAGS)
  )
end

---@class devfactory.Subcommand
---@field run fun(fargs: string[], opts: table)
---@field usage string
---@field complete? fun(arglead: string, position: integer, words: string[]): string[]
--- `position` is the argument's (1 the first after the subcommand); `words` are the words
--- typed so far, the subcommand's name first.

--- The second argument by scope: `file` a file with proposed changes, `run` a run.
local DECISION_TARGETS = {
  file = function()
    return review().proposed_paths()
  end,
  run = known_runs,
}

local function decision(name)
  return {
    usage = name .. ' [hunk | file [path|change] | run [run]]',
    run = function(fargs)
      review().decide(name, fargs)
    end,
    complete = function(_, position, words)
      if position == 1 then
        return review().SCOPES
      end
      local target = position == 2 and DECISION_TARGETS[words[2]]
      return target and target() or {}
    end,
  }
end

local function control(name)
  return {
    usage = name .. ' [run]',
    run = function(fargs)
      runs().control(name, fargs)
    end,
    complete = runs_allowing(name),
  }
end

---@type table<string, devfactory.Subcommand>
M.subcommands = {
  run = {
    usage = 'run [--agent=..] [--provider=..] [--model=..] [--mode=review|yolo] [--plan] [prompt]',
    run = function(fargs)
      runs().create(fargs)
    end,
    complete = complete_run_option,
  },
  runs = {
    usage = 'runs',
    run = function()
      runs().pick()
    end,
  },
  console = {
    usage = 'console [run]',
    run = function(fargs)
      runs().console(fargs)
    end,
    complete = known_runs,
  },
  pause = control('pause'),
  resume = control('resume'),
  cancel = control('cancel'),
  retry = {
    usage = 'retry [run]',
    run = function(fargs)
      runs().retry(fargs)
    end,
    complete = runs_allowing(constants.RunControl.RETRY),
  },
  directive = {
    usage = 'directive [run] [text]',
    run = function(fargs)
      runs().directive(fargs)
    end,
    complete = runs_allowing(constants.RunControl.DIRECTIVE),
  },
  message = {
    usage = 'message [run] [text]',
    run = function(fargs)
      require('devfactory.talk').message(fargs)
    end,
    complete = runs_allowing(constants.RunControl.MESSAGE),
  },
  ask = {
    usage = "ask [question] (on a range: :'<,'>DevFactory ask)",
    run = function(fargs, opts)
      require('devfactory.talk').ask(fargs, opts)
    end,
  },
  rewind = {
    usage = 'rewind [run] {step}',
    run = function(fargs)
      require('devfactory.talk').rewind(fargs)
    end,
    complete = runs_allowing(constants.RunControl.REWIND),
  },
  answer = {
    usage = 'answer [run]',
    run = function(fargs)
      require('devfactory.questions').answer(fargs)
    end,
    complete = known_runs,
  },
  approve = decision('approve'),
  reject = decision('reject'),
  diff = {
    usage = 'diff [change]',
    run = function(fargs)
      review().diff(fargs)
    end,
  },
  resolve = {
    usage = 'resolve [change]',
    run = function(fargs)
      review().resolve(fargs)
    end,
  },
  resolved = {
    usage = 'resolved [change]',
    run = function(fargs)
      review().resolved(fargs)
    end,
  },
  changes = {
    usage = 'changes [run]',
    run = function(fargs)
      require('devfactory.changes').list(fargs)
    end,
    complete = known_runs,
  },
  comment = {
    usage = 'comment [text]',
    run = function(fargs)
      feedback().comment(fargs)
    end,
  },
  comments = {
    usage = 'comments [run]',
    run = function(fargs)
      feedback().comments(fargs)
    end,
    complete = known_runs,
  },
  review = {
    usage = 'review {approve|reject|comment|request-changes} [run] [notes]',
    run = function(fargs)
      feedback().review(fargs)
    end,
    complete = function(_, position)
      return position == 1 and feedback().verdict_names() or known_runs()
    end,
  },
  commit = {
    usage = 'commit [run] [message]',
    run = function(fargs)
      feedback().commit(fargs)
    end,
    complete = known_runs,
  },
  push = {
    usage = 'push [run] [remote]',
    run = function(fargs)
      feedback().push(fargs)
    end,
    complete = known_runs,
  },
  search = {
    usage = 'search {query}',
    run = function(fargs)
      require('devfactory.search').search(fargs)
    end,
  },
  index = {
    usage = 'index [full]',
    run = function(fargs)
      require('devfactory.search').rebuild(fargs)
    end,
    complete = function()
      return { 'full' }
    end,
  },
  snapshot = {
    usage = 'snapshot [description]',
    run = function(fargs)
      require('devfactory.snapshots').create(fargs)
    end,
  },
  snapshots = {
    usage = 'snapshots',
    run = function()
      require('devfactory.snapshots').pick()
    end,
  },
  restore = {
    usage = 'restore {snapshot}',
    run = function(fargs)
      require('devfactory.snapshots').restore(fargs)
    end,
  },
  plan = {
    usage = 'plan [--mode=yolo|review] [--provider=..] [--model=..] [goal]',
    run = function(fargs)
      require('devfactory.initiatives').plan(fargs)
    end,
    complete = function(arglead)
      if arglead:match('^%-%-mode=') then
        return { '--mode=yolo', '--mode=review' }
      end
      return vim.tbl_map(function(option)
        return ('--%s='):format(option)
      end, require('devfactory.initiatives').PLAN_OPTIONS)
    end,
  },
  initiatives = {
    usage = 'initiatives',
    run = function()
      require('devfactory.initiatives').show()
    end,
  },
  trust = {
    usage = 'trust [revoke]',
    run = function(fargs)
      require('devfactory.trust').run(fargs)
    end,
    complete = function()
      return { 'revoke' }
    end,
  },
  health = {
    usage = 'health',
    run = function()
      vim.cmd('checkhealth devfactory')
    end,
  },
}

---@return string[]
function M.names()
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return names
end

--- The `:DevFactory` command: dispatch to a subcommand (with the command's range).
---@param opts {fargs: string[], range?: integer, line1?: integer, line2?: integer}
function M.dispatch(opts)
  local fargs = vim.deepcopy(opts.fargs)
  local name = table.remove(fargs, 1)
  local subcommand = name and M.subcommands[name]
  if not subcommand then
    local message = name and ('unknown subcommand %q'):format(name) or 'which subcommand?'
    require('devfactory.ui').error(
      ('%s; use one of: %s (see :help devfactory-commands)'):format(
        message,
        table.concat(M.names(), ', ')
      )
    )
    return
  end
  async.run(subcommand.run, fargs, opts)
end

--- Completion of `:DevFactory ...`.
---@param arglead string
---@param cmdline string
---@return string[]
function M.complete(arglead, cmdline)
  local rest = cmdline:gsub('^%s*%S+', '', 1)
  local words = vim.split(vim.trim(rest), '%s+', { trimempty = true })
  if #words == 0 or (#words == 1 and arglead ~= '') then
    return vim.tbl_filter(function(name)
      return vim.startswith(name, arglead)
    end, M.names())
  end
  local subcommand = M.subcommands[words[1]]
  if not subcommand or not subcommand.complete then
    return {}
  end
  local position = arglead == '' and #words or #words - 1
  return vim.tbl_filter(function(candidate)
    return vim.startswith(candidate, arglead)
  end, subcommand.complete(arglead, position, words))
end

return M
