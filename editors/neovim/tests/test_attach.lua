-- Attaching with plain `vim.lsp.enable('devfactory')` (0.11, no setup()), the :DevFactory
-- command and its completion, and `:help devfactory` covering every subcommand.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root =
  h.workspace({ ['app.py'] = "def greet():\n    return 'hi'\n", ['README.md'] = '# demo\n' })
vim.cmd.cd(root)

h.test('vim.lsp.enable attaches the daemon to project files', function()
  vim.lsp.config('devfactory', { cmd = { h.daemon, 'serve', '--stdio' } })
  vim.lsp.enable('devfactory')
  local client, buf = h.open(root, 'app.py')
  if not h.check('a devfactory client is attached to app.py', client ~= nil) then
    return
  end
  h.eq('its root is the workspace', root, client.root_dir)
  h.eq('the plugin finds the same client', client.id, require('devfactory').client(buf).id)
  local info = h.request(client, 'devfactory/project/info')
  h.eq('devfactory/project/info names the workspace', root, info.rootPath)
  local health = h.request(client, 'devfactory/health')
  h.eq(
    'the daemon speaks the protocol of the plugin',
    require('devfactory.constants').PROTOCOL_VERSION,
    health.protocolVersion
  )
  h.check('the daemon database is fine', health.databaseOk == true, health)

  vim.cmd.edit(vim.fn.fnameescape(vim.fs.joinpath(root, 'README.md')))
  local readme = vim.api.nvim_get_current_buf()
  h.check('a second file of the project reuses the same daemon', h.wait(5000, function()
    return vim.lsp.get_clients({ name = 'devfactory', bufnr = readme })[1] ~= nil
  end) and #vim.lsp.get_clients({ name = 'devfactory' }) == 1)
end)

h.test('after the daemon stopped, a command starts one that serves the open files', function()
  local stopping = vim.lsp.get_clients({ name = 'devfactory' })
  for _, client in ipairs(stopping) do
    client:stop()
  end
  local notes = h.capture_notify()
  h.cmd('DevFactory runs') -- at once: the old daemon is still shutting down
  h.check('it is answered', h.wait_note(notes, 'no runs yet'), notes)
  h.wait(10000, function()
    return vim.iter(stopping):all(function(client)
      return vim.lsp.get_client_by_id(client.id) == nil
    end)
  end)
  h.eq('one daemon again', 1, #vim.lsp.get_clients({ name = 'devfactory' }))
  for _, rel in ipairs({ 'app.py', 'README.md' }) do
    local buf = vim.fn.bufadd(vim.fs.joinpath(root, rel))
    h.check(
      rel .. ' is served by it',
      vim.lsp.get_clients({ name = 'devfactory', bufnr = buf })[1] ~= nil,
      notes
    )
  end
end)

h.test('no daemon starts for a file outside any project', function()
  local stray = vim.fn.tempname() .. '.txt'
  h.write(vim.fs.dirname(stray), { [vim.fs.basename(stray)] = 'hello\n' })
  vim.cmd.edit(vim.fn.fnameescape(stray))
  vim.wait(300)
  h.eq('no client for the stray file', {}, vim.lsp.get_clients({ name = 'devfactory', bufnr = 0 }))
  vim.fn.delete(stray)
end)

h.test(':DevFactory completes subcommands and options', function()
  local names = require('devfactory.commands').names()
  h.eq('subcommand completion', names, vim.fn.getcompletion('DevFactory ', 'cmdline'))
  h.eq(
    'prefix completion',
    { 'reject', 'resolve', 'resolved', 'restore', 'resume', 'retry', 'review', 'rewind', 'run', 'runs' },
    vim.fn.getcompletion('DevFactory r', 'cmdline')
  )
  h.eq(
    'run option names',
    { '--agent=', '--provider=', '--model=', '--mode=', '--plan' },
    vim.fn.getcompletion('DevFactory run --', 'cmdline')
  )
  h.eq(
    'run mode values',
    { '--mode=review', '--mode=yolo' },
    vim.fn.getcompletion('DevFactory run --mode=', 'cmdline')
  )
  h.eq(
    'approve scopes',
    { 'hunk', 'file', 'run' },
    vim.fn.getcompletion('DevFactory approve ', 'cmdline')
  )
  h.eq('index option', { 'full' }, vim.fn.getcompletion('DevFactory index ', 'cmdline'))
end)

h.test(':help devfactory documents every subcommand', function()
  local ok, err = pcall(vim.cmd, 'help devfactory')
  h.check(
    ':help devfactory opens',
    ok and vim.fs.basename(vim.api.nvim_buf_get_name(0)) == 'devfactory.txt',
    err
  )
  vim.cmd('helpclose')
  for _, name in ipairs(require('devfactory.commands').names()) do
    local found = pcall(vim.cmd, 'help :DevFactory-' .. name)
    h.check((':help :DevFactory-%s exists'):format(name), found)
    vim.cmd('silent! helpclose')
  end
  for _, topic in ipairs({
    'devfactory-install',
    'devfactory-setup',
    'devfactory-review',
    'devfactory-console',
    'devfactory-health',
    'devfactory.setup()',
  }) do
    h.check((':help %s exists'):format(topic), pcall(vim.cmd, 'help ' .. topic))
    vim.cmd('silent! helpclose')
  end
end)

h.test('doc/tags is current', function()
  local copy = vim.fn.tempname()
  vim.fn.mkdir(copy, 'p')
  vim.fn.writefile(
    vim.fn.readfile(vim.fs.joinpath(h.plugin_dir, 'doc', 'devfactory.txt')),
    copy .. '/devfactory.txt'
  )
  vim.cmd.helptags(vim.fn.fnameescape(copy))
  h.eq(
    'shipped doc/tags equals a fresh :helptags (regenerate: nvim --clean --headless -c "helptags editors/neovim/doc" -c q)',
    vim.fn.readfile(copy .. '/tags'),
    vim.fn.readfile(vim.fs.joinpath(h.plugin_dir, 'doc', 'tags'))
  )
  vim.fn.delete(copy, 'rf')
end)

h.finish()
