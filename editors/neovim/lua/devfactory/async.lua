--- Coroutines for the plugin's commands, so a command reads top to bottom
--- (`local run = rpc.call(...)`) while Neovim never blocks.
---
--- Every command body runs through `run()`: an error raised with `fail()` becomes one clean
--- `vim.notify` line; anything else is a bug, reported in one line with its traceback kept in
--- the LSP log, never as a Lua stack trace in the user's face.
local M = {}

local UserError = {}
UserError.__index = UserError
UserError.__tostring = function(e)
  return e.message
end

--- Stop the current command with a message meant for the user (never returns).
---@param message string
---@return any
function M.fail(message)
  error(setmetatable({ message = message }, UserError), 0)
end

---@param err any
---@return boolean
function M.is_user_error(err)
  return getmetatable(err) == UserError
end

--- Show an error once: user errors as they are, bugs in one line (traceback in the LSP log).
---@param err any
---@param co? thread
function M.report(err, co)
  if M.is_user_error(err) then
    require('devfactory.ui').error(err.message)
    return
  end
  local trace = co and debug.traceback(co, tostring(err)) or debug.traceback(tostring(err), 2)
  pcall(vim.lsp.log.error, 'devfactory plugin error', trace)
  local first = vim.split(tostring(err), '\n', { plain = true })[1]
  require('devfactory.ui').error(
    ('internal error: %s (details in %s; please report it)'):format(
      first,
      vim.lsp.log.get_filename()
    )
  )
end

---@param co thread
local function step(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    M.report(err, co)
  end
end

--- Run `fn(...)` as a command body in a new coroutine.
---@param fn function
function M.run(fn, ...)
  step(coroutine.create(fn), ...)
end

--- Wrap `fn` so each call runs through `run()` (for handlers and callbacks).
---@param fn function
---@return function
function M.wrap(fn)
  return function(...)
    M.run(fn, ...)
  end
end

--- Call `start(done)` and wait (inside a coroutine) until it calls `done(...)`; returns those
--- values. Works whether `done` is called later or right away (stubbed vim.ui in tests).
---@param start fun(done: function)
---@return any ...
function M.await(start)
  local co = coroutine.running()
  assert(co, 'devfactory.async.await must run inside devfactory.async.run')
  local finished, values, waiting = false, nil, false
  start(function(...)
    if finished then
      return
    end
    finished, values = true, vim.F.pack_len(...)
    if waiting then
      vim.schedule(function()
        step(co, vim.F.unpack_len(values))
      end)
    end
  end)
  if finished then
    return vim.F.unpack_len(values)
  end
  waiting = true
  return coroutine.yield()
end

--- Wait `ms` milliseconds without blocking Neovim.
---@param ms integer
function M.sleep(ms)
  M.await(function(done)
    vim.defer_fn(done, ms)
  end)
end

return M
