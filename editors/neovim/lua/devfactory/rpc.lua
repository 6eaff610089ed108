--- Talking to the daemon: which client serves a buffer, typed `devfactory/*` calls from
--- command coroutines, and error responses worded for people.
local async = require('devfactory.async')
local constants = require('devfactory.constants')

local M = {}

M.NAME = 'devfactory'

local HAS_0_11 = vim.fn.has('nvim-0.11') == 1
local START_TIMEOUT_MS = 20000

--- `client:request` on 0.11, `client.request` on 0.10.
---@return boolean ok
function M.send(client, method, params, handler, bufnr)
  if HAS_0_11 then
    return (client:request(method, params, handler, bufnr))
  end
  return (client.request(method, params, handler, bufnr))
end

---@param client vim.lsp.Client
---@return boolean
function M.is_stopped(client)
  if HAS_0_11 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

---@param client vim.lsp.Client
---@return string?
function M.root(client)
  return client.root_dir or client.config.root_dir
end

--- The DevFactory clients matching `filter` that are not stopping (one that is shutting down
--- still answers, but without its services: the request would fail inside it).
---@param filter vim.lsp.get_clients.Filter
---@return vim.lsp.Client[]
local function running(filter)
  return vim.tbl_filter(function(client)
    return not M.is_stopped(client)
  end, vim.lsp.get_clients(vim.tbl_extend('force', filter, { name = M.NAME })))
end

--- The running DevFactory client for `bufnr` (attached to it, owning its scratch buffer, or
--- serving the folder it lives in), or nil.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.find(bufnr)
  bufnr = bufnr == nil and vim.api.nvim_get_current_buf() or bufnr
  bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  local attached = running({ bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  local owner = vim.b[bufnr].devfactory_client_id
  local owning = owner and vim.lsp.get_client_by_id(owner)
  if owning and not M.is_stopped(owning) then
    return owning
  end
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == '' or vim.bo[bufnr].buftype ~= '' then
    path = vim.fn.getcwd()
  end
  path = vim.fs.normalize(vim.fn.fnamemodify(path, ':p'))
  local clients = running({})
  local best, best_len = nil, -1
  for _, client in ipairs(clients) do
    local root = M.root(client)
    if root and (path == root or vim.startswith(path, root .. '/')) and #root > best_len then
      best, best_len = client, #root
    end
  end
  if best then
    return best
  end
  return #clients == 1 and clients[1] or nil
end

--- What to do where no folder above the current directory is a project: any folder becomes
--- one with a marker (the daemon runs a folder without git through a private repository).
---@param markers string[]
---@return string
function M.no_project(markers)
  return (
    'no project here: open a file inside a folder that has one of %s (or :cd into one), '
    .. 'then try again; an empty devfactory.toml makes any folder a project, with or without git'
  ):format(table.concat(markers, ', '))
end

--- Start a daemon for the current directory's project (commands used before any file is open).
---@return vim.lsp.Client
local function start_for_cwd()
  local config = require('devfactory').lsp_config()
  local root = vim.fs.root(vim.fn.getcwd(), config.root_markers)
  if not root then
    async.fail(M.no_project(config.root_markers))
  end
  local cmd = config.cmd
  if type(cmd) == 'table' and vim.fn.executable(cmd[1]) == 0 then
    async.fail(
      ('cannot start the daemon: %q is not executable. Install DevFactory (see :help devfactory-install) or set cmd in setup()'):format(
        cmd[1]
      )
    )
  end
  config = vim.tbl_extend('force', config, { name = M.NAME, root_dir = root })
  local id
  if HAS_0_11 then
    id = vim.lsp.start(config, { attach = false, silent = true })
  elseif vim.bo.buftype == '' and vim.api.nvim_buf_get_name(0) ~= '' then
    id = vim.lsp.start(config, { silent = true })
  end
  local client = id and vim.lsp.get_client_by_id(id)
  if not client then
    async.fail('the daemon did not start: see :checkhealth devfactory and :LspLog')
  end
  -- The project's open files (a daemon that stopped left them): served by this one, as
  -- opening them would have, so hunks approved there reach the buffers, not only the disk.
  if require('devfactory.config').options.enable then
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      local name = vim.api.nvim_buf_get_name(buf)
      if
        vim.api.nvim_buf_is_loaded(buf)
        and vim.bo[buf].buftype == ''
        and vim.startswith(vim.fs.normalize(name), root .. '/')
      then
        vim.lsp.buf_attach_client(buf, client.id)
      end
    end
  end
  return client
end

--- Poll `done` every 20 ms until it holds; fail with `late` after START_TIMEOUT_MS. Only
--- inside a command coroutine.
---@param done fun(): boolean
---@param late string
local function wait_until(done, late)
  local waited = 0
  while not done() do
    if waited >= START_TIMEOUT_MS then
      async.fail(late)
    end
    async.sleep(20)
    waited = waited + 20
  end
end

--- Wait until `client` answered initialize (it may have just been started).
---@param client vim.lsp.Client
local function wait_initialized(client)
  wait_until(function()
    if client.initialized then
      return true
    end
    if M.is_stopped(client) then
      async.fail('the daemon exited while starting: see :checkhealth devfactory and :LspLog')
    end
    return false
  end, 'the daemon did not finish starting in 20 s: see :LspLog')
end

--- The client to use for `bufnr`, started for the current directory when none runs yet.
--- Only inside a command coroutine.
---@param bufnr? integer
---@return vim.lsp.Client
function M.client(bufnr)
  local client = M.find(bufnr) or start_for_cwd()
  wait_initialized(client)
  return client
end

--- Restart `client`'s daemon on the buffers it served: stop it, wait until it exited, start
--- its config again. Only inside a command coroutine.
---@param client vim.lsp.Client
---@return vim.lsp.Client
function M.restart(client)
  local buffers = vim.tbl_keys(client.attached_buffers)
  local config = client.config
  if HAS_0_11 then
    client:stop()
  else
    client.stop()
  end
  wait_until(function()
    return M.is_stopped(client)
  end, 'the daemon did not stop in 20 s: see :LspLog')
  local id = vim.lsp.start(config, { attach = false, silent = true })
  local started = id and vim.lsp.get_client_by_id(id)
  if not started then
    async.fail('the daemon did not start again: see :checkhealth devfactory and :LspLog')
  end
  for _, bufnr in ipairs(buffers) do
    vim.lsp.buf_attach_client(bufnr, id)
  end
  wait_initialized(started)
  return started
end

--- A daemon error response in words: the daemon's own message, plus what to do for the codes
--- that need it.
---@param method string
---@param err table|string
---@return string
function M.error_message(method, err)
  if type(err) ~= 'table' then
    return tostring(err)
  end
  local code = err.code
  local message = vim.trim(tostring(err.message or 'unknown error'))
  if code == constants.ErrorCodes.METHOD_NOT_FOUND then
    return ('this daemon does not support %s yet: update devfactory (:checkhealth devfactory shows its version)'):format(
      method
    )
  end
  if code == constants.ErrorCodes.INTERNAL_ERROR then
    return ('%s failed inside the daemon: %s (details in the daemon log, see :checkhealth devfactory)'):format(
      method,
      vim.split(message, '\n', { plain = true })[1]
    )
  end
  return message
end

--- JSON-RPC needs an object even when every field is left out.
local function as_params(params)
  if params == nil or (type(params) == 'table' and next(params) == nil) then
    return vim.empty_dict()
  end
  return params
end

--- Send a request and wait for its answer, blocking the editor at most `timeout_ms`: for
--- what cannot wait in a command coroutine (completion, checkhealth).
---@param client vim.lsp.Client
---@param method string
---@param params? table
---@param timeout_ms integer
---@return any result, string? problem why there is no result
function M.request_sync(client, method, params, timeout_ms)
  local response, err
  if HAS_0_11 then
    response, err = client:request_sync(method, as_params(params), timeout_ms)
  else
    response, err = client.request_sync(method, as_params(params), timeout_ms)
  end
  if not response then
    return nil, tostring(err)
  end
  if response.err then
    return nil, M.error_message(method, response.err)
  end
  return response.result
end

---@class devfactory.CallOpts
---@field client? vim.lsp.Client
---@field bufnr? integer

--- Send a request and wait for its result (inside a command coroutine). An error response
--- stops the command with the daemon's message.
---@param method string
---@param params? table
---@param opts? devfactory.CallOpts
---@return any result, vim.lsp.Client client
function M.call(method, params, opts)
  opts = opts or {}
  local client = opts.client or M.client(opts.bufnr)
  local err, result = async.await(function(done)
    local ok = M.send(client, method, as_params(params), function(e, r)
      done(e, r)
    end, opts.bufnr)
    if not ok then
      done({ message = 'the daemon is not running (it may have exited): see :LspLog' })
    end
  end)
  if err then
    async.fail(M.error_message(method, err))
  end
  return result, client
end

--- Run one of the daemon's `workspace/executeCommand` commands and wait for it.
---@param client vim.lsp.Client
---@param command string
---@param arguments any[]
---@param bufnr? integer
---@return any
function M.execute(client, command, arguments, bufnr)
  return (
    M.call(
      'workspace/executeCommand',
      { command = command, arguments = arguments },
      { client = client, bufnr = bufnr }
    )
  )
end

--- Response handler of `workspace/executeCommand` sent by code actions (`client:exec_cmd`):
--- errors worded like the commands', and what an approve or reject did.
function M.on_execute_command_result(err, result, ctx)
  local command = ctx.params or {}
  if err then
    require('devfactory.ui').error(
      M.error_message(command.command or 'workspace/executeCommand', err)
    )
  elseif command.command then
    require('devfactory.review').on_decision_result(command, result)
  end
end

--- An absolute path for a workspace-relative one.
---@param client vim.lsp.Client
---@param path string
---@return string
function M.absolute(client, path)
  if vim.startswith(path, '/') then
    return path
  end
  return vim.fs.joinpath(M.root(client) or vim.fn.getcwd(), path)
end

--- The workspace-relative path of `bufnr`'s file, or nil when it is outside the workspace.
---@param client vim.lsp.Client
---@param bufnr integer
---@return string?
function M.relative(client, bufnr)
  local root = M.root(client)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if not root or name == '' then
    return nil
  end
  name = vim.fs.normalize(vim.fn.fnamemodify(name, ':p'))
  if vim.startswith(name, root .. '/') then
    return name:sub(#root + 2)
  end
  return nil
end

return M
