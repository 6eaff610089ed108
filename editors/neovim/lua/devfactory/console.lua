--- `:DevFactory console [run]`: a scratch buffer that follows one run.
---
--- It subscribes to live `devfactory/event` notifications first (holding them back), replays
--- `devfactory/events` from 0, then releases what was held: every event id shows exactly
--- once, in order, with no gap between replay and live. Streamed model text
--- (`devfactory/stream`) grows at the bottom until the persisted message replaces it. Command
--- output folds away. `r` on a checkpoint line rewinds the run there.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local events = require('devfactory.events')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')

local M = {}

local NS = vim.api.nvim_create_namespace('devfactory.console')
local REPLAY_PAGE = 500

---@class devfactory.Console
---@field buf integer
---@field client_id integer
---@field run_id integer
---@field seen table<integer, true> event ids already shown
---@field held table[]? live events held back while the replay runs
---@field count integer lines holding the header and events (the stream follows them)
---@field levels table<integer, integer> fold level of each event line (1-based)
---@field line_events table<integer, table> event shown on each line (1-based)
---@field stream string model text streamed since the last message
---@field stream_count integer lines the stream occupies at the end
---@field unsubscribe fun()

---@type table<integer, devfactory.Console> buffer -> console
local consoles = {}

for group, link in pairs({
  DevFactoryTime = 'Comment',
  DevFactoryInfo = 'DiagnosticInfo',
  DevFactorySuccess = 'DiagnosticOk',
  DevFactoryWarning = 'DiagnosticWarn',
  DevFactoryError = 'DiagnosticError',
  DevFactoryDebug = 'Comment',
  DevFactoryStream = 'Comment',
  DevFactoryHeader = 'Title',
  DevFactoryMarkdownHeading = '@markup.heading',
  DevFactoryMarkdownStrong = '@markup.strong',
  DevFactoryMarkdownCode = '@markup.raw',
  DevFactoryMarkdownLink = '@markup.link',
  DevFactoryMarkdownList = '@markup.list',
}) do
  vim.api.nvim_set_hl(0, group, { link = link, default = true })
end

--- Write `lines` over rows [from, to) of a console, keeping followers at the bottom.
local function write(state, from, to, lines)
  local buf = state.buf
  local following = {}
  local last = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if vim.api.nvim_win_get_cursor(win)[1] >= last then
      table.insert(following, win)
    end
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, from, to, false, lines)
  vim.bo[buf].modifiable = false
  if require('devfactory.config').options.console.follow then
    local new_last = vim.api.nvim_buf_line_count(buf)
    for _, win in ipairs(following) do
      vim.api.nvim_win_set_cursor(win, { new_last, 0 })
    end
  end
end

---@param state devfactory.Console
---@param run table?
local function set_header(state, run)
  local text = ('DevFactory run #%d'):format(state.run_id)
  if run then
    text = ('%s [%s] %s'):format(text, run.status, run.title or run.prompt or '')
  end
  write(state, 0, 1, { text })
  vim.api.nvim_buf_set_extmark(state.buf, NS, 0, 0, { line_hl_group = 'DevFactoryHeader' })
end

---@param state devfactory.Console
local function clear_stream(state)
  if state.stream_count > 0 then
    write(state, state.count, state.count + state.stream_count, {})
  end
  state.stream, state.stream_count = '', 0
end

--- Show one event (once) above the streamed text.
---@param state devfactory.Console
---@param event table
local function show(state, event)
  if state.seen[event.id] or consoles[state.buf] ~= state then
    return -- shown already, or the console was deleted (while its replay ran)
  end
  state.seen[event.id] = true
  if format.HIDDEN[event.type] then
    return
  end
  if format.ENDS_STREAM[event.type] then
    clear_stream(state)
  end
  local rendered = format.event_lines(event)
  local at = state.count
  -- Levels first: Vim evaluates the fold expression of new lines as they are written.
  for i = 1, #rendered.lines do
    state.levels[at + i] = rendered.folded and 1 or 0
    state.line_events[at + i] = event
  end
  write(state, at, at, rendered.lines)
  state.count = at + #rendered.lines
  for _, mark in ipairs(rendered.highlights) do
    vim.api.nvim_buf_set_extmark(state.buf, NS, at + mark.row, mark.col, {
      end_col = math.min(mark.end_col, #rendered.lines[mark.row + 1]),
      hl_group = mark.group,
    })
  end
end

---@param state devfactory.Console
---@param delta string
local function stream(state, delta)
  if consoles[state.buf] ~= state then
    return
  end
  state.stream = state.stream .. delta
  local lines = format.stream_lines(state.stream)
  write(state, state.count, state.count + state.stream_count, lines)
  state.stream_count = #lines
  for row = state.count, state.count + #lines - 1 do
    vim.api.nvim_buf_set_extmark(state.buf, NS, row, 0, { line_hl_group = 'DevFactoryStream' })
  end
end

---@param state devfactory.Console
---@param event table
local function on_live_event(state, event)
  if event.runId ~= state.run_id then
    return
  end
  if state.held then
    table.insert(state.held, event)
  else
    show(state, event)
  end
end

--- Replay everything persisted, then release the live events held meanwhile.
---@param state devfactory.Console
---@param client vim.lsp.Client
local function replay(state, client)
  local since = 0
  local ok, err = pcall(function()
    repeat
      local page = rpc.call(
        constants.Requests.EVENTS,
        { runId = state.run_id, since = since, limit = REPLAY_PAGE },
        { client = client }
      )
      for _, event in ipairs(page.events) do
        show(state, event)
      end
      since = page.lastId
    until not page.hasMore or consoles[state.buf] ~= state
  end)
  local held = state.held or {}
  state.held = nil
  table.sort(held, function(a, b)
    return a.id < b.id
  end)
  for _, event in ipairs(held) do
    show(state, event)
  end
  if not ok then
    error(err, 0)
  end
end

--- Fold expression of console windows: command output folds.
function M.foldexpr()
  local state = consoles[vim.api.nvim_get_current_buf()]
  return state and state.levels[vim.v.lnum] or 0
end

function M.foldtext()
  return ('    ... %d lines of command output'):format(vim.v.foldend - vim.v.foldstart + 1)
end

---@param win integer
local function style_window(win)
  local wo = vim.wo[win][0]
  wo.foldmethod = 'expr'
  wo.foldexpr = "v:lua.require'devfactory.console'.foldexpr()"
  wo.foldtext = "v:lua.require'devfactory.console'.foldtext()"
  wo.foldlevel = 0
  wo.foldenable = true
  wo.number = false
  wo.relativenumber = false
  wo.wrap = false
  wo.list = false
  wo.signcolumn = 'no'
end

--- The change a change event is about. A `change_proposed` event is recorded before its
--- change exists (its payload says change 0): find that one by run and path.
---@param client vim.lsp.Client
---@param event table
---@return integer?
local function change_of(client, event)
  local payload = event.payload
  if type(payload.changeId) == 'number' and payload.changeId > 0 then
    return payload.changeId
  end
  local list = rpc.call(
    constants.Requests.CHANGES_LIST,
    { runId = event.runId, path = payload.path },
    { client = client }
  )
  local newest
  for _, change in ipairs(list.changes) do
    if change.eventId == event.id then
      return change.id
    end
    newest = math.max(newest or 0, change.id)
  end
  return newest
end

--- `<CR>` on an event (in a command coroutine): the diff of its change, else its file at its
--- line.
---@param state devfactory.Console
local function open_under_cursor(state)
  local event = state.line_events[vim.api.nvim_win_get_cursor(0)[1]]
  local payload = event and event.payload or {}
  local client = vim.lsp.get_client_by_id(state.client_id)
  if not client or type(payload.path) ~= 'string' then
    return
  end
  if payload.changeId ~= nil then
    local change_id = change_of(client, event)
    if not change_id then
      async.fail(('the change to %s is gone'):format(payload.path))
    end
    require('devfactory.review').show_diff(client, change_id)
    return
  end
  vim.cmd('wincmd p')
  vim.cmd.edit(vim.fn.fnameescape(rpc.absolute(client, payload.path)))
  if type(payload.startLine) == 'number' then
    pcall(vim.api.nvim_win_set_cursor, 0, { payload.startLine, 0 })
  end
end

--- `r` on a checkpoint line (in a command coroutine): rewind the run to that step; on the
--- header line, to its start.
---@param state devfactory.Console
local function rewind_under_cursor(state)
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local event = state.line_events[row]
  local step
  if row == 1 then
    step = 0
  elseif event and event.type == constants.EventType.CHECKPOINT_CREATED then
    step = event.payload.step
  else
    async.fail('put the cursor on a checkpoint line (or the header, for the start) to rewind')
  end
  local client = vim.lsp.get_client_by_id(state.client_id)
  if client then
    require('devfactory.talk').rewind_to(client, state.run_id, step)
  end
end

---@param client vim.lsp.Client
---@param run_id integer
---@return devfactory.Console
local function create(client, run_id)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = 'devfactory-console'
  vim.b[buf].devfactory_client_id = client.id
  vim.b[buf].devfactory_run_id = run_id
  ---@type devfactory.Console
  local state = {
    buf = buf,
    client_id = client.id,
    run_id = run_id,
    seen = {},
    held = {},
    count = 1,
    levels = { 0 },
    line_events = {},
    stream = '',
    stream_count = 0,
    unsubscribe = function() end,
  }
  consoles[buf] = state
  state.unsubscribe = events.subscribe(client.id, {
    on_event = function(event)
      on_live_event(state, event)
    end,
    on_stream = function(params)
      if params.runId == run_id then
        stream(state, params.delta or '')
      end
    end,
  })
  local group = vim.api.nvim_create_augroup('devfactory.console.' .. buf, { clear = true })
  vim.api.nvim_create_autocmd('BufWinEnter', {
    group = group,
    buffer = buf,
    callback = function()
      style_window(vim.api.nvim_get_current_win())
    end,
  })
  vim.api.nvim_create_autocmd('User', {
    group = group,
    pattern = 'DevFactoryRunChanged',
    callback = function(args)
      local run = args.data and args.data.run
      if run and run.id == run_id and args.data.client_id == client.id then
        set_header(state, run)
      end
    end,
  })
  -- `:bdelete` unloads the buffer and its lines with it: the next open replays into a new one.
  vim.api.nvim_create_autocmd('BufUnload', {
    group = group,
    buffer = buf,
    callback = function()
      state.unsubscribe()
      consoles[buf] = nil
      pcall(vim.api.nvim_del_augroup_by_id, group)
    end,
  })
  vim.keymap.set('n', 'q', require('devfactory.ui').close_window, {
    buffer = buf,
    desc = 'Close the console',
  })
  vim.keymap.set('n', '<CR>', function()
    async.run(open_under_cursor, state)
  end, { buffer = buf, desc = 'Open the diff or file of this event' })
  vim.keymap.set('n', 'r', function()
    async.run(rewind_under_cursor, state)
  end, { buffer = buf, desc = 'Rewind the run to this checkpoint (the header: to its start)' })
  local root = vim.fs.basename(rpc.root(client) or '')
  require('devfactory.ui').take_name(buf, ('devfactory://%s/run/%d'):format(root, run_id))
  set_header(state, (events.runs[client.id] or {})[run_id])
  return state
end

--- Show `buf` in the console window of the current tab: the one showing it, else the one
--- showing another console (one console window per tab, reused by every run), else a new
--- split.
---@param buf integer
local function show_buffer(buf)
  local reuse
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local shown = vim.api.nvim_win_get_buf(win)
    if shown == buf then
      vim.api.nvim_set_current_win(win)
      return
    end
    if not reuse and consoles[shown] then
      reuse = win
    end
  end
  if reuse then
    vim.api.nvim_set_current_win(reuse)
    vim.api.nvim_win_set_buf(reuse, buf)
    return
  end
  vim.cmd(require('devfactory.config').options.console.split)
  vim.api.nvim_win_set_buf(0, buf)
  style_window(vim.api.nvim_get_current_win())
end

--- The console buffer of a run, if it is open.
---@param client_id integer
---@param run_id integer
---@return integer?
function M.find(client_id, run_id)
  for buf, state in pairs(consoles) do
    if state.client_id == client_id and state.run_id == run_id then
      return buf
    end
  end
end

--- Open (or focus) the console of `run_id` (inside a command coroutine).
---@param client vim.lsp.Client
---@param run_id integer
---@return integer buf
function M.open(client, run_id)
  local existing = M.find(client.id, run_id)
  if existing then
    show_buffer(existing)
    return existing
  end
  -- The run's record for the header, when this session has not seen it yet (a run of an
  -- earlier session); a run that does not exist stops here with the daemon's word.
  if not (events.runs[client.id] or {})[run_id] then
    events.remember(
      client.id,
      rpc.call(constants.Requests.RUNS_GET, { runId = run_id }, { client = client })
    )
  end
  local state = create(client, run_id)
  show_buffer(state.buf)
  replay(state, client)
  return state.buf
end

return M
