--- A phase's combined diff (`devfactory/phases/diff`) in a buffer, opened from the initiatives
--- tree, where `c` comments on the line under the cursor (`devfactory/phases/comment`). The
--- comments go to the agents when the user requests changes on the phase.
local async = require('devfactory.async')
local constants = require('devfactory.constants')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local M = {}

---@class devfactory.DiffPlace
---@field path string
---@field line integer 1-based, in the file's version on `side`
---@field side 'old'|'new'

--- The diff text of a phase's files, and where each of its lines is in the files: nil for
--- headers, the new side for added and context lines, the old side for removed ones.
---@param files table[] PhaseFileDiff records
---@return string[] lines, table<integer, devfactory.DiffPlace> places
function M.lines(files)
  local lines, places = {}, {}
  for _, file in ipairs(files) do
    local old, new
    for _, text in ipairs(vim.split(file.diff, '\n', { plain = true, trimempty = true })) do
      table.insert(lines, text)
      local a, c = text:match('^@@ %-(%d+),?%d* %+(%d+),?%d* @@')
      local mark = text:sub(1, 1)
      if a then
        old, new = tonumber(a), tonumber(c)
      elseif old and (mark == ' ' or mark == '+') then
        places[#lines] = { path = file.path, line = new, side = constants.DiffSide.NEW }
        new = new + 1
        old = old + (mark == ' ' and 1 or 0)
      elseif old and mark == '-' then
        places[#lines] = { path = file.path, line = old, side = constants.DiffSide.OLD }
        old = old + 1
      end
    end
  end
  return lines, places
end

--- Open the combined diff of `phase` (inside a command coroutine).
---@param client vim.lsp.Client
---@param phase table Phase
---@return integer buf
function M.open(client, phase)
  local diff = rpc.call(constants.Requests.PHASES_DIFF, { phaseId = phase.id }, { client = client })
  local lines, places = M.lines(diff.files)
  local text = #lines > 0 and table.concat(lines, '\n') or '(the phase changed nothing)'
  local root = vim.fs.basename(rpc.root(client) or '')
  local buf = ui.show(('devfactory://%s/phase/%d'):format(root, phase.id), text, 'diff')
  vim.keymap.set('n', 'c', function()
    async.run(function()
      local place = places[vim.api.nvim_win_get_cursor(0)[1]]
      if not place then
        async.fail('put the cursor on a changed or context line of a file to comment on it')
      end
      local where = ('%s:%d'):format(place.path, place.line)
      local body = ui.input({ prompt = ('Comment on %s: '):format(where) })
      if not body or vim.trim(body) == '' then
        return
      end
      local params = vim.tbl_extend('force', place, { phaseId = phase.id, body = body })
      rpc.call(constants.Requests.PHASES_COMMENT, params, { client = client })
      ui.info(
        ('comment on %s saved: request changes on %s (x in the tree) to send it'):format(
          where,
          phase.name
        )
      )
    end)
  end, { buffer = buf, desc = 'Comment on this line of the phase' })
  return buf
end

return M
