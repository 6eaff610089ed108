--- Live notifications from the daemon: `devfactory/event`, `devfactory/stream`,
--- `devfactory/runChanged` and `devfactory/changeProposed`.
---
--- Fans each one out to subscribers (open consoles), announces the important events through
--- `vim.notify`, keeps the latest record of each run for the statusline, and fires
--- `User DevFactory*` autocmds so users can hook in. A failing subscriber is reported and the
--- others still get the event.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local ui = require('devfactory.ui')

local M = {}

local T = constants.EventType

---@type table<integer, table<integer, table>> client id -> subscription id -> handlers
local subscribers = {}
local next_subscription = 0

---@type table<integer, table<integer, table>> client id -> run id -> latest run record
M.runs = {}

---@type table<string, {summary?: boolean, error?: boolean}> "client:run" -> what was announced
local announced = {}

---@class devfactory.Subscriber
---@field on_event? fun(event: table)
---@field on_stream? fun(params: {runId: integer, delta: string})

--- Receive live notifications of `client_id`; returns the function that unsubscribes.
---@param client_id integer
---@param handlers devfactory.Subscriber
---@return fun()
function M.subscribe(client_id, handlers)
  next_subscription = next_subscription + 1
  local id = next_subscription
  subscribers[client_id] = subscribers[client_id] or {}
  subscribers[client_id][id] = handlers
  return function()
    if subscribers[client_id] then
      subscribers[client_id][id] = nil
    end
  end
end

local function fan_out(client_id, field, value)
  for _, handlers in pairs(subscribers[client_id] or {}) do
    if handlers[field] then
      local ok, err = pcall(handlers[field], value)
      if not ok then
        async.report(err)
      end
    end
  end
end

local function fire(pattern, data)
  vim.api.nvim_exec_autocmds('User', { pattern = pattern, modeline = false, data = data })
end

--- The text an event announces: its payload's `field`, else its message, else its title.
---@param event table
---@param field string
---@return string
local function text_of(event, field)
  local payload = event.payload or {}
  local text = payload[field]
  if type(text) ~= 'string' or text == '' then
    text = (event.message ~= '' and event.message) or event.title or ''
  end
  return text
end

--- Tell the user about the events that matter without opening the console.
---@param client_id integer
---@param event table
local function announce(client_id, event)
  if not require('devfactory.config').options.notify or event.runId == nil then
    return
  end
  local key = client_id .. ':' .. tostring(event.runId)
  local seen = announced[key] or {}
  announced[key] = seen
  local run = ('run #%s'):format(tostring(event.runId))
  if event.type == T.FINAL_SUMMARY then
    seen.summary = true
    ui.info(('%s finished: %s'):format(run, text_of(event, 'summary')))
  elseif event.type == T.ERROR then
    seen.error = true
    ui.error(('%s: %s'):format(run, text_of(event, 'message')))
  elseif event.type == T.RUN_STATUS_CHANGED then
    local to = (event.payload or {}).toStatus
    local reason = (event.payload or {}).reason
    if to == constants.RunStatus.COMPLETED and not seen.summary then
      ui.info(run .. ' completed')
    elseif to == constants.RunStatus.FAILED and not seen.error then
      ui.error(run .. ' failed' .. (type(reason) == 'string' and (': ' .. reason) or ''))
    elseif to == constants.RunStatus.CANCELLED then
      ui.warn(run .. ' cancelled')
    end
  end
end

--- `devfactory/event`: an event was committed.
function M.on_event(err, params, ctx)
  if err or type(params) ~= 'table' or type(params.event) ~= 'table' then
    return
  end
  fan_out(ctx.client_id, 'on_event', params.event)
  announce(ctx.client_id, params.event)
  local changes = package.loaded['devfactory.changes'] -- only once a list was made
  if changes then
    changes.on_event(ctx.client_id, params.event)
  end
  local inline = package.loaded['devfactory.inline'] -- only once a buffer was attached
  if inline and tostring(params.event.type):find('^change_') then
    inline.refresh_all()
  end
  local payload = params.event.payload
  if params.event.type == T.CHANGE_APPLIED and type(payload) == 'table' and payload.written then
    require('devfactory.reload').on_applied(ctx.client_id, payload.path)
  end
  fire('DevFactoryEvent', { client_id = ctx.client_id, event = params.event })
end

--- `devfactory/stream`: model text as it arrives (not persisted).
function M.on_stream(err, params, ctx)
  if err or type(params) ~= 'table' then
    return
  end
  fan_out(ctx.client_id, 'on_stream', params)
end

--- `devfactory/runChanged`: a run's record changed.
function M.on_run_changed(err, params, ctx)
  if err or type(params) ~= 'table' or type(params.run) ~= 'table' then
    return
  end
  M.remember(ctx.client_id, params.run)
  fire('DevFactoryRunChanged', { client_id = ctx.client_id, run = params.run })
  vim.cmd.redrawstatus({ bang = true }) -- statuslines showing status() follow the run
end

--- `devfactory/changeProposed`: a run proposed (or updated) a change.
function M.on_change_proposed(err, params, ctx)
  if err or type(params) ~= 'table' or type(params.change) ~= 'table' then
    return
  end
  fire('DevFactoryChangeProposed', { client_id = ctx.client_id, change = params.change })
end

--- Keep the newest record of a run (from notifications or request results).
---@param client_id integer
---@param run table
function M.remember(client_id, run)
  M.runs[client_id] = M.runs[client_id] or {}
  M.runs[client_id][run.id] = run
end

--- Statusline text: the active runs of one client.
---@param client_id integer
---@return string
function M.status(client_id)
  local active = {}
  for id, run in pairs(M.runs[client_id] or {}) do
    if
      not constants.TERMINAL_RUN_STATUSES[run.status] and run.status ~= constants.RunStatus.DRAFT
    then
      table.insert(active, { id = id, status = run.status })
    end
  end
  if #active == 0 then
    return ''
  end
  if #active == 1 then
    return ('DF #%d %s'):format(active[1].id, (active[1].status:gsub('_', ' ')))
  end
  return ('DF %d runs'):format(#active)
end

return M
