--- The factory in Neovim: `:DevFactory initiatives` shows every initiative of the project as a
--- tree in a buffer (initiative -> phases -> tasks with the runs behind them, and the proposals
--- waiting), acted on from the line under the cursor; `:DevFactory plan {goal}` starts one.
---
--- Over `devfactory/initiatives|phases|tasks|proposals/*`; open trees follow
--- `devfactory/initiativeChanged`. Keys in the tree (`:help devfactory-initiatives`):
---   a     accept a proposal, approve a phase under review or a checkpoint, apply the result
---   x     dismiss a proposal, request changes on a phase, reject a checkpoint
---   <CR>  the console of a task's run, a phase's combined diff (`c` there comments on a
---         line: devfactory.phase_review), a proposal's content
---   r     refresh        q  close
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local R = constants.Requests
local TaskStatus = constants.TaskStatus
local TaskType = constants.TaskType

local M = {}

M.MARK = {
  [TaskStatus.PENDING] = '○',
  [TaskStatus.IN_PROGRESS] = '◐',
  [TaskStatus.COMPLETED] = '●',
  [TaskStatus.BLOCKED] = '◆',
  [TaskStatus.FAILED] = '✗',
}

--- `--mode=` of `:DevFactory plan`: the CLI's short name, or the protocol's.
local MODES = { review = constants.InitiativeMode.REVIEW_PER_PHASE }
for _, mode in pairs(constants.InitiativeMode) do
  MODES[mode] = mode
end
M.PLAN_OPTIONS = { 'mode', 'provider', 'model' }

---@class devfactory.InitiativeItem
---@field kind 'initiative'|'phase'|'task'|'proposal'
---@field record table the protocol record (Initiative, Phase, Task or Proposal)
---@field initiative table the initiative it belongs to

---@class devfactory.InitiativesView
---@field buf integer
---@field client_id integer
---@field items table<integer, devfactory.InitiativeItem> line number -> what it shows
---@field generation integer counts refreshes: only the latest draws

---@type table<integer, devfactory.InitiativesView> buf -> view
local views = {}

local function words(status)
  return (status:gsub('_', ' '))
end

--- The tree of one initiative (`devfactory/initiatives/get` result) as lines and items.
---@param tree table InitiativeTree
---@return string[] lines, devfactory.InitiativeItem[] items
function M.render(tree)
  local initiative = tree.initiative
  local lines, items = {}, {}
  local function add(text, kind, record)
    table.insert(lines, text)
    table.insert(items, { kind = kind, record = record, initiative = initiative })
  end
  add(
    ('#%d %s [%s] %s · %s'):format(
      initiative.id,
      initiative.name,
      words(initiative.status),
      initiative.mode,
      initiative.branch
    ),
    'initiative',
    initiative
  )
  for _, phase in ipairs(tree.phases) do
    add(('  %s [%s]'):format(phase.name, words(phase.status)), 'phase', phase)
    for _, task in ipairs(tree.tasks) do
      if task.phaseId == phase.id then
        local runs = vim.tbl_map(function(id)
          return 'run #' .. id
        end, task.runIds or {})
        local kind = task.type ~= TaskType.AUTO and (' ' .. task.type) or ''
        local text = ('    %s %d. %s%s [%s] %s'):format(
          M.MARK[task.status] or '?',
          task.id,
          task.title,
          kind,
          words(task.status),
          table.concat(vim.list_extend({ task.agent }, runs), ' · ')
        )
        if task.failedReason then
          text = text .. ' — ' .. task.failedReason
        end
        add(text, 'task', task)
      end
    end
  end
  for _, proposal in ipairs(tree.proposals) do
    add(
      ('  ? proposal %d: %s %s %s'):format(
        proposal.id,
        proposal.action,
        proposal.target,
        proposal.title
      ),
      'proposal',
      proposal
    )
  end
  return lines, items
end

--- Fetch every initiative of the client's project and draw them (inside a coroutine). Only
--- the latest of overlapping refreshes draws.
---@param view devfactory.InitiativesView
local function refresh(view)
  view.generation = view.generation + 1
  local mine = view.generation
  local client = vim.lsp.get_client_by_id(view.client_id)
  if not client then
    return
  end
  local list = rpc.call(R.INITIATIVES_LIST, { limit = 50 }, { client = client })
  local lines, items = {}, {}
  for _, initiative in ipairs(list.initiatives) do
    local tree = rpc.call(R.INITIATIVES_GET, { initiativeId = initiative.id }, { client = client })
    local more_lines, more_items = M.render(tree)
    if #lines > 0 then
      table.insert(lines, '')
      table.insert(items, false)
    end
    vim.list_extend(lines, more_lines)
    vim.list_extend(items, more_items)
  end
  if mine ~= view.generation or not vim.api.nvim_buf_is_valid(view.buf) then
    return
  end
  if #lines == 0 then
    lines = { 'No initiatives yet: :DevFactory plan {goal} starts one.' }
  end
  vim.bo[view.buf].modifiable = true
  vim.api.nvim_buf_set_lines(view.buf, 0, -1, false, lines)
  vim.bo[view.buf].modifiable = false
  view.items = {}
  for line, item in ipairs(items) do
    view.items[line] = item or nil
  end
  vim.api.nvim_exec_autocmds('User', {
    pattern = 'DevFactoryInitiativesDrawn',
    modeline = false,
    data = { buf = view.buf },
  })
end

--- `devfactory/initiativeChanged`: redraw the client's open trees.
function M.on_changed(err, _, ctx)
  if err then
    return
  end
  for _, view in pairs(views) do
    if view.client_id == ctx.client_id then
      async.run(refresh, view)
    end
  end
end

---@return devfactory.InitiativesView, devfactory.InitiativeItem?
local function under_cursor()
  local buf = vim.api.nvim_get_current_buf()
  local view = views[buf]
  local line = vim.api.nvim_win_get_cursor(0)[1]
  return view, view and view.items[line]
end

local function is_checkpoint(task)
  return task.status == TaskStatus.BLOCKED and task.checkpoint and not task.checkpoint.action
end

--- `a` on a line: say yes to what it waits for.
---@param client vim.lsp.Client
---@param item devfactory.InitiativeItem
local function accept(client, item)
  local record, opts = item.record, { client = client }
  if item.kind == 'proposal' then
    rpc.call(R.PROPOSALS_ACCEPT, { proposalId = record.id }, opts)
    ui.info(('proposal %d accepted: %s'):format(record.id, record.title))
  elseif item.kind == 'phase' and record.status == constants.PhaseStatus.PENDING_REVIEW then
    rpc.call(R.PHASES_APPROVE, { phaseId = record.id }, opts)
    ui.info(('phase %s approved'):format(record.name))
  elseif item.kind == 'task' and is_checkpoint(record) then
    local params = { taskId = record.id, action = constants.HitlAction.APPROVE }
    if record.type == TaskType.CHECKPOINT_DECISION then
      local choice = ui.select(record.checkpoint.choices, { prompt = record.checkpoint.question })
      if not choice then
        return
      end
      params = { taskId = record.id, action = constants.HitlAction.ANSWER, text = choice }
    end
    rpc.call(R.TASKS_RESPOND, params, opts)
    ui.info(('task %d answered'):format(record.id))
  elseif
    item.kind == 'initiative' and record.status == constants.InitiativeStatus.PENDING_REVIEW
  then
    local applied = rpc.call(R.INITIATIVES_APPLY, { initiativeId = record.id }, opts)
    local undo = applied.snapshotId
        and ('; undo with :DevFactory restore %d'):format(applied.snapshotId)
      or ''
    ui.info(
      ('%s applied (%s)%s'):format(record.name, format.count(#applied.applied, 'change'), undo)
    )
    -- Files open in a buffer the daemon serves took their change into the buffer; those it
    -- wrote on disk are reloaded on its change_applied events (reload.lua).
  else
    async.fail(
      'nothing to accept here: put the cursor on a proposal, a phase under review, a '
        .. 'checkpoint or an initiative pending review'
    )
  end
end

--- `x` on a line: say no (with the reason the daemon passes on to the agents).
---@param client vim.lsp.Client
---@param item devfactory.InitiativeItem
local function refuse(client, item)
  local record, opts = item.record, { client = client }
  if item.kind == 'proposal' then
    rpc.call(R.PROPOSALS_DISMISS, { proposalId = record.id }, opts)
    ui.info(('proposal %d dismissed'):format(record.id))
  elseif item.kind == 'phase' and record.status == constants.PhaseStatus.PENDING_REVIEW then
    local note = ui.input({ prompt = ('What should change in %s? '):format(record.name) })
    if not note then
      return
    end
    rpc.call(R.PHASES_REQUEST_CHANGES, { phaseId = record.id, note = note }, opts)
    ui.info(('changes requested on phase %s'):format(record.name))
  elseif
    item.kind == 'task'
    and is_checkpoint(record)
    and record.type == TaskType.CHECKPOINT_HUMAN_VERIFY
  then
    local reason = ui.input({ prompt = 'Why? ' })
    if not reason then
      return
    end
    rpc.call(
      R.TASKS_RESPOND,
      { taskId = record.id, action = constants.HitlAction.REJECT, text = reason },
      opts
    )
    ui.info(('task %d rejected'):format(record.id))
  else
    async.fail(
      'nothing to refuse here: put the cursor on a proposal, a phase under review or a '
        .. 'checkpoint to verify'
    )
  end
end

--- `<CR>` on a line: open what is behind it.
---@param client vim.lsp.Client
---@param item devfactory.InitiativeItem
local function open(client, item)
  local record = item.record
  local root = vim.fs.basename(rpc.root(client) or '')
  if item.kind == 'task' then
    local runs = record.runIds or {}
    if #runs == 0 then
      async.fail(('task %d has not run yet'):format(record.id))
    end
    require('devfactory.console').open(client, runs[#runs])
  elseif item.kind == 'phase' then
    require('devfactory.phase_review').open(client, record)
  elseif item.kind == 'proposal' then
    local text =
      ('# %s\n\n%s\n\n%s'):format(record.title, record.summary or '', record.content or '')
    ui.show(('devfactory://%s/proposal/%d'):format(root, record.id), text, 'markdown')
  end
end

---@param action fun(client: vim.lsp.Client, item: devfactory.InitiativeItem)
---@param redraw boolean the action changes the initiative: draw it again at once
local function on_line(action, redraw)
  return function()
    async.run(function()
      local view, item = under_cursor()
      if not view then
        return
      end
      if not item then
        async.fail('no initiative, phase, task or proposal on this line')
      end
      local client = vim.lsp.get_client_by_id(view.client_id)
      if not client then
        async.fail('the daemon of this tree has stopped: :DevFactory initiatives again')
      end
      action(client --[[@as vim.lsp.Client]], item --[[@as devfactory.InitiativeItem]])
      if redraw then
        refresh(view)
      end
    end)
  end
end

---@param client vim.lsp.Client
---@return devfactory.InitiativesView
local function create(client)
  local buf = vim.api.nvim_create_buf(false, true)
  local root = vim.fs.basename(rpc.root(client) or '')
  ui.take_name(buf, ('devfactory://%s/initiatives'):format(root))
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = 'devfactory-initiatives'
  vim.b[buf].devfactory_client_id = client.id
  local view = { buf = buf, client_id = client.id, items = {}, generation = 0 }
  views[buf] = view
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = buf,
    callback = function()
      views[buf] = nil
    end,
  })
  local keys = {
    { 'a', on_line(accept, true), 'Accept, approve or apply what this line waits for' },
    { 'x', on_line(refuse, true), 'Dismiss, request changes or reject' },
    { '<CR>', on_line(open, false), "Open the task's run, the phase's diff or the proposal" },
    {
      'r',
      function()
        async.run(refresh, view)
      end,
      'Refresh',
    },
    { 'q', ui.close_window, 'Close' },
  }
  for _, key in ipairs(keys) do
    vim.keymap.set('n', key[1], key[2], { buffer = buf, desc = key[3] })
  end
  return view
end

--- The tree of the client's project: focused if shown, else in a new split.
---@param client vim.lsp.Client
---@return integer buf
function M.open(client)
  local view
  for _, existing in pairs(views) do
    if existing.client_id == client.id then
      view = existing
    end
  end
  view = view or create(client)
  local win = vim.fn.bufwinid(view.buf)
  if win ~= -1 then
    vim.api.nvim_set_current_win(win)
  else
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, view.buf)
  end
  refresh(view)
  return view.buf
end

--- `:DevFactory initiatives`
function M.show()
  M.open(rpc.client())
end

--- `:DevFactory plan [--mode=yolo|review] [--provider=..] [--model=..] {goal}`
---@param fargs string[]
function M.plan(fargs)
  local params, goal = {}, {}
  for _, arg in ipairs(fargs) do
    local name, value = arg:match('^%-%-(%w+)=(.*)$')
    if name == 'mode' then
      params.mode = MODES[value]
        or async.fail(('--mode=%s: use yolo or review'):format(value))
    elseif name == 'provider' or name == 'model' then
      params[name] = value
    elseif name then
      async.fail(('unknown option --%s: use --mode=, --provider= or --model='):format(name))
    else
      table.insert(goal, arg)
    end
  end
  params.goal = table.concat(goal, ' ')
  if vim.trim(params.goal) == '' then
    params.goal = ui.input({ prompt = 'DevFactory goal: ' })
    if not params.goal or vim.trim(params.goal) == '' then
      return
    end
  end
  local initiative, client = rpc.call(R.INITIATIVES_CREATE, params)
  ui.info(
    ('initiative #%d started on %s: accept its proposals in the tree'):format(
      initiative.id,
      initiative.branch
    )
  )
  M.open(client)
end

return M
