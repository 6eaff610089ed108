--- Questions a run asks (`devfactory/question`), answered with `vim.ui.select` (when the run
--- offers choices) or `vim.ui.input`, through `devfactory/hitl/respond`; a plan to approve
--- goes to `devfactory.talk`.
---
--- Questions are asked one at a time, in arrival order. A dismissed question stays pending
--- in the daemon; `:DevFactory answer [run]` asks it again.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local M = {}

---@type {client_id: integer, request: table}[]
local queue = {}
local asking = false
---@type table<string, true> "client:request" ids queued or being asked
local queued = {}

---@param client vim.lsp.Client
---@param request table HitlRequest
---@return boolean answered
local function ask(client, request)
  if request.kind == 'plan' then
    return require('devfactory.talk').review_plan(client, request)
  end
  local prompt = ('Run #%d asks: %s'):format(request.runId, request.question)
  local answer
  if type(request.choices) == 'table' and #request.choices > 0 then
    answer = ui.select(request.choices, { prompt = prompt, kind = 'devfactory.question' })
  else
    answer = ui.input({ prompt = prompt .. ' ' })
  end
  if answer == nil or answer == '' then
    ui.warn(
      ('run #%d is waiting for your answer: :DevFactory answer %d'):format(
        request.runId,
        request.runId
      )
    )
    return false
  end
  rpc.call(constants.Requests.HITL_RESPOND, {
    requestId = request.id,
    action = constants.HitlAction.ANSWER,
    text = answer,
  }, { client = client })
  return true
end

--- Ask the queued questions one after the other.
local function drain()
  if asking then
    return
  end
  asking = true
  async.run(function()
    local ok, err = pcall(function()
      while #queue > 0 do
        local item = table.remove(queue, 1)
        local client = vim.lsp.get_client_by_id(item.client_id)
        if client and not rpc.is_stopped(client) then
          local asked_ok, ask_err = pcall(ask, client, item.request)
          queued[item.client_id .. ':' .. item.request.id] = nil
          if not asked_ok then
            async.report(ask_err)
          end
        end
      end
    end)
    asking = false
    if not ok then
      error(err, 0)
    end
  end)
end

---@param client_id integer
---@param request table
local function enqueue(client_id, request)
  local key = client_id .. ':' .. request.id
  if queued[key] then
    return
  end
  queued[key] = true
  table.insert(queue, { client_id = client_id, request = request })
  drain()
end

--- `devfactory/question` handler.
function M.on_question(err, params, ctx)
  if err or type(params) ~= 'table' or type(params.request) ~= 'table' then
    return
  end
  -- Leave the notification handler before prompting: pickers need the main loop.
  vim.schedule(function()
    enqueue(ctx.client_id, params.request)
  end)
end

--- `:DevFactory answer [run]`: ask the pending questions again (of one run, or all).
---@param fargs string[]
function M.answer(fargs)
  local client = rpc.client()
  local params = {}
  if fargs[1] then
    params.runId = require('devfactory.runs').resolve(client, fargs[1])
  end
  local list = rpc.call(constants.Requests.HITL_LIST, params, { client = client })
  if #list.requests == 0 then
    ui.info('no questions are waiting for an answer')
    return
  end
  for _, request in ipairs(list.requests) do
    enqueue(client.id, request)
  end
end

return M
