--- DevFactory for Neovim: `setup(opts)` and the few functions statuslines and mappings use.
---
--- On Neovim 0.11 `vim.lsp.enable('devfactory')` alone attaches the daemon (lsp/devfactory.lua);
--- `setup()` adds plugin options and does the same on 0.10 through a FileType autocmd.
local config = require('devfactory.config')

local M = {}

local HAS_0_11 = vim.fn.has('nvim-0.11') == 1

--- The base config shipped in lsp/devfactory.lua (found on 'runtimepath').
---@return vim.lsp.Config
local function base_lsp_config()
  local file = vim.api.nvim_get_runtime_file('lsp/devfactory.lua', false)[1]
  assert(file, "lsp/devfactory.lua is not on 'runtimepath': is the plugin installed?")
  return dofile(file)
end

--- The effective `vim.lsp.Config` of the daemon: lsp/devfactory.lua, then the user's
--- `vim.lsp.config('devfactory', ...)` (0.11), then `setup()` options.
---@return vim.lsp.Config
function M.lsp_config()
  local resolved = HAS_0_11 and vim.lsp.config.devfactory or nil
  local base = resolved and vim.deepcopy(resolved) or base_lsp_config()
  return vim.tbl_deep_extend('force', base, config.lsp_overrides())
end

--- 0.10: start (or reuse) the daemon for file buffers inside a project.
local function attach_on_filetype()
  local group = vim.api.nvim_create_augroup('devfactory.attach', { clear = true })
  local function attach(bufnr)
    if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
      return
    end
    local lsp_config = M.lsp_config()
    local root = vim.fs.root(bufnr, lsp_config.root_markers)
    if root then
      lsp_config.name = 'devfactory'
      lsp_config.root_dir = root
      vim.lsp.start(lsp_config, { bufnr = bufnr, silent = true })
    end
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    callback = function(args)
      attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= '' then
      attach(bufnr)
    end
  end
end

--- Configure the plugin and attach the daemon to project buffers.
---@param opts? devfactory.Options
function M.setup(opts)
  local problems = config.set(opts)
  for _, problem in ipairs(problems) do
    require('devfactory.ui').warn('setup(): ' .. problem)
  end
  if HAS_0_11 then
    local overrides = config.lsp_overrides()
    if next(overrides) then
      vim.lsp.config('devfactory', overrides)
    end
    if config.options.enable then
      vim.lsp.enable('devfactory')
    end
  elseif config.options.enable then
    attach_on_filetype()
  end
end

--- The DevFactory LSP client serving the current buffer, if one runs.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  return require('devfactory.rpc').find(bufnr)
end

--- A short statusline string for the current buffer's project: active runs and pending questions,
--- e.g. `DF #3 running`; empty when nothing is going on.
---@return string
function M.status()
  local client = M.client()
  if not client then
    return ''
  end
  return require('devfactory.events').status(client.id)
end

return M
