--- `:DevFactory changes [run]`: what waits for a decision, in the quickfix list.
---
--- One entry per proposed hunk at its place in the user's file; a file the run creates opens
--- as what the run proposes (there is no file yet to jump into); a change that conflicted with
--- the user's edits stays listed, with the command that compares them. The list follows
--- decisions: each change event of the daemon reads it again and replaces it in place,
--- wherever it sits in the quickfix stack.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local M = {}

M.TITLE = 'DevFactory: proposed changes'

local S = constants.ChangeStatus
local T = constants.EventType

--- Events after which the list is read again.
local DECIDED = {
  [T.CHANGE_PROPOSED] = true,
  [T.CHANGE_APPROVED] = true,
  [T.CHANGE_REJECTED] = true,
  [T.CHANGE_APPLIED] = true,
  [T.CHANGE_CONFLICT] = true,
  [T.CHANGE_REVERTED] = true,
}

---@class devfactory.ChangesList
---@field qf_id integer? the quickfix list's id, once made
---@field run_id integer? the run it is limited to
---@field dirty boolean a change event arrived since the items were read
---@field building boolean

---@type table<integer, devfactory.ChangesList> client id -> its list
local lists = {}

--- Quickfix items of the changes waiting for a decision (of one run, or all).
---@param client vim.lsp.Client
---@param run_id integer?
---@return table[]
local function items_of(client, run_id)
  local changes = {}
  for _, status in ipairs({ S.PROPOSED, S.CONFLICT }) do
    local list = rpc.call(
      constants.Requests.CHANGES_LIST,
      { runId = run_id, status = status },
      { client = client }
    )
    vim.list_extend(changes, list.changes)
  end
  table.sort(changes, function(a, b)
    return a.id < b.id
  end)
  local items = {}
  for _, change in ipairs(changes) do
    local filename = rpc.absolute(client, change.path)
    local hunks = change.hunks or {}
    local first = math.max(hunks[1] and hunks[1].oldStart or 1, 1)
    if change.status == S.CONFLICT then
      table.insert(items, { filename = filename, lnum = first, text = format.hunk_item(change) })
    elseif change.action == constants.ChangeAction.CREATE then
      local diff = rpc.call(
        constants.Requests.CHANGES_DIFF,
        { changeId = change.id },
        { client = client }
      )
      local buf = require('devfactory.review').proposal_buffer(client, change, diff.after or '')
      table.insert(items, { bufnr = buf, lnum = 1, text = format.hunk_item(change) })
    elseif #hunks == 0 or change.action ~= constants.ChangeAction.UPDATE then
      table.insert(items, { filename = filename, lnum = 1, text = format.hunk_item(change) })
    else
      for _, hunk in ipairs(hunks) do
        if (hunk.status or S.PROPOSED) == S.PROPOSED then
          table.insert(items, {
            filename = filename,
            lnum = math.max(hunk.oldStart or 1, 1),
            text = format.hunk_item(change, hunk),
          })
        end
      end
    end
  end
  return items
end

--- Where the user is in the list once `items` replace it: the same entry, else the one that
--- took its place (a list that jumped back to its first entry at every decision loses them).
---@param qf_id integer
---@param items table[]
---@return integer
local function position(qf_id, items)
  local list = vim.fn.getqflist({ id = qf_id, idx = 0, items = 0 })
  local current = list.items[list.idx]
  for i, item in ipairs(items) do
    if current and item.text == current.text then
      return i
    end
  end
  return math.max(1, math.min(list.idx, #items))
end

--- Read the list again and replace it in place (its window stays as it is), until no change
--- event arrived while the items were read. Inside a command coroutine.
---@param client vim.lsp.Client
---@param state devfactory.ChangesList
local function refresh(client, state)
  state.building = true
  local ok, err = pcall(function()
    while state.dirty do
      state.dirty = false
      local items = items_of(client, state.run_id)
      if vim.fn.getqflist({ id = state.qf_id }).id ~= state.qf_id then
        -- The quickfix stack moved on and dropped the list.
        if lists[client.id] == state then
          lists[client.id] = nil
        end
        return
      end
      local what = { id = state.qf_id, title = M.TITLE, items = items }
      what.idx = #items > 0 and position(state.qf_id, items) or nil
      vim.fn.setqflist({}, 'r', what)
    end
  end)
  state.building = false
  if not ok then
    error(err, 0)
  end
end

--- `:DevFactory changes [run]`
---@param fargs string[]
function M.list(fargs)
  local client = rpc.client()
  local run_id = fargs[1] and require('devfactory.runs').resolve(client, fargs[1]) or nil
  ---@type devfactory.ChangesList
  local state = { run_id = run_id, dirty = false, building = true }
  lists[client.id] = state
  local ok, items = pcall(items_of, client, run_id)
  state.building = false
  if not ok then
    lists[client.id] = nil
    error(items, 0)
  end
  vim.fn.setqflist({}, ' ', { title = M.TITLE, items = items })
  state.qf_id = vim.fn.getqflist({ id = 0 }).id
  if #items == 0 then
    ui.info('no changes wait for a decision')
  else
    vim.cmd('botright copen')
  end
  if state.dirty then -- decisions arrived while the list was read
    refresh(client, state)
  end
end

--- A live event: after a change event, the client's list is read again.
---@param client_id integer
---@param event table
function M.on_event(client_id, event)
  local state = lists[client_id]
  local client = vim.lsp.get_client_by_id(client_id)
  if not (state and client and DECIDED[event.type]) then
    return
  end
  state.dirty = true
  if state.qf_id and not state.building then
    async.run(function()
      pcall(refresh, client, state) -- quietly: the next event or :DevFactory changes retries
    end)
  end
end

return M
