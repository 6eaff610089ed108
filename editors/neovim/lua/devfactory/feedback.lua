--- The review loop: `:DevFactory comment|comments|review|commit|push`.
---
--- Comments go on lines of what a run proposes (devfactory/changes/comment): in the proposed
--- side of a diff tab, the cursor line; in a file, the proposed hunk under the cursor. Without
--- text, a small float takes the comment (<CR> in Normal mode saves it, q cancels).
--- `:DevFactory review request-changes` sends the run's open comments back to it
--- (devfactory/changes/requestChanges); `approve|reject|comment` record a verdict
--- (devfactory/reviews/submit); commit and push publish the run's branch (devfactory/git/*),
--- and the daemon refuses a push until a review approved the run.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local R = constants.Requests
local D = constants.ReviewDecision

local M = {}

--- `:DevFactory review {verdict}` -> the decision it records (request-changes records none).
M.VERDICTS = {
  approve = D.APPROVED,
  reject = D.REJECTED,
  comment = D.COMMENTED,
  ['request-changes'] = false,
}

---@return string[]
function M.verdict_names()
  local names = vim.tbl_keys(M.VERDICTS)
  table.sort(names)
  return names
end

--- The change and the 1-based line of its proposed file the cursor is on: in a proposal
--- buffer, the cursor line; in a file, the proposed hunk whose diagnostic covers the cursor.
---@param client vim.lsp.Client
---@return table change, integer line
local function comment_target(client)
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local shown = vim.b.devfactory_change
  if type(shown) == 'table' then
    return shown, row
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local namespace = vim.lsp.diagnostic.get_namespace(client.id)
  for _, d in ipairs(vim.diagnostic.get(bufnr, { namespace = namespace, lnum = row - 1 })) do
    local data = d.user_data and d.user_data.lsp and d.user_data.lsp.data
    if type(data) == 'table' and data.changeId then
      local change =
        rpc.call(R.CHANGES_DIFF, { changeId = data.changeId }, { client = client }).change
      for _, hunk in ipairs(change.hunks or {}) do
        if hunk.index == data.hunkIndex then
          local offset = row - 1 - d.lnum
          return change, hunk.newStart + math.min(offset, math.max(hunk.newLines - 1, 0))
        end
      end
      return change, 1
    end
  end
  return async.fail(
    'no proposed line under the cursor: comment from the proposed side of :DevFactory diff, or on a DevFactory diagnostic'
  )
end

--- Ask for a comment in a float under the cursor; the text, or nil when cancelled.
---@param title string
---@return string?
function M.ask(title)
  return async.await(function(done)
    local buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].filetype = 'markdown'
    local width = math.min(72, math.max(vim.o.columns - 4, 20))
    local win = vim.api.nvim_open_win(buf, true, {
      relative = 'cursor',
      row = 1,
      col = 0,
      width = width,
      height = 5,
      border = 'rounded',
      title = ' ' .. title .. ' ',
      footer = ' <CR> save · q cancel ',
      footer_pos = 'right',
      style = 'minimal',
    })
    vim.b[buf].devfactory_comment_float = true
    local finished = false
    local function finish(text)
      if finished then
        return
      end
      finished = true
      if vim.api.nvim_win_is_valid(win) then
        vim.api.nvim_win_close(win, true)
      end
      done(text)
    end
    vim.keymap.set('n', '<CR>', function()
      local text = vim.trim(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'))
      finish(text ~= '' and text or nil)
    end, { buffer = buf, desc = 'DevFactory: save the comment' })
    vim.keymap.set('n', 'q', function()
      finish(nil)
    end, { buffer = buf, desc = 'DevFactory: cancel the comment' })
    vim.api.nvim_create_autocmd('BufWipeout', {
      buffer = buf,
      once = true,
      callback = function()
        vim.schedule(function()
          finish(nil)
        end)
      end,
    })
    vim.cmd.startinsert()
  end)
end

--- `:DevFactory comment [text]`
---@param fargs string[]
function M.comment(fargs)
  local client = rpc.client()
  local change, line = comment_target(client)
  local body = table.concat(fargs, ' ')
  if vim.trim(body) == '' then
    body = M.ask(('Comment on %s line %d'):format(change.path, line))
    if not body then
      return
    end
  end
  local saved = rpc.call(
    R.CHANGES_COMMENT,
    { changeId = change.id, line = line, body = body },
    { client = client }
  )
  ui.info(
    ('comment %d on %s line %d; send it to run #%d with :DevFactory review request-changes'):format(
      saved.id,
      change.path,
      saved.line,
      saved.runId
    )
  )
  return saved
end

--- `:DevFactory comments [run]`: the run's open comments in the quickfix list, each at its line
--- of the proposed file.
---@param fargs string[]
function M.comments(fargs)
  local client = rpc.client()
  local run_id = require('devfactory.runs').resolve(client, fargs[1])
  local list = rpc.call(R.CHANGES_COMMENTS, { runId = run_id }, { client = client })
  if #list.comments == 0 then
    ui.info(('run #%d has no open comments'):format(run_id))
    return
  end
  local buffers = {}
  local items = {}
  for _, comment in ipairs(list.comments) do
    if not buffers[comment.changeId] then
      local diff = rpc.call(R.CHANGES_DIFF, { changeId = comment.changeId }, { client = client })
      buffers[comment.changeId] =
        require('devfactory.review').proposal_buffer(client, diff.change, diff.after or '')
    end
    table.insert(
      items,
      { bufnr = buffers[comment.changeId], lnum = comment.line, text = comment.body }
    )
  end
  vim.fn.setqflist(
    {},
    ' ',
    { title = ('DevFactory: comments on run #%d'):format(run_id), items = items }
  )
  vim.cmd('botright copen')
end

--- `:DevFactory review {approve|reject|comment|request-changes} [run] [notes]`
---@param fargs string[]
function M.review(fargs)
  local verdict = fargs[1]
  if M.VERDICTS[verdict] == nil then
    async.fail(
      ('review how? Use one of %s, got %s'):format(
        table.concat(M.verdict_names(), ', '),
        verdict and ('%q'):format(verdict) or 'nothing'
      )
    )
  end
  local rest = vim.list_slice(fargs, 2)
  local run_arg = rest[1] and rest[1]:match('^#?%d+$') and table.remove(rest, 1) or nil
  local client = rpc.client()
  local run_id = require('devfactory.runs').resolve(client, run_arg)
  local notes = table.concat(rest, ' ')
  if verdict == 'request-changes' then
    local run = rpc.call(
      R.CHANGES_REQUEST_CHANGES,
      { runId = run_id, note = notes ~= '' and notes or nil },
      { client = client }
    )
    require('devfactory.events').remember(client.id, run)
    ui.info(('run #%d got your comments and works on them now'):format(run_id))
    return run
  end
  local review = rpc.call(
    R.REVIEWS_SUBMIT,
    { runId = run_id, decision = M.VERDICTS[verdict], notes = notes },
    { client = client }
  )
  local next_step = review.decision == D.APPROVED and ' (:DevFactory push publishes it)' or ''
  ui.info(('run #%d reviewed: %s%s'):format(run_id, review.decision, next_step))
  return review
end

--- `:DevFactory commit [run] [message]`
---@param fargs string[]
function M.commit(fargs)
  local rest = vim.deepcopy(fargs)
  local run_arg = rest[1] and rest[1]:match('^#?%d+$') and table.remove(rest, 1) or nil
  local client = rpc.client()
  local run_id = require('devfactory.runs').resolve(client, run_arg)
  local message = table.concat(rest, ' ')
  local result = rpc.call(
    R.GIT_COMMIT,
    { runId = run_id, message = message ~= '' and message or nil },
    { client = client }
  )
  ui.info(('committed %s on %s'):format(result.commitSha:sub(1, 12), result.branch))
  return result
end

--- `:DevFactory push [run] [remote]`
---@param fargs string[]
function M.push(fargs)
  local rest = vim.deepcopy(fargs)
  local run_arg = rest[1] and rest[1]:match('^#?%d+$') and table.remove(rest, 1) or nil
  local client = rpc.client()
  local run_id = require('devfactory.runs').resolve(client, run_arg)
  local ok, result = pcall(
    rpc.call,
    R.GIT_PUSH,
    { runId = run_id, remote = rest[1] or 'origin' },
    { client = client }
  )
  if not ok then
    if async.is_user_error(result) and result.message:find('approved review', 1, true) then
      async.fail(
        ('%s; approve it with :DevFactory review approve %d'):format(result.message, run_id)
      )
    end
    error(result, 0)
  end
  ui.info(('pushed %s to %s'):format(result.branch, result.remote))
  return result
end

return M
