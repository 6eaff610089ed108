-- Runs from Neovim: setup(), :DevFactory run, the console (replay, then live, streamed text,
-- folded output), notifications, :DevFactory runs, pause/resume/directive/cancel/retry.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local PLAN = 'Plan:\n1. Read app.py\n2. Look around the project\n3. Finish'
local THINKING =
  'I have read app.py; now I list the files of the project to be sure nothing else greets.'

local root = h.workspace({
  ['app.py'] = "def greet():\n    return 'hi'\n",
  ['lines.txt'] = 'one\ntwo\nthree\nfour\nfive\n',
  ['scripts/command.json'] = h.script({
    { text = 'Plan: show the lines.' },
    { toolCalls = { { name = 'run_command', arguments = { command = 'cat lines.txt' } } } },
    { toolCalls = { { name = 'finish', arguments = { summary = 'Shown.' } } } },
  }),
  ['scripts/steady.json'] = h.script({
    { text = PLAN },
    { toolCalls = { { name = 'read_file', arguments = { path = 'app.py' } } } },
    {
      delayS = 1.0,
      text = THINKING,
      toolCalls = { { name = 'list_files', arguments = vim.empty_dict() } },
    },
    {
      delayS = 0.5,
      toolCalls = {
        { name = 'finish', arguments = { summary = 'Nothing to change: greet() is fine.' } },
      },
    },
  }),
  ['scripts/busy.json'] = h.script(
    vim.list_extend(
      { { text = 'Plan: look around a lot.' } },
      vim.tbl_map(function(i)
        return {
          text = 'Looking again, pass ' .. i,
          toolCalls = { { name = 'read_file', arguments = { path = 'app.py' } } },
        }
      end, vim.fn.range(1, 25))
    )
  ),
  ['scripts/long.json'] = h.script({
    { text = 'Plan: wait, then finish.' },
    { delayS = 1.5, toolCalls = { { name = 'list_files', arguments = vim.empty_dict() } } },
    { delayS = 1.5, toolCalls = { { name = 'list_files', arguments = vim.empty_dict() } } },
    { delayS = 30, toolCalls = { { name = 'finish', arguments = { summary = 'done' } } } },
  }),
})
vim.cmd.cd(root)
local notes = h.capture_notify()
require('devfactory').setup(h.options({ console = { open_on_run = false } }))
local client = h.open(root, 'app.py')
h.check('setup() attaches the daemon', client ~= nil)
if not client then
  h.finish()
end

--- The events a console shows (not the conversation's messages).
local function shown(events)
  return vim.tbl_filter(function(event)
    return not require('devfactory.format').HIDDEN[event.type]
  end, events)
end

--- Header lines of a console (one per event) and the streamed lines.
local function console_lines(buf)
  local headers, streamed = {}, {}
  for _, line in ipairs(h.lines(buf)) do
    if line:match('^%d%d:%d%d:%d%d  ') then
      table.insert(headers, line)
    elseif line:match('^  > ') then
      table.insert(streamed, line)
    end
  end
  return headers, streamed
end

local steady
h.test(':DevFactory run starts a run and the console replays, then follows it live', function()
  local events_seen = {}
  vim.api.nvim_create_autocmd('User', {
    pattern = 'DevFactoryEvent',
    callback = function(args)
      table.insert(events_seen, args.data.event)
    end,
  })
  h.cmd(
    'DevFactory run --provider=scripted --model=scripts/steady.json --mode=review Check greet()'
  )
  steady = h.wait(10000, function()
    return require('devfactory.runs').current[client.id]
  end)
  if not h.check('the run was created', steady ~= nil, notes) then
    return
  end
  h.check(
    'a message says it started',
    #h.notes_with(notes, ('run #%d started: Check greet()'):format(steady)) == 1,
    notes
  )

  -- Open the console once a few events exist, while the run is still thinking.
  h.wait(15000, function()
    return #events_seen >= 4
  end)
  local before = 0
  for _, event in ipairs(events_seen) do
    before = math.max(before, event.id)
  end
  local observed_stream = false
  local deltas = 0
  require('devfactory.events').subscribe(client.id, {
    on_stream = function(params)
      deltas = deltas + 1
      local buf = require('devfactory.console').find(client.id, steady)
      if buf and deltas >= 2 then
        local _, streamed = console_lines(buf)
        observed_stream = observed_stream
          or (streamed[1] or ''):find('I have read app.py', 1, true) ~= nil
      end
    end,
  })
  h.cmd('DevFactory console ' .. steady)
  local buf = vim.api.nvim_get_current_buf()
  h.eq(
    'the console is the current buffer',
    ('devfactory://%s/run/%d'):format(vim.fs.basename(root), steady),
    vim.api.nvim_buf_get_name(buf)
  )
  h.eq('it is a scratch buffer', 'nofile', vim.bo[buf].buftype)

  local run = h.wait_run(client, steady, h.terminal)
  h.eq('the run completed', 'completed', run and run.status)
  local replay = h.request(client, 'devfactory/events', { runId = steady, since = 0, limit = 1000 })
  h.check(
    'some events came before the console opened, some after',
    before > 0 and replay.events[#replay.events].id > before,
    { before = before, last = replay.events[#replay.events].id }
  )
  h.wait(3000, function()
    return #console_lines(buf) == #shown(replay.events)
  end)
  local headers, streamed = console_lines(buf)
  local expected = {}
  for _, event in ipairs(shown(replay.events)) do
    table.insert(expected, require('devfactory.format').event_lines(event).lines[1])
  end
  h.eq('one line per event, in order, none missing, none twice', expected, headers)
  h.check(
    'the plan is shown in full',
    vim.tbl_contains(h.lines(buf), '    1. Read app.py'),
    h.lines(buf)
  )
  h.check('streamed text showed up while the model wrote it', observed_stream, { deltas = deltas })
  h.eq('the finished message replaced the streamed text', {}, streamed)
  h.check(
    'the final message is in the console',
    vim.tbl_contains(h.lines(buf), '    ' .. THINKING),
    h.lines(buf)
  )
  h.eq(
    'header names the run and its status',
    ('DevFactory run #%d [completed] Check greet()'):format(steady),
    h.lines(buf)[1]
  )
  h.eq(
    'the summary went through vim.notify',
    1,
    #h.notes_with(notes, ('run #%d finished: Nothing to change: greet() is fine.'):format(steady))
  )
  h.eq(
    'the end is not announced twice',
    0,
    #h.notes_with(notes, ('run #%d completed'):format(steady))
  )
  h.eq('console window folds with the plugin fold expression', 'expr', vim.wo.foldmethod)
  h.eq('statusline shows nothing once the run is over', '', require('devfactory').status())
  vim.cmd('close')
end)

h.test(':DevFactory runs picks a run with vim.ui.select', function()
  local shown
  vim.ui.select = function(items, opts, on_choice)
    shown = vim.tbl_map(opts.format_item, items)
    on_choice(items[1], 1)
  end
  h.cmd('DevFactory runs')
  h.wait(5000, function()
    return shown ~= nil and vim.bo.filetype == 'devfactory-console'
  end)
  h.check(
    'the picker lists the run with its status',
    shown and shown[1]:find(('#%d [completed] Check greet()'):format(steady or -1), 1, true) == 1,
    shown
  )
  h.eq('picking opens its console', 'devfactory-console', vim.bo.filetype)
  vim.cmd('close')
end)

h.test('pause, resume, directive, cancel and retry', function()
  h.cmd('DevFactory run --provider=scripted --model=scripts/long.json Wait a while')
  local id = h.wait(10000, function()
    local current = require('devfactory.runs').current[client.id]
    return current ~= steady and current
  end)
  if not h.check('the long run was created', id, notes) then
    return
  end
  h.wait_run(client, id, function(r)
    return r.status == 'running'
  end)
  h.check(
    'statusline shows the active run',
    h.wait(3000, function()
      return require('devfactory').status() == ('DF #%d running'):format(id)
    end),
    require('devfactory').status()
  )
  h.cmd('DevFactory pause')
  local paused = h.wait_run(client, id, function(r)
    return r.status == 'paused'
  end, 15000)
  h.eq('the run paused at its next step', 'paused', paused and paused.status)
  h.cmd('DevFactory directive ' .. id .. ' please also check the README')
  h.wait(5000, function()
    return #h.notes_with(notes, ('directive sent to run #%d'):format(id)) == 1
  end)
  h.eq(
    'the directive is confirmed',
    1,
    #h.notes_with(notes, ('directive sent to run #%d'):format(id))
  )
  h.cmd('DevFactory resume ' .. id)
  local resumed = h.wait_run(client, id, function(r)
    return r.status == 'running'
  end)
  h.eq('the run resumed', 'running', resumed and resumed.status)
  h.cmd('DevFactory cancel #' .. id)
  local cancelled = h.wait_run(client, id, function(r)
    return r.status == 'cancelled'
  end)
  h.eq('the run is cancelled', 'cancelled', cancelled and cancelled.status)
  h.wait(3000, function()
    return #h.notes_with(notes, ('run #%d cancelled'):format(id)) > 0
  end)
  h.eq(
    'the cancellation is announced once',
    1,
    #h.notes_with(notes, ('run #%d cancelled'):format(id))
  )
  local replay = h.request(client, 'devfactory/events', { runId = id, since = 0, limit = 1000 })
  local directive = vim.tbl_filter(function(e)
    return e.type == 'directive_received'
  end, replay.events)
  h.eq(
    'the daemon recorded the directive',
    'please also check the README',
    directive[1] and directive[1].message
  )

  h.cmd('DevFactory retry ' .. id)
  local retry = h.wait(10000, function()
    local current = require('devfactory.runs').current[client.id]
    return current ~= id and current
  end)
  h.check('retry starts a new run', retry and retry > id, retry)
  h.check(
    'and says which',
    #h.notes_with(notes, ('run #%s retries run #%d'):format(tostring(retry), id)) == 1,
    notes
  )
  h.cmd('DevFactory cancel')
  h.eq(
    'cancel without an id acts on the current run',
    'cancelled',
    (h.wait_run(client, retry or -1, h.terminal) or {}).status
  )
end)

h.test('a console opened while events pour in shows each exactly once', function()
  require('devfactory.config').options.console.open_on_run = true
  h.cmd('DevFactory run --model=scripts/busy.json Look around')
  local id = h.wait(10000, function()
    return vim.b.devfactory_run_id
  end, notes)
  local buf = vim.api.nvim_get_current_buf()
  local run = h.wait_run(client, id or -1, h.terminal)
  h.eq('the busy run completed', 'completed', run and run.status)
  local replay = h.request(client, 'devfactory/events', { runId = id, since = 0, limit = 1000 })
  local expected = vim.tbl_map(function(event)
    return require('devfactory.format').event_lines(event).lines[1]
  end, shown(replay.events))
  h.wait(3000, function()
    return #console_lines(buf) == #expected
  end)
  h.check('dozens of events', #expected > 50, #expected)
  h.eq('every event once, in order', expected, (console_lines(buf)))
  vim.cmd('close')
  require('devfactory.config').options.console.open_on_run = false
end)

h.test('command output folds away in the console', function()
  require('devfactory.config').options.console.open_on_run = true
  h.cmd('DevFactory run --model=scripts/command.json Show the lines')
  local id = h.wait(10000, function()
    return vim.b.devfactory_run_id
  end, notes)
  h.wait_run(client, id or -1, h.terminal)
  local buf = vim.api.nvim_get_current_buf()
  local output = h.wait(5000, function()
    for lnum, text in ipairs(h.lines(buf)) do
      if text == '    five' then
        return lnum
      end
    end
  end)
  if not h.check('the command output is in the console', output, h.lines(buf)) then
    return
  end
  local header = vim.fn.foldclosed(output)
  h.check(
    'the output lines are one closed fold starting at the output event',
    header > 0 and h.lines(buf)[header]:find('  output ', 1, true) ~= nil,
    { header = header }
  )
  h.eq('the fold covers the output and nothing else', output, vim.fn.foldclosedend(output))
  h.check(
    'the command line itself stays visible',
    vim.fn.foldclosed(header - 1) == -1
      and h.lines(buf)[header - 1]:find('  command ', 1, true) ~= nil
  )
  h.eq(
    'the fold text counts the lines',
    '    ... 6 lines of command output',
    vim.fn.foldtextresult(header)
  )
  vim.cmd('close')
  require('devfactory.config').options.console.open_on_run = false
end)

h.test('a failed run is announced once, with the reason', function()
  local before = #notes
  h.cmd('DevFactory run --model=scripts/missing.json Use a missing script')
  local failed = h.wait_note(notes, 'missing.json does not exist')
  h.check(
    'the reason is shown',
    failed
      and failed.level == vim.log.levels.ERROR
      and failed.message:find('^DevFactory: run #%d+: .*scripts/missing%.json does not exist')
        ~= nil,
    vim.list_slice(notes, before + 1)
  )
  vim.wait(500)
  local errors = vim.tbl_filter(function(note)
    return note.level == vim.log.levels.ERROR
  end, vim.list_slice(notes, before + 1))
  h.eq('only once (the error, not also the failed status)', 1, #errors)
end)

h.test('a bad run option is refused with the accepted ones', function()
  local before = #notes
  h.cmd('DevFactory run --speed=fast do it')
  h.wait(2000, function()
    return #notes > before
  end)
  h.eq('one clean error', {
    message = 'DevFactory: unknown option --speed for :DevFactory run (accepted: --agent=, --provider=, --model=, --mode=)',
    level = vim.log.levels.ERROR,
  }, notes[before + 1])
end)

h.finish()
