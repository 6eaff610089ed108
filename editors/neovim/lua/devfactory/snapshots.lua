--- Snapshots of the working state: `:DevFactory snapshot [description]`,
--- `:DevFactory snapshots` (pick one to restore) and `:DevFactory restore {id}` over
--- `devfactory/snapshots/*`. A restore is itself undoable: the daemon takes a safety snapshot
--- first, and the message says how to go back.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local R = constants.Requests

local M = {}

---@param snapshot table
---@return string
function M.describe(snapshot)
  local run = snapshot.runId and (' run #' .. snapshot.runId) or ''
  local description = snapshot.description ~= '' and (' ' .. snapshot.description) or ''
  return ('#%d %s%s%s (%s, %s)'):format(
    snapshot.id,
    snapshot.type,
    run,
    description,
    format.count(snapshot.filesChanged or 0, 'file'),
    snapshot.createdAt or '?'
  )
end

--- `:DevFactory snapshot [description]`
---@param fargs string[]
function M.create(fargs)
  local snapshot = rpc.call(R.SNAPSHOTS_CREATE, { description = table.concat(fargs, ' ') })
  ui.info(('snapshot %s taken'):format(M.describe(snapshot)))
end

---@param client vim.lsp.Client
---@param snapshot_id integer
local function restore(client, snapshot_id)
  local result = rpc.call(R.SNAPSHOTS_RESTORE, { snapshotId = snapshot_id }, { client = client })
  ui.info(
    ('restored snapshot #%d (%s); undo with :DevFactory restore %d'):format(
      result.restored.id,
      format.count(#result.files, 'file'),
      result.safety.id
    )
  )
  require('devfactory.reload').written(client, result.files, 'the restored file')
end

--- `:DevFactory restore {id}`
---@param fargs string[]
function M.restore(fargs)
  local id = tonumber(fargs[1] or '')
  if not id then
    async.fail('restore needs a snapshot id (see :DevFactory snapshots)')
  end
  restore(rpc.client(), id --[[@as integer]])
end

--- `:DevFactory snapshots`: pick a snapshot of the workspace (newest first) to restore. A run's
--- worktree snapshots hold unreviewed files, which reach the workspace through review only.
function M.pick()
  local list, client = rpc.call(R.SNAPSHOTS_LIST, { limit = 50 })
  local snapshots = vim.tbl_filter(function(snapshot)
    return snapshot.origin == constants.SnapshotOrigin.WORKSPACE
  end, list.snapshots)
  if #snapshots == 0 then
    ui.info('no snapshots yet: :DevFactory snapshot takes one')
    return
  end
  local snapshot = ui.select(snapshots, {
    prompt = 'Restore which snapshot?',
    format_item = M.describe,
    kind = 'devfactory.snapshot',
  })
  if snapshot then
    restore(client, snapshot.id)
  end
end

return M
