-- :DevFactory snapshot, :DevFactory snapshots (pick one to restore) and :DevFactory restore,
-- with open buffers reloaded and the safety snapshot named so the restore can be undone.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({ ['notes.txt'] = 'first\n' })
vim.cmd.cd(root)
local notes = h.capture_notify()
require('devfactory').setup(h.options())
local client, buf = h.open(root, 'notes.txt')
h.check('the daemon is attached', client ~= nil)
if not client then
  h.finish()
end

local path = vim.fs.joinpath(root, 'notes.txt')

h.test('snapshot, change, restore from the picker, then undo the restore', function()
  h.cmd('DevFactory snapshot before edits')
  local taken = h.wait_note(notes, 'DevFactory: snapshot #')
  h.check(
    'the snapshot is confirmed',
    taken
      and taken.message:find(
        '^DevFactory: snapshot #%d+ manual before edits %(%d+ files?, .+%) taken$'
      ),
    notes
  )

  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'second' })
  vim.cmd('silent write')
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(opts.format_item, items)
    for i, item in ipairs(items) do
      if item.description == 'before edits' then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
  h.cmd('DevFactory snapshots')
  local restored = h.wait_note(notes, 'DevFactory: restored snapshot #')
  h.check('the picker shows the snapshots', offered and #vim.tbl_filter(function(item)
    return item:find('manual before edits', 1, true) ~= nil
  end, offered) == 1, offered)
  h.eq('the file is back on disk', 'first\n', h.read(path))
  h.eq('the open buffer was reloaded', { 'first' }, h.lines(buf))
  local safety = restored
    and tonumber(restored.message:match('undo with :DevFactory restore (%d+)$'))
  h.check('the message names the safety snapshot', safety, restored)
  h.check(
    'one file is "1 file"',
    restored and restored.message:find(' (1 file); ', 1, true),
    restored
  )

  h.cmd('DevFactory restore ' .. tostring(safety))
  h.wait(10000, function()
    return #h.notes_with(notes, 'DevFactory: restored snapshot #' .. tostring(safety)) == 1
  end, notes)
  h.eq('restoring the safety snapshot undoes the restore', 'second\n', h.read(path))
  h.eq('and the buffer follows', { 'second' }, h.lines(buf))
end)

h.test('a buffer with unsaved changes is named, not silently left behind', function()
  h.cmd('DevFactory snapshot unsaved')
  local taken = h.wait_note(notes, 'manual unsaved')
  local id = taken and tonumber(taken.message:match('snapshot #(%d+)'))
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'saved' })
  vim.cmd('silent write')
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'not saved' })
  h.cmd('DevFactory restore ' .. tostring(id))
  local warned = h.wait_note(notes, 'unsaved changes')
  h.eq('the file is restored on disk', 'second\n', h.read(path))
  h.eq('the buffer keeps the unsaved text', { 'not saved' }, h.lines(buf))
  h.eq(
    'the warning names the file',
    'DevFactory: notes.txt has unsaved changes, kept in the buffer: :edit! there takes the restored file',
    warned and warned.message
  )
  vim.cmd('silent edit!')
end)

h.test("the picker leaves out a run's worktree snapshots", function()
  local rpc = require('devfactory.rpc')
  local real_call = rpc.call
  rpc.call = function(method, params, opts)
    local list, on = real_call(method, params, opts)
    table.insert(list.snapshots, 1, {
      id = 999,
      type = 'final',
      origin = 'worktree',
      description = 'run 9 result',
      runId = 9,
    })
    return list, on
  end
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(opts.format_item, items)
    on_choice(nil, nil)
  end
  h.cmd('DevFactory snapshots')
  h.wait(5000, function()
    return offered ~= nil
  end)
  rpc.call = real_call
  h.check('workspace snapshots are offered', #offered > 0, offered)
  h.check('the worktree snapshot is not', #vim.tbl_filter(function(item)
    return item:find('run 9 result', 1, true) ~= nil
  end, offered) == 0, offered)
end)

h.test('restore needs an id', function()
  local before = #notes
  h.cmd('DevFactory restore')
  h.wait(5000, function()
    return #notes > before
  end)
  h.eq(
    'a clean error',
    'DevFactory: restore needs a snapshot id (see :DevFactory snapshots)',
    (notes[before + 1] or {}).message
  )
end)

h.finish()
