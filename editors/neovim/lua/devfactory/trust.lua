--- The workspace's trust: `:DevFactory trust` shows what the workspace's own files set that
--- waits for the user's trust (`devfactory/workspace/trustStatus`), exactly as it would apply,
--- asks, and trusts those values (`devfactory/workspace/trust` with the digest shown: values
--- changed since are refused); `:DevFactory trust revoke` takes it back. Either restarts the
--- daemon: it reads its settings once, at initialize, and builds its services from them.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local R = constants.Requests

local M = {}

M.BUFFER = 'devfactory://trust'

--- The review: each file's path, then what of it would apply.
---@param review table a WorkspaceTrust
---@return string
function M.text(review)
  local lines = {
    ("# What %s's own files set that waits for your trust."):format(review.root),
    '# These settings run programs as you or choose where your keys go; they apply only once you',
    '# trust these exact values (a change to them needs a new trust).',
  }
  for _, source in ipairs(review.sources) do
    vim.list_extend(lines, { '', '# ' .. source.path .. (source.trusted and ' (trusted)' or '') })
    table.insert(lines, source.text)
  end
  return table.concat(lines, '\n')
end

--- The files awaiting trust, by name (`devfactory.toml and .devfactory/commands.toml`).
---@param sources table[]
---@return string
local function files(sources)
  return table.concat(
    vim.tbl_map(function(source)
      return source.source
    end, sources),
    ' and '
  )
end

--- The warning shown once the daemon runs (no request while nothing waits for trust).
---@param client vim.lsp.Client
function M.on_init(client)
  rpc.send(client, R.WORKSPACE_TRUST_STATUS, vim.empty_dict(), function(err, review)
    if err or not review then
      return
    end
    local waiting = vim.tbl_filter(function(source)
      return not source.trusted
    end, review.sources)
    if #waiting > 0 then
      ui.warn(
        ("this workspace's %s %s what runs as you or where your keys go; they are ignored until you trust them. Review and trust them: :DevFactory trust"):format(
          files(waiting),
          #waiting == 1 and 'sets' or 'set'
        )
      )
    end
  end)
end

--- `:DevFactory trust`
function M.trust()
  local review, client = rpc.call(R.WORKSPACE_TRUST_STATUS)
  if #review.sources == 0 then
    ui.info('this workspace sets nothing that needs your trust')
    return
  end
  ui.show(M.BUFFER, M.text(review), 'conf')
  local choice = ui.select({ 'Trust', 'Cancel' }, {
    prompt = ("Trust the settings of this workspace's %s shown above? They run programs as you or choose where your keys go"):format(
      files(review.sources)
    ),
    kind = 'devfactory.trust',
  })
  if choice ~= 'Trust' then
    ui.info('nothing was trusted')
    return
  end
  rpc.call(R.WORKSPACE_TRUST, { digest = review.digest }, { client = client })
  rpc.restart(client)
  ui.info(
    ("trusted this workspace's %s; the daemon restarted with them"):format(files(review.sources))
  )
end

--- `:DevFactory trust revoke`
function M.revoke()
  local choice = ui.select({ 'Revoke', 'Cancel' }, {
    prompt = "Stop applying this workspace's own settings that need trust? The daemon restarts without them",
    kind = 'devfactory.trust',
  })
  if choice ~= 'Revoke' then
    return
  end
  local _, client = rpc.call(R.WORKSPACE_REVOKE_TRUST)
  rpc.restart(client)
  ui.info('workspace trust revoked; the daemon restarted without those settings')
end

--- `:DevFactory trust [revoke]`
---@param fargs string[]
function M.run(fargs)
  if fargs[1] == nil then
    return M.trust()
  end
  if fargs[1] == 'revoke' and fargs[2] == nil then
    return M.revoke()
  end
  async.fail('usage: :DevFactory trust [revoke]')
end

return M
