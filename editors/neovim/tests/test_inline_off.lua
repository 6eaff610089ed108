-- `review = { inline = false }`: nothing is drawn in the buffer, and review works as in any
-- LSP client: the daemon's diagnostics mark the proposed hunks and the approve key (a code
-- action at the cursor) applies one.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n\n\ndef add(a, b):\n    return a - b\n",
  ['scripts/two.json'] = h.script({
    { text = 'Plan: two hunks.' },
    h.edit_turn('app.py', "return 'hi'", "return 'hello'"),
    h.edit_turn('app.py', 'a - b', 'a + b'),
    h.finish_turn('Two hunks.'),
  }),
})
local client, notes = h.start(root, 'app.py', {
  console = { open_on_run = false },
  review = { inline = false },
})
local app = vim.api.nvim_get_current_buf()
local inline = require('devfactory.inline')

local function marks()
  return vim.api.nvim_buf_get_extmarks(app, inline.NS, 0, -1, {})
end

h.test('the hunks are diagnostics, and nothing is drawn', function()
  h.cmd('DevFactory run --model=scripts/two.json Two hunks')
  local run_id = h.wait(10000, function()
    return require('devfactory.runs').current[client.id]
  end)
  h.wait_run(client, run_id or -1, h.terminal)
  vim.api.nvim_set_current_buf(app)
  local found = h.wait(10000, function()
    local diagnostics = h.devfactory_diagnostics(app)
    return #diagnostics == 2 and diagnostics
  end)
  h.eq(
    'a diagnostic on each changed line',
    { 1, 5 },
    vim.tbl_map(function(d)
      return d.lnum
    end, found or {})
  )
  vim.wait(300) -- time for a drawing that should not come (inline = true draws by then)
  h.eq('no extmark in the buffer', {}, marks())
  h.eq('nothing recorded as drawn', nil, inline.drawn[app])
end)

h.test('the approve key applies the hunk under the cursor; still nothing drawn', function()
  vim.api.nvim_win_set_cursor(0, { 6, 0 })
  vim.api.nvim_feedkeys(vim.keycode('<leader>da'), 'mx', false)
  h.check(
    'the buffer has the proposal',
    h.wait(10000, function()
      return h.lines(app)[6] == '    return a + b'
    end),
    { lines = h.lines(app), notes = notes }
  )
  h.check(
    'one diagnostic left',
    h.wait(10000, function()
      return #h.devfactory_diagnostics(app) == 1
    end),
    h.devfactory_diagnostics(app)
  )
  h.eq('no extmark in the buffer', {}, marks())
end)

h.finish()
