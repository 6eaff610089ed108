-- Errors are shown once, as `DevFactory: {message}`, never as a Lua stack trace: daemon error
-- responses (not found, invalid params, a handler that crashed), a daemon that cannot start,
-- no project, bad subcommands, and a bug inside the plugin.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({ ['app.py'] = 'x = 1\n' })
local notes = h.capture_notify()

--- Run `command` and return the notifications it caused, once the first one arrived.
local function shown_by(command)
  local before = #notes
  vim.v.errmsg = ''
  h.cmd(command)
  h.wait(15000, function()
    return #notes > before
  end)
  vim.wait(200) -- a second message, if any, would arrive by now
  return vim.list_slice(notes, before + 1), vim.v.errmsg
end

--- Exactly one ERROR notification equal to `expected`, and no Vim error.
local function shown_once(name, command, expected)
  local shown, errmsg = shown_by(command)
  h.eq(name, { { message = expected, level = vim.log.levels.ERROR } }, shown)
  h.eq(name .. ': no Vim error', '', errmsg)
  return shown
end

h.test('bad subcommands', function()
  local names = table.concat(require('devfactory.commands').names(), ', ')
  shown_once(
    'an unknown subcommand lists the known ones',
    'DevFactory frobnicate',
    'DevFactory: unknown subcommand "frobnicate"; use one of: '
      .. names
      .. ' (see :help devfactory-commands)'
  )
  shown_once(
    'no subcommand',
    'DevFactory',
    'DevFactory: which subcommand?; use one of: ' .. names .. ' (see :help devfactory-commands)'
  )
end)

h.test('no project in the current directory', function()
  local elsewhere = vim.fn.tempname()
  vim.fn.mkdir(elsewhere, 'p')
  vim.cmd.cd(elsewhere)
  require('devfactory').setup(h.options())
  shown_once(
    'says what to do',
    'DevFactory runs',
    'DevFactory: no project here: open a file inside a folder that has one of devfactory.toml, .devfactory, .git (or :cd into one), then try again; an empty devfactory.toml makes any folder a project, with or without git'
  )
  vim.fn.delete(elsewhere, 'rf')
end)

h.test('a daemon that cannot start', function()
  vim.cmd.cd(root)
  require('devfactory').setup({ cmd = { 'devfactory-not-installed', 'serve', '--stdio' } })
  shown_once(
    'names the executable and the fix',
    'DevFactory runs',
    'DevFactory: cannot start the daemon: "devfactory-not-installed" is not executable. Install DevFactory (see :help devfactory-install) or set cmd in setup()'
  )
end)

h.test('daemon error responses', function()
  vim.cmd.cd(root)
  vim.env.DEVFACTORY_INJECT_FAULT = 'devfactory/runs/get'
  require('devfactory').setup(h.options())
  local client = h.open(root, 'app.py')
  vim.env.DEVFACTORY_INJECT_FAULT = nil
  if not h.check('the daemon is attached', client ~= nil) then
    return
  end
  shown_once(
    "not found: the daemon's own words",
    'DevFactory cancel 4242',
    'DevFactory: run 4242 does not exist'
  )
  local shown = shown_by('DevFactory run --model=none.json --mode=fast do it')
  h.eq('invalid params: one error', 1, #shown)
  h.check(
    'invalid params: names the field',
    shown[1]
      and shown[1].level == vim.log.levels.ERROR
      and shown[1].message:find('^DevFactory: invalid params for devfactory/runs/create: .*mode')
        ~= nil,
    shown
  )
  shown = shown_by('DevFactory console 1')
  h.eq('a crashed handler: one error', 1, #shown)
  h.check(
    'a crashed handler: says which request failed and where to look',
    shown[1]
      and shown[1].level == vim.log.levels.ERROR
      and shown[1].message:find(
          '^DevFactory: devfactory/runs/get failed inside the daemon: .*fault injected into devfactory/runs/get.*%(details in the daemon log, see :checkhealth devfactory%)$'
        )
        ~= nil,
    shown
  )
  local before = #notes
  client:exec_cmd({ title = 'Approve', command = 'devfactory.approve', arguments = { 424242 } })
  h.wait(10000, function()
    return #notes > before
  end)
  h.eq(
    "a code-action command error: the daemon's words, once",
    { { message = 'DevFactory: change 424242 does not exist', level = vim.log.levels.ERROR } },
    vim.list_slice(notes, before + 1)
  )
  for _, note in ipairs(notes) do
    h.check(
      'no stack trace in: ' .. note.message:sub(1, 40),
      not note.message:find('traceback') and not note.message:find('E5108'),
      note.message
    )
  end
end)

h.test('a bug in the plugin is one line, with the trace in the LSP log', function()
  local before = #notes
  require('devfactory.async').run(function()
    error('boom')
  end)
  local note = notes[before + 1] or {}
  h.check(
    'one line naming the error and the log',
    note.level == vim.log.levels.ERROR
      and note.message:find(
          '^DevFactory: internal error: .*boom %(details in .*lsp%.log; please report it%)$'
        )
        ~= nil,
    note
  )
  h.eq('only one message', before + 1, #notes)
end)

h.finish()
