-- Questions from a run: vim.ui.select with choices, vim.ui.input without, a dismissed question
-- answered later with :DevFactory answer, and the answers reaching the run.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local function ask(question, choices)
  return {
    toolCalls = { { name = 'ask_user', arguments = { question = question, choices = choices } } },
  }
end

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n",
  ['scripts/ask.json'] = h.script({
    { text = 'Plan: ask twice, then finish.' },
    ask('Also update the docs?', { 'yes', 'no' }),
    ask('Which greeting?'),
    { toolCalls = { { name = 'finish', arguments = { summary = 'Asked twice.' } } } },
  }),
  ['scripts/later.json'] = h.script({
    { text = 'Plan: ask, then finish.' },
    ask('Proceed?', { 'go', 'stop' }),
    { toolCalls = { { name = 'finish', arguments = { summary = 'Answered later.' } } } },
  }),
})
vim.cmd.cd(root)
local notes = h.capture_notify()
require('devfactory').setup(h.options({ console = { open_on_run = false } }))
local client = h.open(root, 'app.py')
h.check('the daemon is attached', client ~= nil)
if not client then
  h.finish()
end

local function answers(run_id)
  local replay = h.request(client, 'devfactory/events', { runId = run_id, since = 0, limit = 1000 })
  local out = {}
  for _, event in ipairs(replay.events) do
    if event.type == 'resumed' then
      table.insert(out, event.payload.text)
    end
  end
  return out
end

h.test(
  'a question with choices is answered through vim.ui.select, one without through vim.ui.input',
  function()
    local selects, inputs = {}, {}
    vim.ui.select = function(items, opts, on_choice)
      table.insert(selects, { items = items, prompt = opts.prompt })
      vim.schedule(function()
        on_choice('no', 2)
      end)
    end
    vim.ui.input = function(opts, on_confirm)
      table.insert(inputs, opts.prompt)
      on_confirm('hello there')
    end
    h.cmd('DevFactory run --model=scripts/ask.json Ask me things')
    local id = h.wait(10000, function()
      return require('devfactory.runs').current[client.id]
    end)
    local run = h.wait_run(client, id or -1, h.terminal)
    h.eq('the run completed after both answers', 'completed', run and run.status)
    h.eq('the choices were offered', {
      {
        items = { 'yes', 'no' },
        prompt = ('Run #%d asks: Also update the docs?'):format(id or -1),
      },
    }, selects)
    h.eq(
      'the open question was typed',
      { ('Run #%d asks: Which greeting? '):format(id or -1) },
      inputs
    )
    h.eq('both answers reached the run', { 'no', 'hello there' }, answers(id or -1))
  end
)

h.test('a dismissed question waits, and :DevFactory answer asks it again', function()
  local offered = 0
  vim.ui.select = function(_, _, on_choice)
    offered = offered + 1
    on_choice(nil, nil)
  end
  h.cmd('DevFactory run --model=scripts/later.json Ask later')
  local id = h.wait(10000, function()
    local current = require('devfactory.runs').current[client.id]
    return current ~= 1 and current
  end)
  local waiting = h.wait_run(client, id or -1, function(r)
    return r.status == 'waiting_for_user'
  end)
  h.eq('the run waits for the user', 'waiting_for_user', waiting and waiting.status)
  h.check(
    'the user is told how to answer later',
    h.wait(5000, function()
      return #h.notes_with(
        notes,
        ('run #%d is waiting for your answer: :DevFactory answer %d'):format(id, id)
      ) == 1
    end),
    notes
  )
  h.eq(
    'the statusline shows it waiting',
    ('DF #%d waiting for user'):format(id or -1),
    require('devfactory').status()
  )

  vim.ui.select = function(items, _, on_choice)
    offered = offered + 1
    on_choice(items[1], 1)
  end
  h.cmd('DevFactory answer ' .. id)
  local run = h.wait_run(client, id or -1, h.terminal)
  h.eq('answering later lets the run finish', 'completed', run and run.status)
  h.eq('asked twice in all', 2, offered)
  h.eq('the answer reached the run', { 'go' }, answers(id or -1))
  local before = #notes
  h.cmd('DevFactory answer')
  h.wait(5000, function()
    return #notes > before
  end)
  h.eq(
    'nothing left to answer',
    'DevFactory: no questions are waiting for an answer',
    (notes[before + 1] or {}).message
  )
end)

h.finish()
