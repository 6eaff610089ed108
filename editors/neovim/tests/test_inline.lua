-- Review where you look: proposed hunks drawn in the buffer (replaced lines highlighted, the
-- proposal as virtual lines, an insertion above the line it goes before), the review keymaps
-- (next / previous hunk, preview float, approve), one of them moved by setup().
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n\n\ndef add(a, b):\n    return a - b\n",
  ['scripts/inline.json'] = h.script({
    { text = 'Plan: three hunks.' },
    h.edit_turn('app.py', "return 'hi'", "return 'hello'"),
    h.edit_turn('app.py', '\n\ndef add', '\n\n# adds\ndef add'),
    h.edit_turn('app.py', 'a - b', 'a + b'),
    h.finish_turn('Three hunks.'),
  }),
})
local client, notes = h.start(root, 'app.py', {
  console = { open_on_run = false },
  review = { keymaps = { preview = 'gp' } },
})
local app = vim.api.nvim_get_current_buf()
local inline = require('devfactory.inline')

--- What is drawn: {row, kind, text} per extmark, in row order.
local function drawn()
  local rows = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(app, inline.NS, 0, -1, { details = true })) do
    local row, details = mark[2], mark[4]
    if details.line_hl_group then
      table.insert(rows, { row, 'removed' })
    end
    for _, line in ipairs(details.virt_lines or {}) do
      table.insert(rows, { row, details.virt_lines_above and 'above' or 'below', line[1][1] })
    end
  end
  local order = { removed = 1, above = 2, below = 3 }
  table.sort(rows, function(a, b)
    return a[1] < b[1] or (a[1] == b[1] and order[a[2]] < order[b[2]])
  end)
  return rows
end

local function cursor_line()
  return vim.api.nvim_win_get_cursor(0)[1]
end

local function press(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), 'mx', false)
end

h.test('the proposed hunks are drawn in the buffer', function()
  h.cmd('DevFactory run --model=scripts/inline.json Three hunks')
  local run_id = h.wait(10000, function()
    return require('devfactory.runs').current[client.id]
  end)
  h.wait_run(client, run_id or -1, h.terminal)
  vim.api.nvim_set_current_buf(app)
  local expected = {
    { 1, 'removed' },
    { 1, 'below', "    return 'hello'" },
    { 4, 'above', '# adds' },
    { 5, 'removed' },
    { 5, 'below', '    return a + b' },
  }
  h.wait(10000, function()
    return vim.deep_equal(drawn(), expected)
  end)
  h.eq(
    'replaced lines highlighted, the proposal under them, the insertion above',
    expected,
    drawn()
  )
end)

h.test('keymaps: ]h and [h move between hunks; setup() moved preview to gp', function()
  h.check(']h is mapped', vim.fn.maparg(']h', 'n') ~= '')
  h.check('gp previews', vim.fn.maparg('gp', 'n') ~= '')
  h.eq('the default preview key is not mapped', '', vim.fn.maparg('<leader>dp', 'n'))
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  press(']h')
  h.eq(']h goes to the first hunk', 2, cursor_line())
  press(']h')
  h.eq('then to the insertion', 5, cursor_line())
  press('[h')
  h.eq('[h comes back', 2, cursor_line())
end)

h.test('gp previews the hunk under the cursor in a float', function()
  local win = vim.api.nvim_get_current_win()
  local float = inline.preview()
  h.eq('the float shows the hunk as a diff', {
    'run #1 proposes (hunk 1):',
    "-    return 'hi'",
    "+    return 'hello'",
  }, float and h.lines(float))
  h.eq('in diff colours', 'diff', float and vim.bo[float].syntax)
  vim.api.nvim_set_current_win(win)
end)

h.test('<leader>da approves the hunk under the cursor; its drawing goes', function()
  pcall(vim.api.nvim_win_close, vim.fn.win_getid(vim.fn.winnr('$')), true)
  vim.api.nvim_set_current_buf(app)
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  press('<leader>da')
  h.check(
    'the buffer has the proposal',
    h.wait(10000, function()
      return h.lines(app)[2] == "    return 'hello'"
    end),
    { lines = h.lines(app), notes = notes }
  )
  h.check(
    'only the other two hunks are drawn',
    h.wait(10000, function()
      return #(inline.drawn[app] or {}) == 2 and drawn()[1][3] == '# adds'
    end),
    drawn()
  )
end)

h.finish()
