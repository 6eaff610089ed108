-- The console as a user reads it: <CR> on a proposed change opens its diff, one console
-- window per tab page whatever the number of runs, events in words with correct plurals.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n",
  ['scripts/edit.json'] = h.script({
    { text = 'Plan:\n1. Say hello\n2. Finish' },
    { text = '## Why\nThe **greeting** lives in `greet()`.', toolCalls = {} },
    h.edit_turn('app.py', "return 'hi'", "return 'hello'"),
    h.finish_turn('Says hello.'),
  }),
  ['scripts/quick.json'] = h.script({
    { text = 'Plan: nothing to do.' },
    h.finish_turn('Nothing.'),
  }),
})
local client, notes = h.start(root, 'app.py', { console = { open_on_run = true } })
local code_win = vim.api.nvim_get_current_win()

local function console_windows()
  return vim.tbl_filter(function(win)
    return vim.bo[vim.api.nvim_win_get_buf(win)].filetype == 'devfactory-console'
  end, vim.api.nvim_tabpage_list_wins(0))
end

--- Start a run with `script` from the code window and wait until it is over; its id.
local function run(script)
  vim.api.nvim_set_current_win(code_win)
  local before = require('devfactory.runs').current[client.id]
  h.cmd(('DevFactory run --model=scripts/%s %s'):format(script, script))
  local id = h.wait(10000, function()
    local current = require('devfactory.runs').current[client.id]
    return current ~= before and current
  end, notes)
  h.wait_run(client, id or -1, h.terminal)
  return id
end

local first
h.test('<CR> on a proposed change in the console opens its diff', function()
  first = run('edit.json')
  local buf = require('devfactory.console').find(client.id, first or -1)
  local row = h.wait(10000, function()
    for i, line in ipairs(buf and h.lines(buf) or {}) do
      if line:find('Proposed update of app.py', 1, true) then
        return i
      end
    end
  end)
  if not h.check('the console shows the proposal', row, buf and h.lines(buf)) then
    return
  end
  vim.api.nvim_set_current_win(vim.fn.win_findbuf(buf)[1])
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  local tabs = #vim.api.nvim_list_tabpages()
  local ok, err = pcall(vim.cmd, 'execute "normal \\<CR>"')
  h.check('<CR> raises no error', ok, err)
  h.check(
    'a diff tab opens on the proposed side of app.py',
    h.wait(10000, function()
      local change = vim.b.devfactory_change
      return #vim.api.nvim_list_tabpages() == tabs + 1 and change and change.path == 'app.py'
    end, notes),
    { tabs = #vim.api.nvim_list_tabpages(), notes = notes }
  )
  h.eq(
    'it shows what the run proposes',
    { 'def greet():', "    return 'hello'" },
    h.lines(0)
  )
  vim.cmd('tabclose')
end)

h.test('every run shows in the one console window of the tab page', function()
  local height = vim.api.nvim_win_get_height(code_win)
  local last
  for _ = 1, 3 do
    last = run('quick.json')
  end
  local wins = console_windows()
  h.eq('one console window', 1, #wins)
  h.eq(
    'showing the last run',
    last,
    wins[1] and vim.b[vim.api.nvim_win_get_buf(wins[1])].devfactory_run_id
  )
  h.eq('the code window keeps its height', height, vim.api.nvim_win_get_height(code_win))
  h.cmd('DevFactory console ' .. tostring(first))
  h.eq('an older run opens in the same window', 1, #console_windows())
  h.eq('the window shows it', first, vim.b.devfactory_run_id)
end)

h.test('the console speaks in words, with correct plurals', function()
  local buf = require('devfactory.console').find(client.id, first or -1)
  local text = table.concat(buf and h.lines(buf) or {}, '\n')
  for _, raw in ipairs({ 'run_status_changed', 'change_proposed', 'ai_plan_created', 'final_summary' }) do
    h.check(('no raw %s'):format(raw), not text:find(raw, 1, true), text)
  end
  for _, wrong in ipairs({ '1 hunks', '1 files changed' }) do
    h.check(('no %q'):format(wrong), not text:find(wrong, 1, true), text)
  end
  h.check('one hunk is "1 hunk"', text:find('    1 hunk\n', 1, true), text)
  h.check('one file is "1 file changed"', text:find('1 file changed', 1, true), text)
  h.check('the plan reads "plan"', text:find('%d%d:%d%d:%d%d  plan  '), text)
end)

h.test("the model's words read as markdown", function()
  local buf = require('devfactory.console').find(client.id, first or -1)
  local lines = buf and h.lines(buf) or {}
  local marks = {}
  for _, mark in ipairs(buf and vim.api.nvim_buf_get_extmarks(buf, -1, 0, -1, { details = true }) or {}) do
    local group = mark[4].hl_group
    if type(group) == 'string' and group:find('^DevFactoryMarkdown') then
      local line = lines[mark[2] + 1] or ''
      table.insert(marks, { group, line:sub(mark[3] + 1, mark[4].end_col) })
    end
  end
  h.eq('heading, list, bold and code are highlighted', {
    { 'DevFactoryMarkdownList', '1. ' },
    { 'DevFactoryMarkdownList', '2. ' },
    { 'DevFactoryMarkdownHeading', '## Why' },
    { 'DevFactoryMarkdownStrong', '**greeting**' },
    { 'DevFactoryMarkdownCode', '`greet()`' },
  }, marks)
end)

h.test('completion offers each control only the runs whose status allows it', function()
  local function complete(line)
    return vim.fn.getcompletion(line, 'cmdline')
  end
  local finished = complete('DevFactory retry ')
  h.check('retry offers the finished runs', vim.tbl_contains(finished, tostring(first)), finished)
  for _, control in ipairs({ 'pause', 'resume', 'directive', 'cancel' }) do
    h.eq(('%s offers no finished run'):format(control), {}, complete('DevFactory ' .. control .. ' '))
  end
end)

--- The lines of the console of run `id` of `client_id` once it shows (after `:DevFactory console
--- {id}`) and its replay is over.
local function shown_console(id, client_id)
  return h.wait(10000, function()
    local buf = require('devfactory.console').find(client_id or client.id, id)
    local lines = buf and h.lines(buf) or {}
    return vim.api.nvim_get_current_buf() == buf
      and lines[#lines]:find('Run completed', 1, true)
      and lines
  end, notes)
end

h.test('a console comes back whole after :bdelete', function()
  h.cmd('DevFactory console ' .. tostring(first))
  local before = shown_console(first) or {}
  vim.cmd.bdelete(require('devfactory.console').find(client.id, first or -1))
  h.cmd('DevFactory console ' .. tostring(first))
  h.eq('it replays the run again', before, shown_console(first) or {})
  h.eq('no error', {}, h.notes_with(notes, 'error'))
end)

h.test('a console wiped while its replay runs is no error', function()
  local console = require('devfactory.console')
  vim.cmd.bwipeout(console.find(client.id, first or -1)) -- so the next open replays
  h.cmd('DevFactory console ' .. tostring(first))
  local buf = console.find(client.id, first or -1)
  h.eq('the replay has not finished', 1, buf and #h.lines(buf))
  vim.cmd.bwipeout(buf)
  vim.wait(1000)
  h.eq('no error', {}, h.notes_with(notes, 'error'))
end)

h.test('consoles and the initiatives tree open again after the daemon restarts', function()
  h.cmd('DevFactory console ' .. tostring(first))
  local before = shown_console(first) or {}
  h.cmd('DevFactory initiatives')
  h.wait(10000, function()
    return vim.bo.filetype == 'devfactory-initiatives'
  end, notes)
  vim.api.nvim_set_current_win(code_win)
  client:stop()
  h.wait(10000, function()
    return client:is_stopped()
  end)
  vim.cmd.edit() -- attaches a new daemon
  local restarted = h.wait(20000, function()
    local now = vim.lsp.get_clients({ name = 'devfactory', bufnr = 0 })[1]
    return now and now.initialized and now
  end)
  h.check('a new daemon is attached', restarted and restarted.id ~= client.id)
  h.cmd('DevFactory console ' .. tostring(first))
  h.eq('the console replays the run', before, shown_console(first, restarted.id) or {})
  h.eq('one console window', 1, #console_windows())
  h.cmd('DevFactory initiatives')
  h.check(
    'the tree opens',
    h.wait(10000, function()
      return vim.bo.filetype == 'devfactory-initiatives' and h.lines(0)[1] ~= ''
    end, notes)
  )
  h.eq('no error', {}, h.notes_with(notes, 'error'))
end)

h.test('q in the last window leaves the console without an error', function()
  h.cmd('DevFactory console ' .. tostring(first))
  shown_console(first, (require('devfactory').client() or client).id)
  vim.cmd.only()
  local ok, err = pcall(vim.cmd.normal, 'q')
  h.check('no E444', ok, err)
  h.check('the console is gone from the screen', #console_windows() == 0, vim.bo.filetype)
  h.cmd('DevFactory initiatives')
  h.wait(10000, function()
    return vim.bo.filetype == 'devfactory-initiatives'
  end, notes)
  vim.cmd.only()
  ok, err = pcall(vim.cmd.normal, 'q')
  h.check('nor in the initiatives tree', ok and vim.bo.filetype ~= 'devfactory-initiatives', err)
end)

h.test('the console of a run that does not exist is an error, not an empty buffer', function()
  local consoles = #console_windows()
  local note = h.first_note(notes, 'DevFactory console 999')
  h.check(
    'the daemon says so',
    note and note.level == vim.log.levels.ERROR and note.message:find('999', 1, true),
    note
  )
  h.eq('no console opens', consoles, #console_windows())
  h.check('no buffer for it', vim.fn.bufnr('devfactory://*/run/999') == -1)
end)

h.finish()
