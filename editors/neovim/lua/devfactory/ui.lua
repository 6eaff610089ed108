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

--- The buffer named exactly `name`, if any (`bufnr()` would take `phase/12` for `phase/1`).
---@param name string
---@return integer?
function M.named(name)
  return vim.iter(vim.api.nvim_list_bufs()):find(function(buf)
    return vim.api.nvim_buf_get_name(buf) == name
  end)
end

--- `q` in the plugin's buffers: close the window; in the last window, where `:close` fails
--- (E444), show the buffer before instead (an empty one when there is none).
function M.close_window()
  if pcall(vim.cmd.close) then
    return
  end
  local alternate = vim.fn.bufnr('#')
  if
    alternate > 0
    and alternate ~= vim.api.nvim_get_current_buf()
    and vim.bo[alternate].buflisted
  then
    vim.cmd.buffer(alternate)
  else
    vim.cmd.enew()
  end
end

--- Name the new scratch buffer `buf` `name`, taking the name over from the buffer that still
--- holds it: one `:bdelete` unloaded, or one of a daemon that stopped. The windows showing that
--- buffer show `buf` instead, and it is wiped.
---@param buf integer
---@param name string
function M.take_name(buf, name)
  for _, other in ipairs(vim.api.nvim_list_bufs()) do
    if other ~= buf and vim.api.nvim_buf_get_name(other) == name then
      for _, win in ipairs(vim.fn.win_findbuf(other)) do
        vim.api.nvim_win_set_buf(win, buf)
      end
      vim.api.nvim_buf_delete(other, { force = true })
    end
  end
  vim.api.nvim_buf_set_name(buf, name)
end

--- Show `text` in the scratch buffer named `name` (read-only, reused by name), in the window
--- before the current one, or a new split when there is none; returns the buffer.
---@param name string
---@param text string
---@param filetype string
---@return integer buf
function M.show(name, text, filetype)
  local buf = M.named(name)
  if not buf then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, '\n', { plain = true }))
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = filetype
  local from = vim.api.nvim_get_current_win()
  vim.cmd('wincmd p')
  if vim.api.nvim_get_current_win() == from then
    vim.cmd('aboveleft split')
  end
  vim.api.nvim_win_set_buf(0, buf)
  return buf
end

return M
