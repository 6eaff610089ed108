-- Talking to runs from Neovim: :DevFactory message (a follow-up of a finished run),
-- :'<,'>DevFactory ask (the selected lines reach the model), a plan approved after an edit in
-- its Markdown buffer, and rewinding with `r` on a console checkpoint and :DevFactory rewind.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n\n\ndef part():\n    return 'bye'\n",
  ['scripts/twice.json'] = h.script({
    { text = 'Plan: answer.' },
    h.finish_turn('first answer'),
    { text = 'Following up.', quoteLast = true },
    h.finish_turn('second answer'),
  }),
  ['scripts/ask.json'] = h.script({
    { text = 'Plan: read the selection.' },
    h.finish_turn('explained'),
  }),
  ['scripts/plan.json'] = h.script({
    { toolCalls = { { name = 'propose_plan', arguments = { plan = '1. Say hello' } } } },
    h.write_turn('hello.txt', 'hello\n'),
    h.finish_turn('said hello'),
  }),
  ['scripts/steps.json'] = h.script({
    { text = 'Plan: two notes.' },
    h.write_turn('notes.txt', 'one\n'),
    h.write_turn('notes.txt', 'two\n'),
    h.finish_turn('two notes'),
  }),
})
local client, notes = h.start(root, 'app.py', { console = { open_on_run = false } })
local runs = require('devfactory.runs')

local function events_of(run_id, kind)
  local replay = h.request(client, 'devfactory/events', { runId = run_id, since = 0, limit = 1000 })
  return vim.tbl_filter(function(e)
    return e.type == kind
  end, replay.events)
end

local function start(command)
  local before = runs.current[client.id]
  h.cmd(command)
  return h.wait(10000, function()
    local id = runs.current[client.id]
    return id ~= before and id or nil
  end)
end

h.test(':DevFactory message follows up a completed run in the same conversation', function()
  local id = start('DevFactory run --model=scripts/twice.json Answer me')
  local run = h.wait_run(client, id or -1, h.terminal)
  h.eq('the first turn completed', 'completed', run and run.status)
  h.cmd(('DevFactory message %d and now the details'):format(id))
  run = h.wait_run(client, id or -1, function(r)
    return h.terminal(r) and r.metadata.iteration == 2
  end)
  h.eq('the follow-up completed as iteration 2', 'completed', run and run.status)
  local said = vim.tbl_map(function(e)
    return e.message
  end, events_of(id, 'ai_message'))
  h.check(
    'the model read the follow-up',
    vim.tbl_contains(said, 'Following up.\n> and now the details'),
    said
  )
  h.check('a message said so', #h.notes_with(notes, ('message sent to run #%d'):format(id)) == 1, notes)
end)

h.test(":'<,'>DevFactory ask attaches the selected lines", function()
  vim.cmd.edit(vim.fs.joinpath(root, 'app.py'))
  local config = require('devfactory.config').options
  local saved = config.run
  config.run = { model = 'scripts/ask.json' } -- `ask` takes its run options from setup()
  local id = start('5,6DevFactory ask what does this do?')
  config.run = saved
  local run = h.wait_run(client, id or -1, h.terminal)
  h.eq('the run completed', 'completed', run and run.status)
  local task = events_of(id, 'conversation_message_added')[1]
  h.check(
    'the selected lines reach the model with the question',
    task
      and task.payload.content:find('what does this do?', 1, true)
      and task.payload.content:find("app.py:5-6 (selected in the editor)\n```\ndef part():\n    return 'bye'\n```", 1, true),
    task and task.payload.content
  )
  local loaded = events_of(id, 'ai_context_loaded')[1]
  h.eq('the selection is listed in the console', {
    { kind = 'selection', path = 'app.py', startLine = 5, endLine = 6 },
  }, vim.tbl_map(function(a)
    return { kind = a.kind, path = a.path, startLine = a.startLine, endLine = a.endLine }
  end, loaded and loaded.payload.attachments or {}))
end)

h.test('a plan is approved as edited in its Markdown buffer, then the run acts', function()
  local shown
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'devfactory.plan' then
      local buf = vim.fn.bufnr('devfactory://plan/')
      shown = h.lines(buf)
      vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '2. And mean it' })
      vim.schedule(function()
        on_choice('Approve', 1)
      end)
    end
  end
  local id = start('DevFactory run --plan --model=scripts/plan.json Greet')
  local run = h.wait_run(client, id or -1, h.terminal)
  h.eq('the plan was shown', { '1. Say hello' }, shown)
  h.eq('the run completed', 'completed', run and run.status)
  h.eq('the edited plan is the run\'s', '1. Say hello\n2. And mean it', run and run.metadata.plan)
  h.eq(
    'it acted on it',
    'hello\n',
    h.read(vim.fs.joinpath(run and run.worktreePath or '', 'hello.txt'))
  )
end)

h.test('a plan dismissed, edited in its buffer, then approved with :DevFactory answer', function()
  local asked = 0
  vim.ui.select = function(_, opts, on_choice)
    if opts.kind == 'devfactory.plan' then
      asked = asked + 1
      vim.schedule(function()
        on_choice(asked > 1 and 'Approve' or nil, asked > 1 and 1 or nil)
      end)
    end
  end
  local id = start('DevFactory run --plan --model=scripts/plan.json Greet again')
  local waiting = h.wait_note(notes, ('run #%d is waiting for its plan'):format(id or -1))
  h.check('dismissing says how to come back', waiting, notes)
  local buf = vim.fn.bufnr('devfactory://plan/run-' .. tostring(id))
  h.check('the plan stays open to edit', buf ~= -1 and #vim.fn.win_findbuf(buf) == 1)
  if buf ~= -1 then
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, { '2. Then wave' })
  end
  h.cmd('DevFactory answer ' .. tostring(id))
  local run = h.wait_run(client, id or -1, h.terminal)
  h.eq('asked twice', 2, asked)
  h.eq('the run completed', 'completed', run and run.status)
  h.eq('on the plan as edited', '1. Say hello\n2. Then wave', run and run.metadata.plan)
  h.eq('no error', {}, h.notes_with(notes, 'error'))
  h.eq('the plan buffer is gone', -1, vim.fn.bufnr('devfactory://plan/run-' .. tostring(id)))
end)

h.test('`r` on a console checkpoint and :DevFactory rewind put the worktree back', function()
  vim.ui.select = function(items, opts, on_choice)
    vim.schedule(function()
      on_choice('Rewind', 1)
    end)
  end
  local id = start('DevFactory run --model=scripts/steps.json Two notes')
  local run = h.wait_run(client, id or -1, h.terminal)
  h.eq('the run completed', 'completed', run and run.status)
  local notes_file = vim.fs.joinpath(run and run.worktreePath or '', 'notes.txt')
  h.eq('the last step wrote two', 'two\n', h.read(notes_file))

  h.cmd('DevFactory console ' .. id)
  local buf = vim.api.nvim_get_current_buf()
  local row = h.wait(5000, function()
    for i, line in ipairs(h.lines(buf)) do
      if line:find('Checkpoint after step 1', 1, true) then
        return i
      end
    end
  end)
  h.check('the console shows the checkpoint of step 1', row ~= nil, h.lines(buf))
  vim.api.nvim_win_set_cursor(0, { row or 1, 0 })
  vim.api.nvim_feedkeys('r', 'x', false)
  h.wait(10000, function()
    return #events_of(id, 'run_rewound') == 1
  end)
  h.eq('r rewound to step 1', 'one\n', h.read(notes_file))

  h.cmd(('DevFactory rewind %d 0'):format(id))
  h.wait(10000, function()
    return #events_of(id, 'run_rewound') == 2
  end)
  h.eq(':DevFactory rewind 0 went back to the start', nil, h.read(notes_file))
end)

h.finish()
