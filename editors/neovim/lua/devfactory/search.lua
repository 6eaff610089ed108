--- `:DevFactory search {query}` (quickfix from `devfactory/search`) and `:DevFactory index`
--- (`devfactory/index/rebuild`; its progress arrives as standard LSP `$/progress`, so it shows
--- wherever `LspProgress` is shown: the statusline, fidget.nvim, `vim.lsp.status()`).
local async = require('devfactory.async')
local config = require('devfactory.config')
local constants = require('devfactory.constants')
local format = require('devfactory.format')
local rpc = require('devfactory.rpc')
local ui = require('devfactory.ui')

local M = {}

--- The quickfix items of a search result.
---@param client vim.lsp.Client
---@param result table SearchResult
---@return table[]
function M.to_quickfix(client, result)
  local items = {}
  for _, hit in ipairs(result.hits) do
    local text = format.first_line(hit.snippet)
    if type(hit.symbol) == 'string' and hit.symbol ~= '' then
      text = hit.symbol .. ': ' .. text
    end
    table.insert(items, {
      filename = rpc.absolute(client, hit.path),
      lnum = hit.startLine,
      end_lnum = hit.endLine,
      text = text,
    })
  end
  return items
end

--- `:DevFactory search {query}`
---@param fargs string[]
function M.search(fargs)
  local query = table.concat(fargs, ' ')
  if vim.trim(query) == '' then
    query = ui.input({ prompt = 'DevFactory search: ' })
    if not query or vim.trim(query) == '' then
      return
    end
  end
  local result, client =
    rpc.call(constants.Requests.SEARCH, { query = query, limit = config.options.search.limit })
  local items = M.to_quickfix(client, result)
  vim.fn.setqflist({}, ' ', { title = 'DevFactory search: ' .. query, items = items })
  if #items == 0 then
    ui.info(('no results for %q'):format(query))
    return
  end
  if config.options.search.open_quickfix then
    vim.cmd('botright copen')
  end
end

--- `:DevFactory index [full]`
---@param fargs string[]
function M.rebuild(fargs)
  if fargs[1] and fargs[1] ~= 'full' then
    async.fail(('index takes nothing or "full", got %q'):format(fargs[1]))
  end
  local full = fargs[1] == 'full'
  ui.info(full and 'rebuilding the whole index...' or 'updating the index...')
  local result = rpc.call(constants.Requests.INDEX_REBUILD, { full = full })
  ui.info(
    ('indexed %s (%d unchanged, %d removed, %d skipped): %s in %.0f ms'):format(
      format.count(result.filesIndexed, 'file'),
      result.filesUnchanged,
      result.filesRemoved,
      result.filesSkipped,
      format.count(result.chunks, 'chunk'),
      result.durationMs
    )
  )
end

return M
