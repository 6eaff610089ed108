--- Shared helpers of the plugin tests: checks, a temporary git workspace, the real daemon, and
--- captured notifications. Each test file runs in its own headless Neovim:
---   timeout 120 nvim --headless --clean --cmd 'set rtp^=editors/neovim' -l editors/neovim/tests/<file>
--- and ends with `N passed, N failed` (exit 1 on failure).
local H = {}

H.passed, H.failed = 0, 0
H.tests_dir =
  vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p')))
H.plugin_dir = vim.fs.dirname(H.tests_dir)
H.repo = vim.fs.dirname(vim.fs.dirname(H.plugin_dir))
--- The daemon under test: $DEVFACTORY_BIN (the pytest wrapper sets it), else the checkout's venv.
H.daemon = vim.env.DEVFACTORY_BIN or vim.fs.joinpath(H.repo, '.venv', 'bin', 'devfactory')

-- Tests `:cd` into their workspace: keep the plugin on 'runtimepath' by absolute path.
vim.opt.runtimepath:prepend(H.plugin_dir)

local temp_dirs = {}

-- What the plugin keeps between sessions (the last run's options) stays in this test's state.
vim.env.XDG_STATE_HOME = vim.fn.tempname() .. '-state'
table.insert(temp_dirs, vim.env.XDG_STATE_HOME)

local function show(value)
  return type(value) == 'string' and value or vim.inspect(value)
end

--- Record one check; `detail` is printed when it fails.
function H.check(name, ok, detail)
  if ok then
    H.passed = H.passed + 1
    print('ok - ' .. name)
  else
    H.failed = H.failed + 1
    print(
      'not ok - '
        .. name
        .. (detail ~= nil and ('\n    ' .. show(detail):gsub('\n', '\n    ')) or '')
    )
  end
  return ok
end

function H.eq(name, expected, actual)
  return H.check(name, vim.deep_equal(expected, actual), { expected = expected, actual = actual })
end

--- Wait up to `ms` for `fn()` to be truthy, processing events meanwhile; returns that value
--- (or nil on timeout). With `captured` notifications, gives up as soon as an error is
--- notified: a daemon without a feature answers at once, so do not wait out the timeout.
function H.wait(ms, fn, captured)
  local result
  local start = captured and #captured
  vim.wait(ms, function()
    local ok, value = pcall(fn)
    result = ok and value or nil
    if result ~= nil and result ~= false then
      return true
    end
    for i = (start or math.huge) + 1, captured and #captured or 0 do
      if captured[i].level == vim.log.levels.ERROR then
        return true
      end
    end
    return false
  end, 20)
  return result ~= false and result or nil
end

--- Run one scenario; an error inside it counts as one failure and the file goes on.
function H.test(name, fn)
  print('# ' .. name)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    H.check(name .. ' (raised)', false, err)
  end
end

local DAEMON_LOG_LINES = 80

--- The end of each daemon log under the test's folders, printed when a check failed: the
--- folders are deleted next, and a failure seen once in CI must say what the daemon did.
function H.print_daemon_logs()
  for _, dir in ipairs(temp_dirs) do
    for _, log in ipairs(vim.fn.glob(dir .. '/.devfactory/logs/*.log', true, true)) do
      local lines = vim.fn.readfile(log)
      print(('# %s (last %d of %d lines)'):format(log, math.min(#lines, DAEMON_LOG_LINES), #lines))
      for _, line in ipairs(vim.list_slice(lines, math.max(1, #lines - DAEMON_LOG_LINES + 1))) do
        print('#   ' .. line)
      end
    end
  end
end

--- Stop every client, remove the temporary folders, print the closing line and exit.
function H.finish()
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop()
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  if H.failed > 0 then
    H.print_daemon_logs()
  end
  for _, dir in ipairs(temp_dirs) do
    vim.fn.delete(dir, 'rf')
  end
  print(('%d passed, %d failed'):format(H.passed, H.failed))
  os.exit(H.failed == 0 and 0 or 1)
end

local GIT_ENV = {
  GIT_AUTHOR_NAME = 'Test',
  GIT_AUTHOR_EMAIL = 'test@example.invalid',
  GIT_COMMITTER_NAME = 'Test',
  GIT_COMMITTER_EMAIL = 'test@example.invalid',
}

function H.git(dir, ...)
  local result = vim.system({ 'git', ... }, { cwd = dir, env = GIT_ENV, text = true }):wait()
  assert(result.code == 0, ('git %s failed: %s'):format(table.concat({ ... }, ' '), result.stderr))
  return result.stdout
end

--- Write `files` (path -> text) under `dir`.
function H.write(dir, files)
  for rel, text in pairs(files) do
    local path = vim.fs.joinpath(dir, rel)
    vim.fn.mkdir(vim.fs.dirname(path), 'p')
    local handle = assert(io.open(path, 'w'))
    handle:write(text)
    handle:close()
  end
end

function H.read(path)
  local handle = io.open(path, 'r')
  if not handle then
    return nil
  end
  local text = handle:read('*a')
  handle:close()
  return text
end

--- A new git repository holding `files`, committed; removed by finish().
---@param files table<string, string>
---@return string root
function H.workspace(files)
  local root = vim.fn.tempname() .. '-ws'
  vim.fn.mkdir(root, 'p')
  root = vim.uv.fs_realpath(root)
  table.insert(temp_dirs, root)
  H.git(root, 'init', '-q', '-b', 'main')
  H.write(root, files)
  H.git(root, 'add', '-A')
  H.git(root, 'commit', '-q', '-m', 'initial')
  return root
end

--- The JSON of a scripted-provider script (see server/.../providers/scripted.py).
---@param turns table[]
---@return string
function H.script(turns)
  return vim.json.encode({ turns = turns })
end

--- A script turn that edits `path` (replaces `search` with `replace`).
function H.edit_turn(path, search, replace)
  return {
    toolCalls = {
      { name = 'edit_file', arguments = { path = path, search = search, replace = replace } },
    },
  }
end

--- A script turn that writes `content` to `path` (a new file when it does not exist).
function H.write_turn(path, content)
  return { toolCalls = { { name = 'write_file', arguments = { path = path, content = content } } } }
end

--- A script turn that finishes the run with `summary`.
function H.finish_turn(summary)
  return { toolCalls = { { name = 'finish', arguments = { summary = summary } } } }
end

--- Record vim.notify calls instead of printing them.
---@return {message: string, level: integer}[]
function H.capture_notify()
  local captured = {}
  vim.notify = function(message, level)
    table.insert(captured, { message = message, level = level or vim.log.levels.INFO })
  end
  return captured
end

--- The captured notifications whose message contains `text` (plain).
function H.notes_with(captured, text)
  return vim.tbl_filter(function(note)
    return note.message:find(text, 1, true) ~= nil
  end, captured)
end

--- Wait for a notification containing `text` (giving up early on an error notification).
function H.wait_note(captured, text, ms)
  return H.wait(ms or 20000, function()
    return H.notes_with(captured, text)[1]
  end, captured)
end

--- Run `command` and return the first notification it makes (waiting for it), or nil.
---@return {message: string, level: integer}?
function H.first_note(captured, command, ms)
  local before = #captured
  H.cmd(command)
  H.wait(ms or 10000, function()
    return #captured > before
  end)
  return captured[before + 1]
end

--- Setup options that start the daemon under test with the scripted provider.
function H.options(extra)
  return vim.tbl_deep_extend('force', {
    cmd = { H.daemon, 'serve', '--stdio' },
    settings = { defaultProvider = 'scripted' },
  }, extra or {})
end

--- Open `rel` of `root` and wait until the daemon is attached to it and initialized.
---@return vim.lsp.Client?, integer buf
function H.open(root, rel)
  vim.cmd.edit(vim.fn.fnameescape(vim.fs.joinpath(root, rel)))
  local buf = vim.api.nvim_get_current_buf()
  local client
  H.wait(20000, function()
    client = vim.lsp.get_clients({ name = 'devfactory', bufnr = buf })[1]
    return client and client.initialized
  end)
  return client, buf
end

--- `:cd` into `root`, capture notifications, `setup()` with the test daemon and `opts`, open
--- `rel` and check the daemon attached (the file ends here when it did not).
---@return vim.lsp.Client client, {message: string, level: integer}[] notes
function H.start(root, rel, opts)
  vim.cmd.cd(root)
  local notes = H.capture_notify()
  require('devfactory').setup(H.options(opts))
  local client = H.open(root, rel)
  H.check('the daemon is attached', client ~= nil)
  if not client then
    H.finish()
  end
  return client --[[@as vim.lsp.Client]], notes
end

--- The daemon's diagnostics (proposed hunks) of a buffer.
function H.devfactory_diagnostics(buf)
  return vim.tbl_filter(function(d)
    return d.source == 'devfactory'
  end, vim.diagnostic.get(buf))
end

--- Run an Ex command; an error raised by it fails the check (the plugin must not raise).
function H.cmd(command)
  local ok, err = pcall(vim.cmd, command)
  H.check(('`:%s` raises no error'):format(command), ok, err)
end

--- The latest record of run `id` (from devfactory/runChanged), once `pred(run)` holds.
function H.wait_run(client, id, pred, ms)
  local run
  H.wait(ms or 30000, function()
    run = (require('devfactory.events').runs[client.id] or {})[id]
    return run and pred(run)
  end)
  return run
end

function H.terminal(run)
  return run.status == 'completed' or run.status == 'failed' or run.status == 'cancelled'
end

--- Send a request synchronously (for assertions on daemon state).
function H.request(client, method, params, ms)
  local response, err = client:request_sync(method, params or vim.empty_dict(), ms or 15000)
  assert(response, ('%s: %s'):format(method, tostring(err)))
  assert(not response.err, ('%s failed: %s'):format(method, vim.inspect(response.err)))
  return response.result
end

--- Lines of a buffer.
function H.lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

--- The number of `buf`'s first line matching `pattern` (a Lua pattern), once one does (giving
--- up early on an error in `captured`).
function H.wait_line(buf, pattern, captured, ms)
  local found
  H.wait(ms or 60000, function()
    for number, line in ipairs(H.lines(buf)) do
      if line:find(pattern) then
        found = number
        return true
      end
    end
  end, captured)
  return found
end

--- Press `key` on the line of `buf` matching `pattern`, in `buf`'s window (a plugin view).
function H.press(buf, pattern, key, captured)
  local line = H.wait_line(buf, pattern, captured)
  H.check('a line matches ' .. pattern, line, H.lines(buf))
  if not line then
    return false
  end
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_win_set_cursor(0, { line, 0 })
  local keys = vim.api.nvim_replace_termcodes(key, true, false, true)
  local ok, err = pcall(vim.api.nvim_feedkeys, keys, 'mx', false)
  H.check(('%s on that line raises no error'):format(key), ok, err)
  return true
end

return H
