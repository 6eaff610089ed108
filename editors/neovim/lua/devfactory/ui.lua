--- What the user sees: `vim.notify` with one prefix, and awaitable `vim.ui.select`/`input` so
--- they work with any picker (Telescope, fzf-lua, dressing, snacks) that replaces them.
local async = require('devfactory.async')

local M = {}

local PREFIX = 'DevFactory: '

---@param message string
---@param level integer
local function notify(message, level)
  vim.notify(PREFIX .. message, level, { title = 'DevFactory' })
end

function M.info(message)
  notify(message, vim.log.levels.INFO)
end

function M.warn(message)
  notify(message, vim.log.levels.WARN)
end

function M.error(message)
  notify(message, vim.log.levels.ERROR)
end

--- `vim.ui.select` inside a command coroutine: the chosen item and its index, or nil.
---@generic T
---@param items T[]
---@param opts {prompt: string, format_item?: fun(item: T): string, kind?: string}
---@return T?, integer?
function M.select(items, opts)
  return async.await(function(done)
    vim.ui.select(items, opts, done)
  end)
end

--- `vim.ui.input` inside a command coroutine: the text, or nil when cancelled.
---@param opts {prompt: string, default?: string}
---@return string?
function M.input(opts)
  local text = async.await(function(done)
    vim.ui.input(opts, done)
  end)
  return text
end

return M
