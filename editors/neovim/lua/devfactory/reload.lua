--- Buffers of files the daemon rewrote on disk behind the editor's back (a snapshot restore,
--- an applied change or initiative): each unmodified one is reloaded; one with unsaved changes
--- keeps them (never silently overwritten) and one message names it with the `:edit!` that
--- takes the file from disk.
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local M = {}

--- How long a burst of `change_applied` events (one per file of an approve) may last: the
--- files are reloaded together once it is over, so one warning names every kept buffer.
local BURST_MS = 50

---@type table<integer, {paths: string[], timer: uv.uv_timer_t}> client id -> files written
local pending = {}

--- Reload the loaded buffers of `paths` (workspace-relative, as the daemon names them) that
--- have no unsaved changes (`:checktime`), and name those that do in one warning.
---@param client vim.lsp.Client
---@param paths string[]
---@param what string what `:edit!` takes: 'the restored file', 'the applied file'
---@return string[] kept the paths whose buffers kept unsaved changes
function M.written(client, paths, what)
  local kept = {}
  for _, path in ipairs(paths) do
    local buf = ui.named(rpc.absolute(client, path))
    if buf and vim.api.nvim_buf_is_loaded(buf) then
      if vim.bo[buf].modified then
        table.insert(kept, path)
      else
        vim.cmd(('silent! checktime %d'):format(buf))
      end
    end
  end
  if #kept > 0 then
    ui.warn(
      ('%s %s unsaved changes, kept in the buffer: :edit! there takes %s'):format(
        table.concat(kept, ', '),
        #kept == 1 and 'has' or 'have',
        what
      )
    )
  end
  return kept
end

--- A `change_applied` event of a file the daemon wrote on disk: whoever asked for it (an
--- approve, an initiative applied from the tree or by itself in yolo mode, another editor),
--- the buffer is reloaded with the rest of the burst.
---@param client_id integer
---@param path string
function M.on_applied(client_id, path)
  local burst = pending[client_id]
  if not burst then
    burst = { paths = {}, timer = assert(vim.uv.new_timer()) }
    pending[client_id] = burst
  end
  table.insert(burst.paths, path)
  burst.timer:stop()
  burst.timer:start(
    BURST_MS,
    0,
    vim.schedule_wrap(function()
      pending[client_id] = nil
      burst.timer:close()
      local client = vim.lsp.get_client_by_id(client_id)
      if client then
        M.written(client, burst.paths, 'the applied file')
      end
    end)
  )
end

return M
