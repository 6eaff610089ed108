--- The plugin's options: defaults, `setup(opts)` merging and validation.
---
--- Daemon settings (providers, index, commands) are not plugin options: they travel as the LSP
--- `init_options` (`settings` here) and the daemon validates them itself.
local M = {}

---@class devfactory.RunDefaults
---@field agent? string Agent role of new runs (daemon default: backend).
---@field provider? string Model provider (daemon default: the `defaultProvider` setting).
---@field model? string Model name (for the scripted provider: a script path).
---@field mode? 'review'|'yolo' Whether changes wait for review (daemon default: review).

---@class devfactory.ReviewKeymaps Buffer-local keys (false: no mapping).
---@field approve? string|false Approve the hunk under the cursor.
---@field reject? string|false Reject the hunk under the cursor.
---@field preview? string|false Show the hunk under the cursor as a diff in a float.
---@field next_hunk? string|false Jump to the next proposed hunk.
---@field prev_hunk? string|false Jump to the previous proposed hunk.

---@class devfactory.Options
---@field cmd? string[] Command that starts the daemon (default from lsp/devfactory.lua).
---@field root_markers? string[] Files that mark a project root.
---@field settings? table Daemon settings sent as initializationOptions (camelCase keys).
---@field enable? boolean Attach the daemon to project buffers (vim.lsp.enable). Default true.
---@field run? devfactory.RunDefaults Defaults for `:DevFactory run`.
---@field console? {open_on_run?: boolean, split?: string, follow?: boolean}
---@field search? {limit?: integer, open_quickfix?: boolean}
---@field notify? boolean Send important run events (summary, error, finish) to vim.notify.
---@field review? {inline?: boolean, keymaps?: devfactory.ReviewKeymaps} Proposed hunks drawn in buffers.

--- `cmd`, `root_markers` and `settings` default to lsp/devfactory.lua's values (unset here).
---@type devfactory.Options
M.defaults = {
  enable = true,
  run = {},
  console = {
    open_on_run = true,
    split = 'botright 15split',
    follow = true,
  },
  search = {
    limit = 50,
    open_quickfix = true,
  },
  notify = true,
  review = {
    inline = true,
    keymaps = {
      approve = '<leader>da',
      reject = '<leader>dr',
      preview = '<leader>dp',
      next_hunk = ']h',
      prev_hunk = '[h',
    },
  },
}

---@type devfactory.Options
M.options = vim.deepcopy(M.defaults)

local SCHEMA = {
  cmd = 'table',
  root_markers = 'table',
  settings = 'table',
  enable = 'boolean',
  run = 'table',
  console = 'table',
  search = 'table',
  notify = 'boolean',
  review = 'table',
}

--- Check option names and types; returns a list of problems, each naming the option and the fix.
---@param opts table
---@return string[]
local function problems_of(opts)
  local problems = {}
  for key, value in pairs(opts) do
    local expected = SCHEMA[key]
    if not expected then
      local known = vim.tbl_keys(SCHEMA)
      table.sort(known)
      table.insert(
        problems,
        ('unknown option %q (known: %s)'):format(tostring(key), table.concat(known, ', '))
      )
    elseif type(value) ~= expected then
      table.insert(problems, ('option %q must be a %s, got %s'):format(key, expected, type(value)))
    end
  end
  return problems
end

--- Merge `opts` over the defaults. Bad options are reported and ignored, never fatal.
---@param opts? devfactory.Options
---@return string[] problems
function M.set(opts)
  opts = opts or {}
  local problems = problems_of(opts)
  local clean = {}
  for key, value in pairs(opts) do
    if SCHEMA[key] and type(value) == SCHEMA[key] then
      clean[key] = value
    end
  end
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), clean)
  return problems
end

--- The `vim.lsp.Config` fields the options override (merged over lsp/devfactory.lua).
---@return vim.lsp.Config
function M.lsp_overrides()
  local o = M.options
  local overrides = {}
  if o.cmd then
    overrides.cmd = o.cmd
  end
  if o.root_markers then
    overrides.root_markers = o.root_markers
  end
  if o.settings then
    overrides.init_options = o.settings
  end
  return overrides
end

return M
