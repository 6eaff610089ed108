--- `:checkhealth devfactory`: Neovim, the daemon executable, and the daemon's own health
--- (`devfactory/health`: the database and the engine it names, its vector extension, sandbox,
--- whether the default provider can run, log file).
local constants = require('devfactory.constants')

local M = {}

local TIMEOUT_MS = 15000

--- The engines `databaseEngine` names: how to call them and their vector extension, and what
--- a missing extension means when it is not a problem.
local ENGINES = {
  sqlite = { name = 'SQLite', vectors = 'sqlite-vec' },
  postgresql = {
    name = 'PostgreSQL',
    vectors = 'pgvector',
    missing_ok = 'pgvector is not installed: vector distances are computed in SQL (same results)',
  },
}

---@return table? health, string? problem
local function health_from_client(client)
  return require('devfactory.rpc').request_sync(client, constants.Requests.HEALTH, nil, TIMEOUT_MS)
end

--- No daemon attached: ask the CLI (`devfactory health --json`) about the current project.
---@return table? health, string? problem
local function health_from_cli(executable, root)
  local ok, proc = pcall(vim.system, {
    executable,
    'health',
    '--json',
    '--workspace',
    root,
  }, { text = true })
  if not ok then
    return nil, tostring(proc)
  end
  local result = proc:wait(TIMEOUT_MS)
  if result.code == 124 then -- vim.system's code for a timeout
    return nil, ('`devfactory health` did not answer in %d s'):format(TIMEOUT_MS / 1000)
  end
  if result.code ~= 0 then
    local output = vim.trim((result.stderr or '') .. '\n' .. (result.stdout or ''))
    return nil,
      ('`devfactory health` exited with code %d%s'):format(
        result.code,
        output ~= '' and (': ' .. output) or ''
      )
  end
  local decoded_ok, health = pcall(vim.json.decode, result.stdout, { luanil = { object = true } })
  if not decoded_ok then
    return nil, 'unreadable output of devfactory health --json: ' .. tostring(health)
  end
  return health
end

local function check_neovim()
  local v = vim.version()
  local text = ('Neovim %d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 0 then
    vim.health.error(text .. ': DevFactory needs Neovim 0.10 or newer')
  elseif vim.fn.has('nvim-0.11') == 0 then
    vim.health.ok(text .. " (0.11 adds vim.lsp.enable('devfactory'); use setup() on 0.10)")
  else
    vim.health.ok(text)
  end
end

---@return string? executable
local function check_executable(cmd)
  if type(cmd) ~= 'table' or not cmd[1] then
    vim.health.info('cmd is a function: the executable cannot be checked')
    return nil
  end
  local executable = cmd[1]
  if vim.fn.executable(executable) == 0 then
    vim.health.error(('%q is not executable'):format(executable), {
      'Install DevFactory (:help devfactory-install)',
      "or point cmd at it: vim.lsp.config('devfactory', { cmd = { '/path/to/.venv/bin/devfactory', 'serve', '--stdio' } })",
    })
    return nil
  end
  local path = vim.fn.exepath(executable)
  local ok, proc = pcall(vim.system, { executable, '--version' }, { text = true })
  local result = ok and proc:wait(TIMEOUT_MS) or { code = -1, stdout = '', stderr = '' }
  if result.code == 0 then
    vim.health.ok(('%s: %s'):format(path, vim.trim(result.stdout)))
  else
    vim.health.warn(('%s does not answer --version: %s'):format(path, vim.trim(result.stderr)))
  end
  vim.health.info('command: ' .. table.concat(cmd, ' '))
  return executable
end

local function check_daemon(health)
  vim.health.ok(
    ('daemon %s, protocol %s, Python %s'):format(
      health.version,
      health.protocolVersion,
      health.pythonVersion
    )
  )
  if health.protocolVersion ~= constants.PROTOCOL_VERSION then
    vim.health.error(
      ('the daemon speaks protocol %s, this plugin %s'):format(
        health.protocolVersion,
        constants.PROTOCOL_VERSION
      ),
      { 'Update the plugin and the daemon from the same DevFactory checkout' }
    )
  end
  local engine = ENGINES[health.databaseEngine]
    or { name = tostring(health.databaseEngine), vectors = 'vector extension' }
  if health.databaseOk then
    vim.health.ok(
      ('database: %s (schema %d, %s %s)'):format(
        health.databasePath,
        health.schemaVersion,
        engine.name,
        health.sqliteVersion
      )
    )
  else
    vim.health.error(
      ('database %s: %s'):format(tostring(health.databasePath), health.databaseProblem or 'check failed')
    )
  end
  if type(health.sqliteVecVersion) == 'string' then
    vim.health.ok(engine.vectors .. ' ' .. health.sqliteVecVersion)
  elseif engine.missing_ok then
    vim.health.info(engine.missing_ok)
  else
    vim.health.warn(
      engine.vectors .. ' is not loaded: semantic search is off (lexical search still works)'
    )
  end
  local sandbox = health.sandbox or {}
  if sandbox.active then
    local which = table.concat(vim.tbl_filter(function(part)
      return part ~= vim.NIL and part ~= nil
    end, { sandbox.source, 'bwrap', sandbox.version }), ' ')
    vim.health.ok('command sandbox: ' .. which .. ' (' .. tostring(sandbox.tool) .. ')')
  else
    vim.health.warn('command sandbox is off: ' .. tostring(sandbox.reason))
  end
  local provider = health.provider
  if type(provider) == 'table' then
    if provider.ready then
      vim.health.ok(('provider %s: ready'):format(provider.name))
    else
      vim.health.warn(('provider %s cannot run: %s'):format(provider.name, provider.problem), {
        'Runs with this provider fail until it is fixed; pick another with :DevFactory run --provider=',
      })
    end
  end
  vim.health.info('log: ' .. tostring(health.logPath))
end

function M.check()
  vim.health.start('devfactory: Neovim')
  check_neovim()

  vim.health.start('devfactory: executable')
  local lsp_config = require('devfactory').lsp_config()
  local executable = check_executable(lsp_config.cmd)

  vim.health.start('devfactory: daemon')
  local client = require('devfactory.rpc').find()
  local health, problem
  if client then
    vim.health.info(('attached to %s'):format(require('devfactory.rpc').root(client)))
    health, problem = health_from_client(client)
  else
    local root = vim.fs.root(vim.fn.getcwd(), lsp_config.root_markers)
    if not root then
      vim.health.warn(require('devfactory.rpc').no_project(lsp_config.root_markers))
      return
    end
    if not executable then
      return
    end
    vim.health.info(('no daemon attached; asked `devfactory health` about %s'):format(root))
    health, problem = health_from_cli(executable, root)
  end
  if health then
    check_daemon(health)
  else
    vim.health.error('the daemon did not report its health: ' .. tostring(problem))
  end
end

return M
