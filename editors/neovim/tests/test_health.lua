-- :checkhealth devfactory, with the daemon attached and with none running yet (it then asks
-- `devfactory health` about the current project), and with a missing executable. It names the
-- engine the daemon reports: the workspace's SQLite file, or the PostgreSQL database named by
-- DEVFACTORY_STORAGE (tests/e2e/test_neovim_plugin.py runs this file on both).
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({ ['app.py'] = 'x = 1\n' })
vim.cmd.cd(root)
h.capture_notify()

--- Run :checkhealth devfactory and return the report's lines (then wipe the report).
local function checkhealth()
  vim.cmd('checkhealth devfactory')
  local buf = vim.api.nvim_get_current_buf()
  h.wait(20000, function()
    return vim.tbl_contains(
      h.lines(buf),
      '- ERROR Failed to run healthcheck for "devfactory" plugin. Exception:'
    ) or table.concat(h.lines(buf), '\n'):find('devfactory: daemon', 1, true)
  end)
  local lines = h.lines(buf)
  vim.cmd('bwipeout ' .. buf)
  return lines, table.concat(lines, '\n')
end

local function has(text, pattern)
  return text:find(pattern) ~= nil
end

local storage = vim.env.DEVFACTORY_STORAGE
--- The database line's pattern, and the vector extension's lines (found or not).
local database, vectors
if storage then
  database = vim.pesc(storage) .. ' %(schema %d+, PostgreSQL %d+[%d.]*'
  vectors = { '%- ✅ OK pgvector [%d.]+', 'pgvector is not installed: vector distances' }
else
  database = vim.pesc(root) .. '/%.devfactory/devfactory%.db %(schema %d+, SQLite 3%.[%d.]+%)'
  vectors = { '%- ✅ OK sqlite%-vec v?[%d.]+', 'WARNING sqlite%-vec is not loaded' }
end

h.test('before any daemon runs, checkhealth asks the CLI about the project', function()
  require('devfactory').setup(h.options({ enable = false }))
  local lines, text = checkhealth()
  h.check('Neovim version is OK', has(text, '\n%- ✅ OK Neovim 0%.1%d+%.%d+'), lines)
  h.check(
    'the executable and its version',
    has(text, '%- ✅ OK ' .. vim.pesc(h.daemon) .. ': devfactory, version [%w%.%+]+'),
    lines
  )
  h.check(
    'it says it asked the CLI',
    has(text, 'no daemon attached; asked `devfactory health` about ' .. vim.pesc(root)),
    lines
  )
  h.check('the database and its engine', has(text, '%- ✅ OK database: ' .. database), lines)
  h.check(
    'its vector extension is reported',
    has(text, vectors[1]) or has(text, vectors[2]),
    lines
  )
  h.check('the sandbox is reported', has(text, 'command sandbox'), lines)
  h.check(
    'the log path is shown',
    has(text, 'log: ' .. vim.pesc(root) .. '/%.devfactory/logs/daemon%.log'),
    lines
  )
  h.check('no errors', not has(text, 'ERROR'), lines)
end)

h.test('with the daemon attached, checkhealth asks it over LSP', function()
  require('devfactory').setup(h.options())
  local client = h.open(root, 'app.py')
  h.check('the daemon is attached', client ~= nil)
  local lines, text = checkhealth()
  h.check('it names the attached project', has(text, 'attached to ' .. vim.pesc(root)), lines)
  h.check(
    'the daemon version and protocol',
    has(text, '%- ✅ OK daemon [%w%.%+]+, protocol 1, Python 3%.'),
    lines
  )
  h.check('the database and its engine', has(text, '%- ✅ OK database: ' .. database), lines)
  h.check('no errors', not has(text, 'ERROR'), lines)
  h.cmd('DevFactory health')
  h.check(':DevFactory health opens the same report', vim.bo.filetype == 'checkhealth')
  vim.cmd('bwipeout')
end)

h.test('a missing executable is an error with the fix', function()
  require('devfactory').setup({
    cmd = { 'devfactory-not-installed', 'serve', '--stdio' },
    enable = false,
  })
  local lines, text = checkhealth()
  h.check(
    'names the executable',
    has(text, 'ERROR "devfactory%-not%-installed" is not executable'),
    lines
  )
  h.check('says how to fix it', has(text, 'ADVICE:') and has(text, 'devfactory%-install'), lines)
end)

h.finish()
