-- :DevFactory trust: the warning names it; it shows exactly what the workspace's devfactory.toml
-- sets beyond the project's own settings, asks, trusts, and the restarted daemon applies it;
-- :DevFactory trust revoke takes it back. The trust record lives in this test's config folder.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

vim.env.XDG_CONFIG_HOME = vim.fn.tempname() .. '-config' -- the daemon's trust record: not the user's
local SANDBOX_OFF = 'disabled by the commands.sandbox setting'
local root = h.workspace({
  ['notes.txt'] = 'first\n',
  ['devfactory.toml'] = '[index]\nenabled = false\n[commands]\nsandbox = false\n',
})
local client, notes = h.start(root, 'notes.txt')
local buf = vim.api.nvim_get_current_buf()

--- The sandbox's state as the daemon serving `buf` reports it (devfactory/health).
local function sandbox_reason()
  local current = vim.lsp.get_clients({ name = 'devfactory', bufnr = buf })[1]
  local answer = current and current:request_sync('devfactory/health', vim.empty_dict(), 10000, buf)
  return answer and answer.result and answer.result.sandbox.reason
end

--- Answer the next vim.ui.select with `choice`; returns what it was asked.
local function answer_with(choice)
  local asked = {}
  vim.ui.select = function(items, opts, on_choice)
    asked.items, asked.prompt = items, opts.prompt
    on_choice(choice, choice and vim.fn.index(items, choice) + 1 or nil)
  end
  return asked
end

h.test('the warning names :DevFactory trust; the daemon adds no second one', function()
  local warned = h.wait_note(notes, 'Review and trust them: :DevFactory trust')
  h.check('the plugin warns of the settings awaiting trust', warned, notes)
  h.eq('the daemon left its own warning out', {}, h.notes_with(notes, 'devfactory trust -w'))
  h.check('they do not apply yet', sandbox_reason() ~= SANDBOX_OFF)
end)

h.test('declining trusts nothing', function()
  local asked = answer_with('Cancel')
  h.cmd('DevFactory trust')
  h.check('it says so', h.wait_note(notes, 'nothing was trusted'), notes)
  h.eq('it asked Trust or Cancel', { 'Trust', 'Cancel' }, asked.items)
  local shown = vim.api.nvim_buf_get_lines(vim.fn.bufnr('devfactory://trust'), 0, -1, false)
  h.check(
    'the review shows the file and exactly what would apply',
    vim.tbl_contains(shown, '# ' .. vim.fs.joinpath(root, 'devfactory.toml'))
      and vim.tbl_contains(shown, '    "sandbox": false'),
    shown
  )
  h.check('they still do not apply', sandbox_reason() ~= SANDBOX_OFF)
end)

h.test('trusting restarts the daemon with the settings', function()
  answer_with('Trust')
  h.cmd('DevFactory trust')
  h.check('it says so', h.wait_note(notes, 'the daemon restarted with them'), notes)
  local restarted = vim.lsp.get_clients({ name = 'devfactory', bufnr = buf })[1]
  h.check('a new daemon serves the buffer', restarted and restarted.id ~= client.id, restarted)
  h.eq('the trusted settings apply', SANDBOX_OFF, sandbox_reason())
  local record = vim.fs.joinpath(vim.env.XDG_CONFIG_HOME, 'devfactory', 'trusted-workspaces.json')
  h.check('the trust is recorded in the config folder', vim.uv.fs_stat(record) ~= nil)
end)

h.test('revoke restarts the daemon without them', function()
  answer_with('Revoke')
  h.cmd('DevFactory trust revoke')
  h.check('it says so', h.wait_note(notes, 'workspace trust revoked'), notes)
  h.wait(20000, function()
    local current = vim.lsp.get_clients({ name = 'devfactory', bufnr = buf })[1]
    return current and current.initialized
  end)
  h.check('the settings no longer apply', sandbox_reason() ~= SANDBOX_OFF)
end)

h.finish()
