-- Files the daemon writes on disk while Neovim has them loaded (here the plugin attaches to no
-- buffer: `enable = false`), by applying an initiative from the tree, approving a run or an
-- initiative in yolo mode applying itself: the unmodified buffer of a written file is
-- reloaded, one with unsaved changes keeps them and one warning names it with `:edit!`.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')
local constants = require('devfactory.constants')

local SCRIPT = vim.json.encode({
  conversations = {
    {
      match = ': Write the notes\n\n# Initiative',
      turns = {
        { text = '1. Write the notes' },
        h.edit_turn('README.md', '# notes', '# Notes'),
        h.edit_turn('todo.md', '- one', '- two'),
        h.finish_turn('notes written'),
      },
    },
    {
      match = ': Write the plan\n\n# Initiative',
      turns = {
        { text = '1. Write the plan' },
        h.edit_turn('plan.md', 'draft', 'final'),
        h.finish_turn('plan written'),
      },
    },
  },
})

local root = h.workspace({
  ['README.md'] = '# notes\n',
  ['todo.md'] = '- one\n',
  ['done.md'] = 'no\n',
  ['plan.md'] = 'draft\n',
  ['scripts/factory.json'] = SCRIPT,
  ['scripts/fix.json'] = h.script({
    { text = 'Plan: say yes.' },
    h.edit_turn('done.md', 'no', 'yes'),
    h.finish_turn('said yes'),
  }),
})
vim.cmd.cd(root)
local notes = h.capture_notify()
require('devfactory').setup(h.options({ enable = false, console = { open_on_run = false } }))

--- An initiative of `mode` without a planning phase: one phase, `Work`, with one task, which
--- starts at once (the factory script plays it).
---@param client vim.lsp.Client
---@param goal string
---@param mode string
---@param title string the task's
local function hand_planned(client, goal, mode, title)
  local initiative = h.request(client, constants.Requests.INITIATIVES_CREATE, {
    goal = goal,
    mode = mode,
    provider = 'scripted',
    model = 'scripts/factory.json',
    plan = false,
  })
  local phase = h.request(
    client,
    constants.Requests.PHASES_CREATE,
    { initiativeId = initiative.id, name = 'Work' }
  )
  h.request(client, constants.Requests.TASKS_CREATE, { phaseId = phase.id, title = title })
end

--- Check that `buf`, unmodified, is reloaded (on the daemon's change_applied events) to
--- hold `line`.
---@param buf integer
---@param line string
local function reloaded(buf, line)
  h.check(
    'its unmodified buffer is reloaded',
    h.wait(5000, function()
      return h.lines(buf)[1] == line
    end),
    h.lines(buf)
  )
end

vim.cmd.edit('plan.md')
local plan = vim.api.nvim_get_current_buf()
vim.cmd.edit('done.md')
local done = vim.api.nvim_get_current_buf()
vim.cmd.edit('README.md')
local readme = vim.api.nvim_get_current_buf()
vim.cmd.edit('todo.md')
local todo = vim.api.nvim_get_current_buf()
vim.api.nvim_buf_set_lines(todo, 0, -1, false, { '- one', '- mine, not saved' })

h.test('applying an initiative reloads the buffers of the files it wrote', function()
  h.cmd('DevFactory initiatives')
  local client = h.wait(20000, function()
    local found = vim.lsp.get_clients({ name = 'devfactory' })[1]
    return found and found.initialized and found
  end, notes)
  h.check('the daemon runs', client, notes)
  if not client then
    return
  end
  local tree = h.wait(10000, function()
    local found = vim.fn.bufnr('devfactory://' .. vim.fs.basename(root) .. '/initiatives')
    return found ~= -1 and found
  end, notes)
  h.check('the tree opens', tree)
  if not tree then
    return
  end
  hand_planned(client, 'Notes', constants.InitiativeMode.REVIEW_PER_PHASE, 'Write the notes')
  h.press(tree, '^  Work %[pending review%]$', 'a', notes)
  h.check('the phase is approved', h.wait_note(notes, 'DevFactory: phase Work approved'), notes)
  h.press(tree, '^#%d+ Notes %[pending review%]', 'a', notes)
  h.check('the result is applied', h.wait_note(notes, 'DevFactory: Notes applied'), notes)
  local warned = h.wait_note(notes, 'unsaved changes', 5000)

  h.eq('README.md is written on disk', '# Notes\n', h.read(vim.fs.joinpath(root, 'README.md')))
  h.eq('todo.md is written on disk', '- two\n', h.read(vim.fs.joinpath(root, 'todo.md')))
  h.eq('the unmodified buffer is reloaded', { '# Notes' }, h.lines(readme))
  h.eq(
    'the modified buffer keeps its unsaved text',
    { '- one', '- mine, not saved' },
    h.lines(todo)
  )
  h.check('and stays modified', vim.bo[todo].modified)
  h.eq(
    'one warning names it, with :edit!',
    'DevFactory: todo.md has unsaved changes, kept in the buffer: :edit! there takes the applied file',
    warned and warned.message
  )
  h.eq('only one', 1, #h.notes_with(notes, 'unsaved changes'))
end)

h.test(':DevFactory approve run reloads the buffers of the files it wrote', function()
  local client = vim.lsp.get_clients({ name = 'devfactory' })[1]
  h.cmd('DevFactory run --model=scripts/fix.json Say yes')
  local id = h.wait(10000, function()
    return client and require('devfactory.runs').current[client.id]
  end, notes)
  local run = id and h.wait_run(client, id, h.terminal)
  h.eq('the run completed', 'completed', run and run.status)
  h.cmd('DevFactory approve run')
  h.check(
    'the approval is confirmed',
    h.wait_note(notes, ('approved the changes of run #%d'):format(id or -1)),
    notes
  )
  h.eq('done.md is written on disk', 'yes\n', h.read(vim.fs.joinpath(root, 'done.md')))
  reloaded(done, 'yes')
end)

h.test('an initiative in yolo mode reloads the buffers of the files it applied itself', function()
  local client = vim.lsp.get_clients({ name = 'devfactory' })[1]
  hand_planned(client, 'Plan', constants.InitiativeMode.YOLO, 'Write the plan')
  local written = h.wait(30000, function()
    return h.read(vim.fs.joinpath(root, 'plan.md')) == 'final\n'
  end, notes)
  h.check('plan.md is written on disk, with no request of the editor', written, notes)
  reloaded(plan, 'final')
  h.eq('and stays unmodified', false, vim.bo[plan].modified)
end)

h.finish()
