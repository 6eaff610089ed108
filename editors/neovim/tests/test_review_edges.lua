-- Review at the edges: a file the run creates (from :DevFactory changes, and from its blank
-- buffer), a hunk appended at the end of a file, a conflict with the user's edits (resolved
-- side by side), a quickfix
-- list that follows decisions, and a code-action reject that says what it did.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n",
  ['tail.py'] = 'A = 1\n',
  ['clash.py'] = 'X = 1\n',
  ['scripts/edges.json'] = h.script({
    { text = 'Plan: create two files, append to one, edit two.' },
    h.write_turn('new.py', 'NEW = True\n'),
    h.write_turn('fresh.py', 'FRESH = 1\n'),
    h.edit_turn('tail.py', 'A = 1', 'A = 1\nB = 2'),
    h.edit_turn('clash.py', 'X = 1', 'X = 2'),
    h.edit_turn('app.py', "return 'hi'", "return 'hello'"),
    h.finish_turn('Edges.'),
  }),
})
local client, notes = h.start(root, 'app.py', { console = { open_on_run = false } })
local devfactory_diagnostics = h.devfactory_diagnostics

local function open(rel)
  vim.cmd.edit(vim.fn.fnameescape(vim.fs.joinpath(root, rel)))
  local buf = vim.api.nvim_get_current_buf()
  h.wait(10000, function()
    return #devfactory_diagnostics(buf) > 0
  end)
  return buf
end

--- The rows ("file:text") of the current quickfix list when DevFactory made it.
local function quickfix_rows()
  local list = vim.fn.getqflist({ title = 1, items = 1 })
  if list.title ~= 'DevFactory: proposed changes' then
    return nil
  end
  return vim.tbl_map(function(item)
    return vim.fs.basename(vim.api.nvim_buf_get_name(item.bufnr)) .. ':' .. item.text
  end, list.items)
end

--- `:DevFactory changes`, and the rows of the new list it makes.
local function list_changes()
  local before = vim.fn.getqflist({ id = 0 }).id
  h.cmd('DevFactory changes')
  return h.wait(10000, function()
    return vim.fn.getqflist({ id = 0 }).id ~= before and quickfix_rows()
  end, notes) or {}
end

local function row_with(rows, text)
  for i, row in ipairs(rows or {}) do
    if row:find(text, 1, true) then
      return i
    end
  end
end

--- Apply the daemon's code action titled `title` at the cursor; the titles it offered.
local function code_action(title)
  local offered
  vim.lsp.buf.code_action({
    filter = function(action)
      offered = offered or {}
      table.insert(offered, action.title)
      return action.title == title
    end,
    apply = true,
  })
  h.wait(5000, function()
    return offered
  end)
  return offered or {}
end

h.cmd('DevFactory run --model=scripts/edges.json Edges')
local run_id = h.wait(10000, function()
  return require('devfactory.runs').current[client.id]
end)
local run = run_id and h.wait_run(client, run_id, h.terminal)
h.eq('the run completed', 'completed', run and run.status)

h.test(':DevFactory changes opens a new file as what the run proposes; approve creates it', function()
  local rows = list_changes()
  local at = row_with(rows, 'create new.py')
  if not h.check('the new file is listed', at, rows) then
    return
  end
  vim.cmd('cc ' .. at)
  h.eq('its entry shows the proposed text, not an empty buffer', { 'NEW = True' }, h.lines(0))
  vim.api.nvim_feedkeys(vim.keycode('<leader>da'), 'mx', false) -- the review key, as in files
  h.check(
    'approving there creates the file',
    h.wait(10000, function()
      return h.read(vim.fs.joinpath(root, 'new.py')) == 'NEW = True\n'
    end),
    h.read(vim.fs.joinpath(root, 'new.py'))
  )
  h.check('and says so', h.wait_note(notes, 'approved hunk 1 of new.py', 5000), notes)
  vim.cmd('cclose')
end)

h.test('a new file approved from its blank buffer lands in the buffer', function()
  local buf = open('fresh.py')
  h.eq('the buffer is blank: the file does not exist yet', { '' }, h.lines(buf))
  local before = #notes
  h.cmd('DevFactory approve')
  h.check(
    'the proposal is in the buffer',
    h.wait(10000, function()
      return vim.deep_equal(h.lines(buf), { 'FRESH = 1' })
    end),
    { lines = h.lines(buf), notes = vim.list_slice(notes, before + 1) }
  )
  vim.cmd.write()
  h.eq('saving writes it', 'FRESH = 1\n', h.read(vim.fs.joinpath(root, 'fresh.py')))
end)

h.test('a hunk appended at the end of a file is approved from its sign line', function()
  local buf = open('tail.py')
  local diagnostics = devfactory_diagnostics(buf)
  h.eq(
    'its diagnostic sits on the last line, after which it appends',
    { 0 },
    vim.tbl_map(function(d)
      return d.lnum
    end, diagnostics)
  )
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local offered = code_action('DevFactory: Approve this hunk')
  h.check(
    'the approve action is offered there',
    vim.tbl_contains(offered, 'DevFactory: Approve this hunk'),
    offered
  )
  h.check(
    'the line is appended, and no blank line after it',
    h.wait(10000, function()
      return vim.deep_equal(h.lines(buf), { 'A = 1', 'B = 2' })
    end),
    h.lines(buf)
  )
end)

h.test('a conflict names its change, and :DevFactory changes lists it', function()
  local buf = open('clash.py')
  vim.api.nvim_buf_set_lines(buf, 0, 1, false, { 'X = 100' })
  local before = #notes
  h.cmd('DevFactory approve')
  local change =
    h.request(client, 'devfactory/changes/list', { path = 'clash.py' }).changes[1] or {}
  local warned = h.wait_note(notes, 'conflict', 10000)
  h.check(
    'the warning names the change and how to resolve it',
    warned and warned.message:find(('clash.py (change %d)'):format(change.id or -1), 1, true)
      and warned.message:find((':DevFactory resolve %d'):format(change.id or -1), 1, true),
    vim.list_slice(notes, before + 1)
  )
  local rows = list_changes()
  h.check('the conflicting change is listed', row_with(rows, 'clash.py [conflict]'), rows)
  vim.cmd('cclose')
end)

h.test(':DevFactory resolve shows the conflict side by side; resolved settles it', function()
  local change = h.request(client, 'devfactory/changes/list', { path = 'clash.py' }).changes[1]
    or {}
  h.cmd('DevFactory resolve')
  local proposed = h.wait(10000, function()
    return vim.b.devfactory_change and vim.api.nvim_get_current_buf()
  end)
  local wins = vim.api.nvim_tabpage_list_wins(0)
  local yours = wins[1] and vim.api.nvim_win_get_buf(wins[1])
  h.eq('your file on the left', vim.fs.joinpath(root, 'clash.py'), yours and vim.api.nvim_buf_get_name(yours))
  h.eq("the run's proposal on the right", { 'X = 2' }, proposed and h.lines(proposed))
  h.check('it says what to do', h.wait_note(notes, (':DevFactory resolved %d'):format(change.id or -1)), notes)
  -- The user takes the run's line into their file and saves it.
  vim.api.nvim_buf_set_lines(yours, 0, 1, false, { 'X = 2' })
  vim.api.nvim_buf_call(yours, function()
    vim.cmd('write')
  end)
  h.cmd('DevFactory resolved')
  h.check('a message confirms it', h.wait_note(notes, 'clash.py resolved: applied'), notes)
  local settled = h.request(client, 'devfactory/changes/list', { path = 'clash.py' }).changes[1]
  h.eq('the change is applied', 'applied', settled and settled.status)
  vim.cmd('tabclose')
end)

h.test('the quickfix list follows decisions; a code-action reject says what it did', function()
  local rows = list_changes()
  h.check('app.py is listed', row_with(rows, 'app.py'), rows)
  -- The user is on the last entry (after app.py's) when change events come.
  local qf_id = vim.fn.getqflist({ id = 0 }).id
  vim.fn.setqflist({}, 'a', { id = qf_id, idx = #rows })
  local current = rows[#rows]
  local function current_row()
    return (quickfix_rows() or {})[vim.fn.getqflist({ id = qf_id, idx = 0 }).idx]
  end
  local tick = vim.fn.getqflist({ id = qf_id, changedtick = 0 }).changedtick
  require('devfactory.changes').on_event(client.id, { type = 'change_proposed' })
  h.wait(10000, function()
    return vim.fn.getqflist({ id = qf_id, changedtick = 0 }).changedtick ~= tick
  end)
  h.eq('the list read again keeps the entry the user is on', current, current_row())
  local buf = open('app.py')
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  local before = #notes
  code_action('DevFactory: Reject this hunk')
  h.check(
    'the reject is confirmed',
    h.wait(10000, function()
      return #h.notes_with(vim.list_slice(notes, before + 1), 'rejected hunk 1 of app.py') == 1
    end),
    vim.list_slice(notes, before + 1)
  )
  h.check(
    'app.py left the quickfix list',
    h.wait(10000, function()
      local found = quickfix_rows()
      return found and not row_with(found, 'app.py')
    end),
    quickfix_rows()
  )
  h.eq('the buffer is unchanged', { 'def greet():', "    return 'hi'" }, h.lines(buf))
  h.eq('and so does a decision on another entry', current, current_row())
end)

h.finish()
