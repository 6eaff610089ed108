--- Review where you look: each proposed hunk of a buffer is drawn in it. The lines it replaces
--- are highlighted (`DevFactoryRemoved`) and what the run proposes shows as virtual lines under
--- them (`DevFactoryAdded`; an insertion above the line it goes before). Buffer-local keymaps
--- (`review.keymaps` of |devfactory.setup()|) approve, reject and preview the hunk under the
--- cursor and jump to the next or previous one.
---
--- The hunks and their proposed text come from devfactory/changes/list and changes/diff; where
--- the daemon publishes diagnostics, their lines place the hunks (mapped through your edits
--- since the run started). Drawn again when the diagnostics or a change move; not drawn while
--- the buffer is in a diff window (the diff shows the proposal).
local async = require('devfactory.async')
local config = require('devfactory.config')
local constants = require('devfactory.constants')
local rpc = require('devfactory.rpc')

local R = constants.Requests
local S = constants.ChangeStatus

local M = {}

M.NS = vim.api.nvim_create_namespace('devfactory.inline')

for group, link in pairs({ DevFactoryAdded = 'DiffAdd', DevFactoryRemoved = 'DiffDelete' }) do
  vim.api.nvim_set_hl(0, group, { link = link, default = true })
end

---@class devfactory.InlineHunk
---@field change table
---@field hunk table
---@field first integer 0-based first line of the hunk in the buffer
---@field last integer 0-based line after its old lines (== first for an insertion)
---@field added string[] the proposed lines

---@type table<integer, devfactory.InlineHunk[]> buffer -> hunks drawn in it, by line
M.drawn = {}

---@type table<integer, {updatedAt: string, lines: string[]}> change id -> its proposed lines
local proposals = {}
---@type table<integer, true> buffers with a redraw pending
local pending = {}

--- The proposed lines of a change (inside a command coroutine), read once per version.
local function proposal(client, change)
  local cached = proposals[change.id]
  if cached and cached.updatedAt == change.updatedAt then
    return cached.lines
  end
  local diff = rpc.call(R.CHANGES_DIFF, { changeId = change.id }, { client = client })
  local lines = vim.split(diff.after or '', '\n', { plain = true })
  if lines[#lines] == '' then
    table.remove(lines)
  end
  proposals[change.id] = { updatedAt = change.updatedAt, lines = lines }
  return lines
end

--- The 0-based line of each hunk the daemon's diagnostics give, by "change:hunk".
local function mapped_lines(client, bufnr)
  local lines = {}
  local namespace = vim.lsp.diagnostic.get_namespace(client.id)
  for _, d in ipairs(vim.diagnostic.get(bufnr, { namespace = namespace })) do
    local data = d.user_data and d.user_data.lsp and d.user_data.lsp.data
    if type(data) == 'table' and data.changeId and data.hunkIndex ~= vim.NIL then
      lines[data.changeId .. ':' .. tostring(data.hunkIndex)] = d.lnum
    end
  end
  return lines
end

--- Where a hunk is in the buffer now: the diagnostic's line, else its line in the run's base.
local function place(hunk, mapped, line_count)
  local first = mapped
  if first == nil then
    first = hunk.oldLines > 0 and hunk.oldStart - 1 or hunk.oldStart
  end
  first = math.max(0, math.min(first, line_count - 1))
  return first, math.min(first + hunk.oldLines, line_count)
end

--- Read the buffer's proposed hunks (inside a command coroutine).
---@return devfactory.InlineHunk[]
local function read(client, bufnr)
  local path = rpc.relative(client, bufnr)
  if not path then
    return {}
  end
  local list = rpc.call(R.CHANGES_LIST, { path = path, status = S.PROPOSED }, { client = client })
  local mapped = mapped_lines(client, bufnr)
  local line_count = vim.api.nvim_buf_line_count(bufnr)
  local hunks = {}
  for _, change in ipairs(list.changes) do
    local lines = #(change.hunks or {}) > 0 and proposal(client, change) or {}
    for _, hunk in ipairs(change.hunks or {}) do
      if (hunk.status or S.PROPOSED) == S.PROPOSED then
        local first, last = place(hunk, mapped[change.id .. ':' .. hunk.index], line_count)
        local start = math.max(hunk.newStart, 1)
        table.insert(hunks, {
          change = change,
          hunk = hunk,
          first = first,
          last = last,
          added = vim.list_slice(lines, start, start + hunk.newLines - 1),
        })
      end
    end
  end
  table.sort(hunks, function(a, b)
    return a.first < b.first
  end)
  return hunks
end

--- True while a window shows the buffer in diff mode (the diff shows the proposal already,
--- and virtual lines on one side would put the two sides out of line).
local function in_diff(bufnr)
  return vim.iter(vim.fn.win_findbuf(bufnr)):any(function(win)
    return vim.wo[win].diff
  end)
end

--- Draw `hunks` in `bufnr` (replacing what was drawn).
local function draw(bufnr, hunks)
  vim.api.nvim_buf_clear_namespace(bufnr, M.NS, 0, -1)
  M.drawn[bufnr] = hunks
  if in_diff(bufnr) then
    return
  end
  local line_count = vim.api.nvim_buf_line_count(bufnr)
  for _, item in ipairs(hunks) do
    for line = item.first, item.last - 1 do
      vim.api.nvim_buf_set_extmark(bufnr, M.NS, line, 0, { line_hl_group = 'DevFactoryRemoved' })
    end
    if #item.added > 0 then
      local virt_lines = vim.tbl_map(function(text)
        return { { text, 'DevFactoryAdded' } }
      end, item.added)
      local insertion = item.hunk.oldLines == 0
      local at_end = insertion and item.hunk.oldStart >= line_count
      local row = insertion and not at_end and item.first or math.max(item.last - 1, item.first)
      vim.api.nvim_buf_set_extmark(bufnr, M.NS, row, 0, {
        virt_lines = virt_lines,
        virt_lines_above = insertion and not at_end,
      })
    end
  end
end

--- Draw the buffer again soon (once, however many triggers arrive meanwhile).
---@param bufnr integer
function M.schedule(bufnr)
  if pending[bufnr] then
    return
  end
  pending[bufnr] = true
  vim.schedule(function()
    pending[bufnr] = nil
    if not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    local client = rpc.find(bufnr)
    if not client or not client.initialized or not config.options.review.inline then
      vim.api.nvim_buf_clear_namespace(bufnr, M.NS, 0, -1)
      M.drawn[bufnr] = nil
      return
    end
    async.run(function()
      local ok, hunks = pcall(read, client, bufnr)
      if ok and vim.api.nvim_buf_is_valid(bufnr) then
        draw(bufnr, hunks)
      end
    end)
  end)
end

--- Redraw every buffer something is drawn in (a change moved).
function M.refresh_all()
  for bufnr in pairs(M.drawn) do
    M.schedule(bufnr)
  end
end

--- The drawn hunk under the cursor, if any.
---@return devfactory.InlineHunk?
function M.hunk_at_cursor()
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  for _, item in ipairs(M.drawn[vim.api.nvim_get_current_buf()] or {}) do
    if row >= item.first and row <= math.max(item.last - 1, item.first) then
      return item
    end
  end
end

--- Move to the next (1) or previous (-1) proposed hunk of the buffer.
---@param direction 1|-1
function M.jump(direction)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local hunks = M.drawn[vim.api.nvim_get_current_buf()] or {}
  local target
  for i = direction == 1 and 1 or #hunks, direction == 1 and #hunks or 1, direction do
    if (hunks[i].first - row) * direction > 0 then
      target = hunks[i]
      break
    end
  end
  if not target then
    require('devfactory.ui').info(
      ('no %s proposed hunk in this buffer'):format(direction == 1 and 'next' or 'previous')
    )
    return
  end
  vim.api.nvim_win_set_cursor(0, { target.first + 1, 0 })
end

--- A float with the hunk under the cursor as a diff (`-` your lines, `+` the proposal).
function M.preview()
  local item = M.hunk_at_cursor()
  if not item then
    require('devfactory.ui').warn('no proposed hunk under the cursor')
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local lines = { ('run #%d proposes (hunk %d):'):format(item.change.runId, item.hunk.index + 1) }
  for _, text in ipairs(vim.api.nvim_buf_get_lines(bufnr, item.first, item.last, false)) do
    table.insert(lines, '-' .. text)
  end
  for _, text in ipairs(item.added) do
    table.insert(lines, '+' .. text)
  end
  local float = vim.lsp.util.open_floating_preview(lines, 'diff', { border = 'rounded' })
  vim.b[float].devfactory_preview = true
  return float
end

--- The keymaps `review.keymaps` names, as (name -> what it does).
local ACTIONS = {
  approve = { 'DevFactory: approve the hunk', '<Cmd>DevFactory approve<CR>' },
  reject = { 'DevFactory: reject the hunk', '<Cmd>DevFactory reject<CR>' },
  preview = {
    'DevFactory: preview the hunk',
    function()
      M.preview()
    end,
  },
  next_hunk = {
    'DevFactory: next proposed hunk',
    function()
      M.jump(1)
    end,
  },
  prev_hunk = {
    'DevFactory: previous proposed hunk',
    function()
      M.jump(-1)
    end,
  },
}

local group = vim.api.nvim_create_augroup('devfactory.inline', { clear = true })
-- Entering or leaving diff mode (:DevFactory diff, its tab closed) changes what is drawn.
vim.api.nvim_create_autocmd('OptionSet', {
  group = group,
  pattern = 'diff',
  callback = function()
    M.refresh_all()
  end,
})
vim.api.nvim_create_autocmd('WinClosed', {
  group = group,
  callback = function()
    M.refresh_all()
  end,
})

--- The approve and reject keys in a buffer of what a run proposes (the proposed side of a diff
--- tab, a new file's proposal), where :DevFactory approve|reject take the hunk under the cursor.
---@param bufnr integer
function M.map_decisions(bufnr)
  for _, name in ipairs({ 'approve', 'reject' }) do
    local key = (config.options.review.keymaps or {})[name]
    if type(key) == 'string' and key ~= '' then
      vim.keymap.set('n', key, ACTIONS[name][2], { buffer = bufnr, desc = ACTIONS[name][1] })
    end
  end
end

--- The daemon attached to a buffer (lsp/devfactory.lua's on_attach): keymaps and drawing.
---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  if vim.b[bufnr].devfactory_inline then
    return
  end
  vim.b[bufnr].devfactory_inline = client.id
  for name, key in pairs(config.options.review.keymaps or {}) do
    local action = ACTIONS[name]
    if action and type(key) == 'string' and key ~= '' then
      vim.keymap.set('n', key, action[2], { buffer = bufnr, desc = action[1] })
    end
  end
  vim.api.nvim_create_autocmd('DiagnosticChanged', {
    buffer = bufnr,
    group = vim.api.nvim_create_augroup('devfactory.inline.' .. bufnr, { clear = true }),
    callback = function()
      M.schedule(bufnr)
    end,
  })
  M.schedule(bufnr)
end

return M
