--- Buffers of files the daemon rewrote on disk behind the editor's back (a snapshot restore,
--- an applied initiative): each unmodified one is reloaded; one with unsaved changes keeps
--- them (never silently overwritten) and one message names it with the `:edit!` that takes
--- the file from disk.
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local M = {}

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

return M
