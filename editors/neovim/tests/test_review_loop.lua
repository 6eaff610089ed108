-- The review loop from Neovim: comment on a proposed line (with text, and through the comment
-- float), list the comments, send them back with :DevFactory review request-changes (a second
-- iteration runs), commit, be refused a push until :DevFactory review approve, then push to a
-- bare remote.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['README.md'] = '# sample\n\nA sample.\n',
  ['scripts/loop.json'] = h.script({
    { text = 'Plan: name the project.' },
    h.edit_turn('README.md', '# sample', '# DevFactory sample'),
    h.finish_turn('The README names the project.'),
  }),
})
local remote = vim.fn.tempname() .. '-remote.git'
h.git(vim.fs.dirname(remote), 'init', '-q', '--bare', remote)
h.git(root, 'remote', 'add', 'origin', remote)
local client, notes = h.start(root, 'README.md', { console = { open_on_run = false } })

local run_id
h.test('comments go on lines of the proposed side of a diff', function()
  h.cmd('DevFactory run --model=scripts/loop.json Name the project')
  run_id = h.wait(10000, function()
    return require('devfactory.runs').current[client.id]
  end)
  h.wait_run(client, run_id or -1, h.terminal)
  h.cmd('DevFactory diff')
  h.wait(10000, function()
    return vim.b.devfactory_change and vim.b.devfactory_change.path == 'README.md'
  end)
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  h.cmd('DevFactory comment Say what the sample shows')
  h.check(
    'a message names the comment and the next step',
    h.wait_note(notes, 'comment 1 on README.md line 1; send it to run #'),
    notes
  )
  local comments = h.request(client, 'devfactory/changes/comments', { runId = run_id }).comments
  h.eq(
    'the daemon has it on line 1 of the proposal',
    { { line = 1, body = 'Say what the sample shows' } },
    vim.tbl_map(function(c)
      return { line = c.line, body = c.body }
    end, comments)
  )
end)

h.test('without text, the comment float takes it; <CR> saves', function()
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  local proposal = vim.api.nvim_get_current_buf()
  h.cmd('DevFactory comment')
  local float = h.wait(5000, function()
    local buf = vim.api.nvim_get_current_buf()
    return vim.b[buf].devfactory_comment_float and buf
  end)
  if not h.check('a float opened for the comment', float) then
    return
  end
  h.check('it is a floating window', vim.api.nvim_win_get_config(0).relative ~= '')
  vim.cmd.stopinsert()
  vim.api.nvim_buf_set_lines(float, 0, -1, false, { 'Describe it', 'in one line.' })
  vim.api.nvim_feedkeys(vim.keycode('<CR>'), 'x', false)
  h.check(
    'the float closed',
    h.wait(5000, function()
      return vim.api.nvim_get_current_buf() == proposal
    end)
  )
  h.check('it was saved', h.wait_note(notes, 'comment 2 on README.md line 3'), notes)
end)

h.test(':DevFactory comments lists the open comments at their lines', function()
  h.cmd('DevFactory comments')
  local items = h.wait(5000, function()
    local list = vim.fn.getqflist({ title = 1, items = 1 })
    return list.title:find('comments on run', 1, true) and list.items
  end) or {}
  h.eq(
    'both comments, each at its line',
    { { 1, 'Say what the sample shows' }, { 3, 'Describe it\nin one line.' } },
    vim.tbl_map(function(item)
      return { item.lnum, item.text }
    end, items)
  )
  vim.cmd('cclose')
  vim.cmd('tabclose')
end)

h.test(':DevFactory review request-changes sends them back; a second iteration runs', function()
  h.cmd('DevFactory review request-changes Keep it short')
  h.check('a message says so', h.wait_note(notes, 'got your comments and works on them now'), notes)
  local run = h.wait_run(client, run_id or -1, function(r)
    return r.metadata.iteration == 2 and h.terminal(r)
  end)
  h.eq('the second iteration completed', 'completed', run and run.status)
  local open = h.request(client, 'devfactory/changes/comments', { runId = run_id }).comments
  h.eq('no comment is left open', {}, open)
end)

h.test(':DevFactory commit, and push only after an approved review', function()
  h.cmd('DevFactory commit Name the project')
  local committed = h.wait_note(notes, 'committed ')
  h.check('the commit is confirmed', committed, notes)
  local branch = committed and committed.message:match(' on (%S+)$')
  local refused = h.first_note(notes, 'DevFactory push') or { message = '' }
  h.eq('the push is refused with the reason and the fix', {
    level = vim.log.levels.ERROR,
    refused = true,
    fix = true,
  }, {
    level = refused.level,
    refused = refused.message:find('has no review', 1, true) ~= nil,
    fix = refused.message:find((':DevFactory review approve %d'):format(run_id or -1), 1, true)
      ~= nil,
  })
  h.eq('nothing reached the remote', '', vim.trim(h.git(remote, 'branch', '--list')))
  h.cmd('DevFactory review approve Looks good')
  h.check('the review is recorded', h.wait_note(notes, 'reviewed: approved'), notes)
  h.cmd('DevFactory push origin') -- the run left out, the remote named
  h.check(
    'the push is confirmed',
    h.wait_note(notes, ('pushed %s to origin'):format(branch)),
    notes
  )
  h.eq(
    'the remote has the run branch',
    vim.trim(h.git(root, 'rev-parse', branch or 'missing')),
    vim.trim(h.git(remote, 'rev-parse', branch or 'missing'))
  )
end)

h.test('review without a verdict is a clear message', function()
  h.eq('one clean error', {
    message = 'DevFactory: review how? Use one of approve, comment, reject, request-changes, got nothing',
    level = vim.log.levels.ERROR,
  }, h.first_note(notes, 'DevFactory review'))
end)

h.finish()
