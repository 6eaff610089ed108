-- Review from Neovim: proposed hunks as diagnostics, a code action approving a hunk (the
-- buffer changes, `u` restores it and the hunk is proposed again), :DevFactory reject /
-- approve file (of the current buffer, or a file named and completed) / approve run,
-- :DevFactory diff (side by side, approve from the proposed side), :DevFactory changes.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local edit = h.edit_turn

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n",
  ['other.py'] = 'VALUE = 1\n',
  ['third.py'] = 'NAME = "old"\n',
  ['fourth.py'] = 'def f():\n    return 0\n\n\n\n\n\n\ndef g():\n    return 0\n',
  ['fifth.py'] = 'COLOR = "red"\n',
  ['sixth.py'] = 'SIX = 0\n',
  ['README.md'] = '# demo\n',
  ['scripts/review.json'] = h.script({
    { text = 'Plan: edit five files.' },
    edit('app.py', "return 'hi'", "return 'hello'"),
    edit('other.py', 'VALUE = 1', 'VALUE = 2'),
    edit('third.py', 'NAME = "old"', 'NAME = "new"'),
    edit('fourth.py', 'def f():\n    return 0', 'def f():\n    return 1'),
    edit('fourth.py', 'def g():\n    return 0', 'def g():\n    return 2'),
    edit('sixth.py', 'SIX = 0', 'SIX = 6'),
    { toolCalls = { { name = 'finish', arguments = { summary = 'Edited five files.' } } } },
  }),
  ['scripts/second.json'] = h.script({
    { text = 'Plan: recolor.' },
    edit('fifth.py', 'COLOR = "red"', 'COLOR = "blue"'),
    { toolCalls = { { name = 'finish', arguments = { summary = 'Recolored.' } } } },
  }),
})
vim.cmd.cd(root)
local notes = h.capture_notify()
require('devfactory').setup(h.options({ console = { open_on_run = false } }))
local client, app = h.open(root, 'app.py')
h.check('the daemon is attached', client ~= nil)
if not client then
  h.finish()
end

local devfactory_diagnostics = h.devfactory_diagnostics

local function line(buf, n)
  return vim.api.nvim_buf_get_lines(buf, n - 1, n, false)[1]
end

local function open(rel)
  local buf = vim.fn.bufadd(vim.fs.joinpath(root, rel))
  vim.api.nvim_set_current_buf(buf)
  return buf
end

local run_id
h.test('a run proposes hunks that show as diagnostics', function()
  h.cmd('DevFactory run --model=scripts/review.json Edit five files')
  run_id = h.wait(10000, function()
    return require('devfactory.runs').current[client.id]
  end)
  local run = run_id and h.wait_run(client, run_id, h.terminal)
  h.eq('the run completed', 'completed', run and run.status)
  vim.api.nvim_set_current_buf(app)
  local diagnostics = h.wait(10000, function()
    local found = devfactory_diagnostics(app)
    return #found > 0 and found
  end) or {}
  h.eq(
    'one Hint diagnostic on the changed line of app.py',
    { { lnum = 1, severity = vim.diagnostic.severity.HINT } },
    vim.tbl_map(function(d)
      return { lnum = d.lnum, severity = d.severity }
    end, diagnostics)
  )
  h.eq(
    'app.py itself is untouched',
    "def greet():\n    return 'hi'\n",
    h.read(vim.fs.joinpath(root, 'app.py'))
  )
end)

h.test(':DevFactory approve|reject file completes the files with proposed changes', function()
  local proposed = h.request(client, 'devfactory/changes/list', { status = 'proposed' }).changes
  local paths = {}
  for _, change in ipairs(proposed) do
    paths[change.path] = true
  end
  local expected = vim.tbl_keys(paths)
  table.sort(expected)
  local function complete(line)
    return vim.fn.getcompletion(line, 'cmdline')
  end
  local offered = complete('DevFactory approve file ')
  h.eq('every file with a proposed change, by workspace-relative path', expected, offered)
  h.check(
    'the run’s five files among them',
    vim.tbl_contains(offered, 'app.py') and vim.tbl_contains(offered, 'sixth.py') and #offered >= 5,
    offered
  )
  h.eq('reject file completes the same', offered, complete('DevFactory reject file '))
  h.eq('a prefix narrows it', { 'third.py' }, complete('DevFactory approve file th'))
  h.eq('approve run completes runs', { tostring(run_id) }, complete('DevFactory approve run '))
  h.eq('approve hunk takes no argument', {}, complete('DevFactory approve hunk '))
end)

h.test('a code action approves the hunk into the buffer, and u restores it', function()
  vim.api.nvim_set_current_buf(app)
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  local titles
  vim.lsp.buf.code_action({
    filter = function(action)
      titles = titles or {}
      table.insert(titles, action.title)
      return action.title == 'DevFactory: Approve this hunk'
    end,
    apply = true,
  })
  h.wait(10000, function()
    return line(app, 2) == "    return 'hello'"
  end)
  h.check(
    'the code actions offer approve, reject, run-wide and diff',
    titles
      and vim.tbl_contains(titles, 'DevFactory: Reject this hunk')
      and vim.tbl_contains(
        titles,
        ('DevFactory: Approve all changes of run %d'):format(run_id or -1)
      ),
    titles
  )
  h.eq('the approved hunk is in the buffer', { 'def greet():', "    return 'hello'" }, h.lines(app))
  h.check('the buffer is modified, not saved behind the user', vim.bo[app].modified)
  h.check(
    'the diagnostic is gone',
    h.wait(5000, function()
      return #devfactory_diagnostics(app) == 0
    end)
  )
  vim.cmd('normal! u')
  h.eq('u restores the text', { 'def greet():', "    return 'hi'" }, h.lines(app))
end)

h.test('an approved hunk undone with u is proposed again, and can be approved again', function()
  local function app_change()
    return h.request(client, 'devfactory/changes/list', { path = 'app.py' }).changes[1] or {}
  end
  h.check(
    'the change and its hunk are proposed again',
    h.wait(10000, function()
      local change = app_change()
      return change.status == 'proposed' and change.hunks[1].status == 'proposed'
    end),
    app_change()
  )
  h.check(
    'its diagnostic is back',
    h.wait(10000, function()
      return #devfactory_diagnostics(app) == 1
    end)
  )
  vim.api.nvim_set_current_buf(app)
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  h.cmd('DevFactory approve')
  h.wait(10000, function()
    return line(app, 2) == "    return 'hello'"
  end)
  h.eq('approved again, it is in the buffer', { 'def greet():', "    return 'hello'" }, h.lines(app))
  h.check(
    'and applied',
    h.wait(10000, function()
      return app_change().status == 'applied'
    end),
    app_change()
  )
end)

h.test(':DevFactory reject discards the hunk under the cursor', function()
  local buf = open('other.py')
  h.wait(10000, function()
    return #devfactory_diagnostics(buf) > 0
  end)
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  h.cmd('DevFactory reject')
  h.check(
    'the diagnostic is gone',
    h.wait(10000, function()
      return #devfactory_diagnostics(buf) == 0
    end)
  )
  h.eq('the buffer is unchanged', { 'VALUE = 1' }, h.lines(buf))
  -- The reply to the command may come after the diagnostics were cleared.
  h.check(
    'a message confirms it',
    h.wait_note(notes, 'DevFactory: rejected hunk 1 of other.py', 5000),
    notes
  )
  local changes = h.request(client, 'devfactory/changes/list', { path = 'other.py' }).changes
  h.eq('the change is rejected', 'rejected', changes[1] and changes[1].status)
end)

h.test(':DevFactory approve file takes every hunk of the current file', function()
  local buf = open('third.py')
  h.wait(10000, function()
    return #devfactory_diagnostics(buf) > 0
  end)
  h.cmd('DevFactory approve file')
  h.wait(10000, function()
    return line(buf, 1) == 'NAME = "new"'
  end)
  h.eq('the buffer has the change', { 'NAME = "new"' }, h.lines(buf))
end)

h.test(':DevFactory approve file {path} takes every hunk of that file', function()
  h.cmd('DevFactory approve file sixth.py')
  h.check('a message confirms it', h.wait_note(notes, 'DevFactory: approved sixth.py'), notes)
  h.eq('the file is written on disk', 'SIX = 6\n', h.read(vim.fs.joinpath(root, 'sixth.py')))
  h.check(
    'and no longer offered',
    not vim.tbl_contains(vim.fn.getcompletion('DevFactory approve file ', 'cmdline'), 'sixth.py')
  )
end)

h.test(':DevFactory diff shows the change side by side; approve from the proposed side', function()
  local buf = open('fourth.py')
  h.wait(10000, function()
    return #devfactory_diagnostics(buf) == 2
  end)
  h.cmd('DevFactory diff')
  local proposed = h.wait(10000, function()
    return vim.b.devfactory_change and vim.api.nvim_get_current_buf()
  end)
  if
    not h.check('a diff tab opened on the proposed side', proposed, vim.api.nvim_buf_get_name(0))
  then
    return
  end
  local wins = vim.api.nvim_tabpage_list_wins(0)
  h.eq(
    'two windows, both in diff mode',
    { true, true },
    vim.tbl_map(function(w)
      return vim.wo[w].diff
    end, wins)
  )
  h.eq('left is the file as it is now', buf, vim.api.nvim_win_get_buf(wins[1]))
  h.eq(
    'right is what the run proposes',
    { 'def f():', '    return 1', '', '', '', '', '', '', 'def g():', '    return 2' },
    h.lines(proposed)
  )
  h.eq('right has the file type of the file', 'python', vim.bo[proposed].filetype)
  vim.api.nvim_win_set_cursor(0, { 10, 0 })
  h.cmd('DevFactory approve')
  h.wait(10000, function()
    return line(buf, 10) == '    return 2'
  end)
  h.eq(
    'only the hunk under the cursor reached the file',
    { 'def f():', '    return 0', '', '', '', '', '', '', 'def g():', '    return 2' },
    h.lines(buf)
  )
  vim.cmd('tabclose')
end)

h.test(':DevFactory changes lists the remaining proposed hunks in quickfix', function()
  -- The approve above answers once its edit is in the buffer and its outcome recorded; the
  -- list is rebuilt from change events, so wait for it to settle rather than read it once.
  local function listed()
    vim.fn.setqflist({}, 'f') -- so the wait below sees this command's list, not the last one
    h.cmd('DevFactory changes')
    local items = h.wait(5000, function()
      local list = vim.fn.getqflist({ title = 1, items = 1 })
      return list.title == 'DevFactory: proposed changes' and list.items
    end) or {}
    return vim.tbl_map(function(item)
      return vim.fs.basename(vim.api.nvim_buf_get_name(item.bufnr)) .. ':' .. item.lnum
    end, items)
  end
  local texts = listed()
  h.wait(10000, function()
    texts = listed()
    return #texts == 2
  end)
  h.eq(
    "fourth.py hunk 1 and the run's changelog entry are still proposed",
    { 'fourth.py:2', 'CHANGELOG_AI.md:1' },
    texts
  )
  h.check(
    'reviewed files are not listed',
    not vim.tbl_contains(texts, 'other.py:1') and not vim.tbl_contains(texts, 'third.py:1'),
    texts
  )
  vim.cmd('cclose')
end)

h.test('the Show diff code action opens the diff tab', function()
  local buf = open('fourth.py')
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  local tabs = #vim.api.nvim_list_tabpages()
  vim.lsp.buf.code_action({
    filter = function(action)
      return vim.startswith(action.title, 'DevFactory: Show diff')
    end,
    apply = true,
  })
  h.check(
    'a new tab with the proposed side',
    h.wait(10000, function()
      return #vim.api.nvim_list_tabpages() == tabs + 1 and vim.b.devfactory_change ~= nil
    end)
  )
  vim.cmd('tabclose')
  vim.api.nvim_set_current_buf(buf)
end)

h.test(':DevFactory approve run writes the files that are not open', function()
  h.cmd('DevFactory run --model=scripts/second.json Recolor')
  local second = h.wait(10000, function()
    local current = require('devfactory.runs').current[client.id]
    return current ~= run_id and current
  end)
  h.wait_run(client, second or -1, h.terminal)
  h.cmd('DevFactory approve run')
  h.check(
    'fifth.py is written on disk',
    h.wait(10000, function()
      return h.read(vim.fs.joinpath(root, 'fifth.py')) == 'COLOR = "blue"\n'
    end),
    h.read(vim.fs.joinpath(root, 'fifth.py'))
  )
  h.check(
    'a message confirms it',
    h.wait(5000, function()
      return #h.notes_with(notes, ('approved the changes of run #%d'):format(second or -1)) == 1
    end),
    notes
  )
end)

h.test(':DevFactory reject run discards what is left of a run', function()
  h.cmd('DevFactory reject run ' .. tostring(run_id))
  h.wait_note(notes, ('rejected the changes of run #%d'):format(run_id or -1))
  local left =
    h.request(client, 'devfactory/changes/list', { runId = run_id, status = 'proposed' }).changes
  h.eq('no proposed change is left', {}, left)
  h.eq(
    'the file keeps its text',
    'def f():\n    return 0\n\n\n\n\n\n\ndef g():\n    return 0\n',
    h.read(vim.fs.joinpath(root, 'fourth.py'))
  )
end)

h.test('no hunk under the cursor is a clear message', function()
  open('README.md')
  local before = #notes
  h.cmd('DevFactory approve')
  h.wait(5000, function()
    return #notes > before
  end)
  h.eq('one clean error', {
    message = 'DevFactory: no proposed hunk under the cursor: move onto a DevFactory diagnostic (]d), or use :DevFactory approve file|run',
    level = vim.log.levels.ERROR,
  }, notes[before + 1])
end)

h.finish()
