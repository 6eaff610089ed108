--- Reviewing proposed changes: `:DevFactory approve|reject [hunk|file|run]`,
--- `:DevFactory diff` and `:DevFactory resolve|resolved` for conflicts (`:DevFactory changes`
--- lives in changes.lua).
---
--- Decisions go through the daemon's own code-action commands (`devfactory.approve`...), the
--- path `vim.lsp.buf.code_action()` takes too, so an approved hunk of an open file arrives as
--- `workspace/applyEdit` and `u` undoes it. Which hunk is under the cursor is the daemon's call
--- (its code actions at the cursor), except in the proposed side of a diff tab, where the
--- plugin maps the cursor onto the change's hunks itself.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local C = constants.Commands
local R = constants.Requests

local M = {}

M.SCOPES = { 'hunk', 'file', 'run' }

local DECISIONS = {
  approve = { hunk = C.APPROVE, run = C.APPROVE_RUN, done = 'approved' },
  reject = { hunk = C.REJECT, run = C.REJECT_RUN, done = 'rejected' },
}

--- The Command inside a code action (or the action itself when it is a bare Command).
local function command_of(action)
  if type(action.command) == 'table' then
    return action.command
  end
  if type(action.command) == 'string' then
    return action
  end
end

--- The daemon's code-action commands on the cursor line of `bufnr`.
---@param client vim.lsp.Client
---@param bufnr integer
---@return lsp.Command[]
local function commands_at_cursor(client, bufnr)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local diagnostics = {}
  local namespace = vim.lsp.diagnostic.get_namespace(client.id)
  for _, d in ipairs(vim.diagnostic.get(bufnr, { namespace = namespace, lnum = row })) do
    if d.user_data and d.user_data.lsp then
      table.insert(diagnostics, d.user_data.lsp)
    end
  end
  local actions = rpc.call('textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = {
      start = { line = row, character = 0 },
      ['end'] = { line = row, character = #line },
    },
    context = { diagnostics = diagnostics },
  }, { client = client, bufnr = bufnr }) or {}
  local commands = {}
  for _, action in ipairs(actions) do
    local command = command_of(action)
    if command then
      table.insert(commands, command)
    end
  end
  return commands
end

--- The first daemon command named `name` with `arg_count` arguments at the cursor.
local function find_command(commands, name, arg_count)
  for _, command in ipairs(commands) do
    if command.command == name and #(command.arguments or {}) == arg_count then
      return command
    end
  end
end

--- The change shown in a diff tab's proposed buffer, and the hunk under the cursor there.
---@return table? change, integer? hunk_index
local function diff_buffer_target()
  local change = vim.b.devfactory_change
  if type(change) ~= 'table' then
    return nil
  end
  local line = vim.api.nvim_win_get_cursor(0)[1]
  for _, hunk in ipairs(change.hunks or {}) do
    local last = hunk.newStart + math.max(hunk.newLines, 1) - 1
    if line >= hunk.newStart and line <= last then
      return change, hunk.index
    end
  end
  return change, nil
end

--- Proposed changes (of every run) of the file at `path` (workspace-relative).
---@param client vim.lsp.Client
---@param path string
---@return table[] changes
local function proposed_changes(client, path)
  local list = rpc.call(
    R.CHANGES_LIST,
    { path = path, status = constants.ChangeStatus.PROPOSED },
    { client = client }
  )
  return list.changes
end

--- The workspace-relative path of the current buffer's file.
---@param client vim.lsp.Client
---@return string
local function path_of_buffer(client)
  return rpc.relative(client, vim.api.nvim_get_current_buf())
    or async.fail(
      'this buffer is not a file of the workspace: open one, or name a file, a change or a run'
    )
end

local COMPLETION_TIMEOUT_MS = 500

--- The files with proposed changes (of every run), sorted, for completing `:DevFactory
--- approve|reject file`: one short request to a daemon that already runs (none is started for
--- a completion); nothing when it does not answer in COMPLETION_TIMEOUT_MS.
---@return string[]
function M.proposed_paths()
  local client = rpc.find()
  if not client or not client.initialized then
    return {}
  end
  local list = rpc.request_sync(
    client,
    R.CHANGES_LIST,
    { status = constants.ChangeStatus.PROPOSED },
    COMPLETION_TIMEOUT_MS
  )
  local paths = {}
  for _, change in ipairs(list and list.changes or {}) do
    paths[change.path] = true
  end
  local sorted = vim.tbl_keys(paths)
  table.sort(sorted)
  return sorted
end

--- The path of a change, from a decision result's changes when it has the change.
---@param result table? ChangeDecisionResult
---@param change_id integer
---@return string?
local function path_of(result, change_id)
  for _, change in ipairs(type(result) == 'table' and result.changes or {}) do
    if change.id == change_id then
      return change.path
    end
  end
end

--- `app.py (change 4)`, or `change 4` when the result does not say.
local function change_name(result, change_id)
  local path = path_of(result, change_id)
  return path and ('%s (change %d)'):format(path, change_id) or ('change %d'):format(change_id)
end

--- What a decision command was about: `hunk 2 of app.py`, `app.py`, `the changes of run #3`.
---@param command string
---@param args any[]
---@param result table?
---@return string
local function subject(command, args, result)
  if command == C.APPROVE_RUN or command == C.REJECT_RUN then
    return ('the changes of run #%d'):format(args[1])
  end
  local name = path_of(result, args[1]) or ('change %d'):format(args[1])
  return #args == 2 and ('hunk %d of %s'):format(args[2] + 1, name) or name
end

--- Say what a decision did, and name each change that conflicted with the user's edits (it
--- stays listed in :DevFactory changes; its diff compares the two). The buffers of the files
--- the daemon wrote on disk are reloaded on its `change_applied` events (reload.lua).
---@param verb string 'approved'|'rejected'
---@param what string
---@param result table? ChangeDecisionResult
function M.report(verb, what, result)
  local conflicts = type(result) == 'table' and result.conflicts or {}
  if #conflicts == 0 then
    ui.info(('%s %s'):format(verb, what))
  else
    local names = vim.tbl_map(function(id)
      return change_name(result, id)
    end, conflicts)
    ui.warn(
      ('%s %s, but %s %s with your edits and %s not applied: resolve with :DevFactory resolve %d'):format(
        verb,
        what,
        table.concat(names, ', '),
        #conflicts == 1 and 'conflicts' or 'conflict',
        #conflicts == 1 and 'was' or 'were',
        conflicts[1]
      )
    )
  end
end

--- Decision commands run from code actions (`vim.lsp.buf.code_action()`): say what they did,
--- as `:DevFactory approve|reject` does.
---@param command lsp.Command
---@param result any
function M.on_decision_result(command, result)
  local verb = (command.command == C.APPROVE or command.command == C.APPROVE_RUN) and 'approved'
    or (command.command == C.REJECT or command.command == C.REJECT_RUN) and 'rejected'
  if verb and type(result) == 'table' then
    M.report(verb, subject(command.command, command.arguments or {}, result), result)
  end
end

--- `:DevFactory approve|reject [hunk | file [path|change] | run [run]]`
---@param decision 'approve'|'reject'
---@param fargs string[]
function M.decide(decision, fargs)
  local spec = DECISIONS[decision]
  local scope = fargs[1] or 'hunk'
  if not vim.list_contains(M.SCOPES, scope) then
    async.fail(('%s what? Use hunk, file or run, got %q'):format(decision, scope))
  end
  local client = rpc.client()
  local bufnr = vim.api.nvim_get_current_buf()
  if scope == 'run' then
    local run_id = require('devfactory.runs').resolve(client, fargs[2])
    local result = rpc.execute(client, spec.run, { run_id }, bufnr)
    return M.report(spec.done, subject(spec.run, { run_id }, result), result)
  end
  local diff_change, diff_hunk = diff_buffer_target()
  if scope == 'file' then
    local ids = {}
    if fargs[2] and tonumber(fargs[2]) then
      ids = { tonumber(fargs[2]) }
    elseif diff_change and not fargs[2] then
      ids = { diff_change.id }
    else
      local path = fargs[2] or path_of_buffer(client)
      local changes = proposed_changes(client, path)
      if #changes == 0 then
        async.fail(('no proposed changes for %s'):format(path))
      end
      ids = vim.tbl_map(function(change)
        return change.id
      end, changes)
    end
    local all = { changes = {}, conflicts = {} }
    for _, id in ipairs(ids) do
      local result = rpc.execute(client, spec.hunk, { id }, bufnr) or {}
      vim.list_extend(all.changes, result.changes or {})
      vim.list_extend(all.conflicts, result.conflicts or {})
    end
    local what = #ids == 1 and subject(spec.hunk, ids, all) or format.count(#ids, 'change')
    return M.report(spec.done, what, all)
  end
  if diff_change then
    if not diff_hunk then
      async.fail('the cursor is not on a hunk of this change: move onto one (]c) and try again')
    end
    local args = { diff_change.id, diff_hunk }
    local result = rpc.execute(client, spec.hunk, args, bufnr)
    return M.report(spec.done, subject(spec.hunk, args, result), result)
  end
  local commands = commands_at_cursor(client, bufnr)
  -- A hunk, else a change without hunks (a deleted or binary file) covering the cursor.
  local command = find_command(commands, spec.hunk, 2) or find_command(commands, spec.hunk, 1)
  if not command then
    async.fail(
      ('no proposed hunk under the cursor: move onto a DevFactory diagnostic (]d), or use :DevFactory %s file|run'):format(
        decision
      )
    )
  end
  local result = rpc.execute(client, command.command, command.arguments, bufnr)
  M.report(spec.done, subject(command.command, command.arguments, result), result)
end

--- The read-only buffer showing what a run proposes for a change (`devfactory://change/...`),
--- made or refreshed: the proposed side of a diff tab, and what :DevFactory changes opens
--- for a file the run creates. `:DevFactory approve` there takes the hunk under the cursor.
---@param client vim.lsp.Client
---@param change table
---@param text string the proposed content
---@return integer buf
function M.proposal_buffer(client, change, text)
  local name = ('devfactory://change/%d/%s'):format(change.id, change.path)
  local buf = ui.named(name)
  if not buf then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  local lines = vim.split(text, '\n', { plain = true })
  if lines[#lines] == '' then
    table.remove(lines)
  end
  vim.bo[buf].buftype, vim.bo[buf].bufhidden, vim.bo[buf].swapfile = 'nofile', 'hide', false
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = vim.filetype.match({ filename = change.path }) or ''
  vim.b[buf].devfactory_client_id = client.id
  vim.b[buf].devfactory_run_id = change.runId
  vim.b[buf].devfactory_change = change
  require('devfactory.inline').map_decisions(buf)
  return buf
end

--- Open a change side by side in a new tab: the file as it is now, and what the run proposes.
---@param client vim.lsp.Client
---@param change_id integer
function M.show_diff(client, change_id)
  local diff = rpc.call(R.CHANGES_DIFF, { changeId = change_id }, { client = client })
  local change = diff.change
  local path = rpc.absolute(client, change.path)
  vim.cmd.tabnew()
  if vim.uv.fs_stat(path) then
    vim.cmd.edit(vim.fn.fnameescape(path))
  else
    vim.bo.buftype, vim.bo.bufhidden = 'nofile', 'wipe'
  end
  vim.cmd.diffthis()
  vim.cmd('rightbelow vertical split')
  vim.api.nvim_win_set_buf(0, M.proposal_buffer(client, change, diff.after or ''))
  vim.cmd.diffthis()
  pcall(vim.cmd, 'normal! gg]c')
end

--- Let the user pick one of `changes` (or take the only one, when `take_single`).
local function pick_change(changes, prompt, take_single)
  if #changes == 1 and take_single then
    return changes[1]
  end
  return ui.select(changes, {
    prompt = prompt,
    kind = 'devfactory.change',
    format_item = function(change)
      return ('change %d: %s %s (run #%d, %s)'):format(
        change.id,
        change.action,
        change.path,
        change.runId,
        format.count(#(change.hunks or {}), 'hunk')
      )
    end,
  })
end

--- One of the changes in `status` (all runs), picked; nil (and `empty` said) when there are none.
---@return integer?
local function pick_listed(client, status, empty, prompt, take_single)
  local list = rpc.call(R.CHANGES_LIST, { status = status }, { client = client })
  if #list.changes == 0 then
    ui.info(empty)
    return nil
  end
  local change = pick_change(list.changes, prompt, take_single)
  return change and change.id
end

--- `:DevFactory diff [change]`: the named change, else the one under the cursor, else one of
--- the current file's, else one of all proposed changes.
---@param fargs string[]
function M.diff(fargs)
  local client = rpc.client()
  local change_id = fargs[1] and tonumber(fargs[1])
  if fargs[1] and not change_id then
    async.fail(('a change is a number, got %q'):format(fargs[1]))
  end
  if not change_id and vim.b.devfactory_change then
    change_id = vim.b.devfactory_change.id
  end
  local path = not change_id and rpc.relative(client, 0)
  if path then
    local changes = proposed_changes(client, path)
    local change = #changes > 0 and pick_change(changes, 'Show the diff of', true)
    change_id = change and change.id
  end
  if not change_id then
    -- Not about the current file: always show what would open.
    change_id = pick_listed(
      client,
      constants.ChangeStatus.PROPOSED,
      'no proposed changes to show',
      'Show the diff of which proposed change?',
      false
    )
  end
  if change_id then
    M.show_diff(client, change_id)
  end
end

--- The change a resolve command is about: the one named, else the diff tab's, else one of
--- the conflicts (picked when there are several).
---@param client vim.lsp.Client
---@param arg string?
---@return integer?
local function conflict_id(client, arg)
  if arg then
    return tonumber(arg) or async.fail(('a change is a number, got %q'):format(arg))
  end
  if type(vim.b.devfactory_change) == 'table' then
    return vim.b.devfactory_change.id
  end
  return pick_listed(
    client,
    constants.ChangeStatus.CONFLICT,
    'no conflicts to resolve',
    'Resolve which conflict?',
    true
  )
end

--- `:DevFactory resolve [change]`: the conflict side by side (your file on the left, editable;
--- the run's proposal on the right), to take hunks with |do| / |dp| and save.
---@param fargs string[]
function M.resolve(fargs)
  local client = rpc.client()
  local change_id = conflict_id(client, fargs[1])
  if change_id then
    M.show_diff(client, change_id)
    ui.info(
      ('take what you want into your file (the left side: do, dp), :w, then :DevFactory resolved %d'):format(
        change_id
      )
    )
  end
end

--- `:DevFactory resolved [change]`: tell the daemon the conflict is settled in your file.
---@param fargs string[]
function M.resolved(fargs)
  local client = rpc.client()
  local change_id = conflict_id(client, fargs[1])
  if not change_id then
    return
  end
  local change = rpc.call(R.CHANGES_RESOLVE, { changeId = change_id }, { client = client })
  local kept = #vim.tbl_filter(function(hunk)
    return hunk.status == constants.ChangeStatus.REJECTED
  end, change.hunks or {})
  ui.info(
    ('%s resolved: %s%s'):format(
      change.path,
      change.status,
      kept > 0 and (' (%s kept as yours)'):format(format.count(kept, 'hunk')) or ''
    )
  )
  return change
end

--- Client-side handler of the `devfactory.showDiff` code-action command.
---@param command lsp.Command
---@param ctx table
function M.on_show_diff_command(command, ctx)
  async.run(function()
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    local change_id = command.arguments and command.arguments[1]
    if not client or type(change_id) ~= 'number' then
      async.fail('Show diff needs a change id')
    end
    M.show_diff(client, change_id)
  end)
end

return M
