-- :DevFactory plan and :DevFactory initiatives against the real daemon (scripted agents): the
-- tree shows the initiative, its phases, tasks with their runs and the proposals; from the
-- tree the user dismisses and accepts proposals, opens a phase's diff and comments on a line,
-- approves the phase and applies the result, and the tree follows the daemon as it works.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local function call(name, arguments)
  return { name = name, arguments = arguments }
end

local function agent(match, ...)
  local turns = { { text = '1. ' .. match } }
  for _, tool_call in ipairs({ ... }) do
    table.insert(turns, { toolCalls = { tool_call } })
  end
  return { match = match, turns = turns }
end

local SPEC = {
  core_idea = 'Notes kept in a file',
  requirements = { 'a notes file' },
  user_stories = { 'As a user I read NOTES.md' },
  high_level_features = { 'notes' },
}
local PLAN = {
  architecture = 'one file',
  tech_stack = { 'markdown' },
  task_breakdown = {
    { key = 'notes', title = 'Write the notes', phase = 'Write', agent = 'documentation' },
    { key = 'polish', title = 'Polish the notes', phase = 'Write', agent = 'documentation' },
  },
}
local SCRIPT = vim.json.encode({
  conversations = {
    agent(
      'Specify: Notes',
      call('submit_handoff', { schema = 'software_specification', content = SPEC }),
      call('finish', { summary = 'Specified the notes' })
    ),
    agent(
      'Plan: Notes',
      call('submit_handoff', { schema = 'implementation_plan', content = PLAN }),
      call('finish', { summary = 'Planned one phase' })
    ),
    agent(
      ': Write the notes\n\n# Initiative',
      call('write_file', { path = 'NOTES.md', content = '# Notes\n' }),
      call('finish', { summary = 'NOTES.md written' })
    ),
  },
})

local root = h.workspace({ ['README.md'] = '# notes\n', ['scripts/factory.json'] = SCRIPT })
local client, notes = h.start(root, 'README.md', { settings = { maxConcurrentRuns = 2 } })

local function wait_line(buf, pattern, ms)
  return h.wait_line(buf, pattern, notes, ms)
end

local function press(buf, pattern, key)
  return h.press(buf, pattern, key, notes)
end

h.test('an initiative from :DevFactory plan to its applied result, from the tree', function()
  h.cmd('DevFactory plan --model=scripts/factory.json Notes')
  local started = h.wait_note(notes, 'DevFactory: initiative #')
  h.check(
    'the initiative is announced with its branch',
    started and started.message:find('^DevFactory: initiative #%d+ started on df/notes'),
    notes
  )
  local buf = vim.fn.bufnr('devfactory://' .. vim.fs.basename(root) .. '/initiatives')
  h.check('the tree opens', buf ~= -1)
  h.eq('in its own filetype', 'devfactory-initiatives', vim.bo[buf].filetype)

  local page = wait_line(buf, '^  %? proposal %d+: create page ')
  h.check('the specification arrives as a proposal', page, h.lines(buf))
  wait_line(buf, 'create task Polish the notes$')
  h.check(
    'the plan arrives as proposals, after the Planning phase',
    wait_line(buf, '^  Planning %[completed%]$'),
    h.lines(buf)
  )

  press(buf, 'create page ', 'x')
  h.check('dismissing says so', h.wait_note(notes, ' dismissed'), notes)
  press(buf, 'create task Polish the notes$', 'x')
  press(buf, 'create phase Write$', 'a')
  h.check('accepting a proposal says so', h.wait_note(notes, 'accepted: Write'), notes)
  press(buf, 'create task Write the notes$', 'a')

  h.check(
    'the accepted task runs and the tree shows its run',
    wait_line(buf, '^    ● %d+%. Write the notes %[completed%] documentation · run #%d+$'),
    h.lines(buf)
  )
  h.check('no proposal waits any more', not wait_line(buf, 'proposal', 1), h.lines(buf))
  h.check(
    'the phase waits for review',
    wait_line(buf, '^  Write %[pending review%]$'),
    h.lines(buf)
  )

  press(buf, '^  Write %[pending review%]$', '<CR>')
  local diff = h.wait(10000, function()
    local shown = vim.api.nvim_get_current_buf()
    return vim.api.nvim_buf_get_name(shown):find('/phase/%d+$') and shown
  end, notes)
  h.check('<CR> on the phase shows its combined diff', diff)
  if diff then
    h.eq('as a diff', 'diff', vim.bo[diff].filetype)
    h.check(
      'with the task’s new file',
      vim.tbl_contains(h.lines(diff), '+# Notes'),
      h.lines(diff)
    )
    local added = vim.fn.index(h.lines(diff), '+# Notes') + 1
    vim.api.nvim_win_set_cursor(vim.fn.bufwinid(diff), { added, 0 })
    vim.ui.input = function(_, on_confirm)
      on_confirm('Say what the notes are for')
    end
    vim.api.nvim_feedkeys('c', 'mx', false)
    h.check(
      'c comments on the line under the cursor',
      h.wait_note(notes, 'DevFactory: comment on NOTES.md:1 saved'),
      notes
    )
    local phase_id = tonumber(vim.api.nvim_buf_get_name(diff):match('/phase/(%d+)$'))
    local saved = h.request(client, 'devfactory/phases/comments', { phaseId = phase_id })
    h.eq(
      'the daemon has the comment on the new side of NOTES.md',
      { { 'NOTES.md', 1, 'new', 'Say what the notes are for' } },
      vim.tbl_map(function(c)
        return { c.path, c.line, c.side, c.body }
      end, saved.comments)
    )
  end

  press(buf, '^  Write %[pending review%]$', 'a')
  h.check('the phase is approved', h.wait_note(notes, 'DevFactory: phase Write approved'), notes)
  local pending = '^#%d+ Notes %[pending review%] review_per_phase · df/notes$'
  h.check(
    'the initiative waits for its result to be applied',
    wait_line(buf, pending),
    h.lines(buf)
  )

  press(buf, pending, 'a')
  local applied = h.wait_note(notes, 'DevFactory: Notes applied')
  h.check(
    'applying names the snapshot that undoes it',
    applied and applied.message:find('undo with :DevFactory restore %d+$'),
    notes
  )
  h.eq('the result is in the workspace', '# Notes\n', h.read(vim.fs.joinpath(root, 'NOTES.md')))
  h.check(
    'the tree shows the initiative completed',
    wait_line(buf, '^#%d+ Notes %[completed%]'),
    h.lines(buf)
  )
end)

h.test('keys on a line with nothing to do say so', function()
  local buf = vim.fn.bufnr('devfactory://' .. vim.fs.basename(root) .. '/initiatives')
  local before = #notes
  press(buf, '^  Planning %[completed%]$', 'a')
  h.wait(5000, function()
    return #notes > before
  end)
  h.check(
    'a clean error',
    (notes[before + 1] or {}).message:find('^DevFactory: nothing to accept here'),
    notes[before + 1]
  )
end)

h.test('phase 1 and phase 12 open in buffers of their own', function()
  local ui = require('devfactory.ui')
  local twelve = ui.show('devfactory://ws/phase/12', 'twelve', 'diff')
  local one = ui.show('devfactory://ws/phase/1', 'one', 'diff')
  h.check('two buffers', one ~= twelve)
  h.eq('named after phase 1', 'devfactory://ws/phase/1', vim.api.nvim_buf_get_name(one))
  h.eq('phase 12 keeps its diff', { 'twelve' }, h.lines(twelve))
  h.eq('phase 1 shows its own', { 'one' }, h.lines(one))
end)

h.test("a phase diff's lines map to the file lines they show", function()
  local diff = table.concat({
    'diff --git a/a.py b/a.py',
    '--- a/a.py',
    '+++ b/a.py',
    '@@ -1,3 +1,3 @@',
    ' one',
    '-two',
    '+TWO',
    ' three',
    '@@ -10 +10,2 @@',
    '+ten',
  }, '\n')
  local lines, places = require('devfactory.phase_review').lines({ { path = 'a.py', diff = diff } })
  h.eq('every line shown', 10, #lines)
  h.eq('headers nowhere, context and added lines on the new side, removed on the old', {
    [5] = { path = 'a.py', line = 1, side = 'new' },
    [6] = { path = 'a.py', line = 2, side = 'old' },
    [7] = { path = 'a.py', line = 2, side = 'new' },
    [8] = { path = 'a.py', line = 3, side = 'new' },
    [10] = { path = 'a.py', line = 10, side = 'new' },
  }, places)
end)

h.test(':DevFactory plan refuses an unknown mode by name', function()
  local note = h.first_note(notes, 'DevFactory plan --mode=fast Notes')
  h.eq('the error', 'DevFactory: --mode=fast: use yolo or review', note and note.message)
end)

h.check('the daemon stayed attached', client and not client:is_stopped())
h.finish()
