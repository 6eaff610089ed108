-- :DevFactory index (progress through the standard LspProgress event, a result message) and
-- :DevFactory search filling the quickfix list.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['app/greeting.py'] = table.concat({
    'import datetime',
    '',
    '',
    'def greet_user(name):',
    '    """Say hello to a user by name."""',
    "    return f'hello {name}'",
    '',
    '',
    'def farewell_user(name):',
    "    return f'bye {name}'",
    '',
  }, '\n'),
  ['app/billing.py'] = 'def compute_invoice_total(lines):\n    return sum(line.amount for line in lines)\n',
  ['docs/guide.md'] = '# Guide\n\nInvoices are computed from their lines.\n',
})
vim.cmd.cd(root)
local notes = h.capture_notify()
require('devfactory').setup(h.options())
local client = h.open(root, 'app/greeting.py')
h.check('the daemon is attached', client ~= nil)
if not client then
  h.finish()
end

h.test(':DevFactory index rebuilds with LSP progress and reports the result', function()
  local progress = {}
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(args)
      table.insert(progress, args.data.params.value.kind)
    end,
  })
  h.cmd('DevFactory index full')
  local done = h.wait_note(notes, 'DevFactory: indexed ', 60000)
  h.check(
    'a result message names the files and chunks',
    done
      and done.message:match(
        '^DevFactory: indexed %d+ files? %(%d+ unchanged, %d+ removed, %d+ skipped%): %d+ chunks? in %d+ ms$'
      ),
    notes
  )
  h.check(
    'progress began and ended (LspProgress)',
    vim.tbl_contains(progress, 'begin') and vim.tbl_contains(progress, 'end'),
    progress
  )
end)

h.test(':DevFactory search fills the quickfix list', function()
  h.cmd('DevFactory search greet user by name')
  local list = h.wait(20000, function()
    local qf = vim.fn.getqflist({ title = 1, items = 1 })
    return qf.title == 'DevFactory search: greet user by name' and #qf.items > 0 and qf
  end, notes)
  if not h.check('the quickfix list has the results', list, notes) then
    return
  end
  local first = list.items[1]
  h.eq(
    'the best hit is greet_user in app/greeting.py',
    vim.fs.joinpath(root, 'app/greeting.py'),
    vim.api.nvim_buf_get_name(first.bufnr)
  )
  h.check('it points at the function', first.lnum >= 1 and first.lnum <= 4, first)
  h.check(
    'its text is the symbol or its code',
    first.text:find('greet_user', 1, true) ~= nil,
    first.text
  )
  h.eq(
    'the quickfix window is open',
    'quickfix',
    vim.bo[vim.fn.getqflist({ winid = 1 }).winid ~= 0 and vim.fn.winbufnr(
      vim.fn.getqflist({ winid = 1 }).winid
    ) or 0].buftype
  )
  vim.cmd('cclose')
end)

h.test('a search without hits says so', function()
  local before = #notes
  h.cmd('DevFactory search zqxjv')
  h.wait(20000, function()
    return #notes > before
  end)
  local since = vim.list_slice(notes, before + 1)
  h.check(
    'one message, saying so',
    #since == 1 and since[1].message == 'DevFactory: no results for "zqxjv"',
    since -- every message since the search, when it fails
  )
end)

h.finish()
