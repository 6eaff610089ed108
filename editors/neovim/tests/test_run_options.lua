-- Starting a run quickly: :DevFactory run refuses at once, with the fix, when the daemon's
-- health says the provider it would use cannot run (checkhealth says so too), a run without
-- options takes those of the project's last run, and a working run is LSP progress.
package.path = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/?.lua;' .. package.path
local h = require('helpers')

local root = h.workspace({
  ['app.py'] = 'x = 1\n',
  ['scripts/hi.json'] = h.script({ { text = 'Plan: say hi.' }, h.finish_turn('Said hi.') }),
})
local client, notes = h.start(root, 'app.py', {
  console = { open_on_run = false },
  settings = {
    defaultProvider = 'openai',
    providers = { openai = { apiKeyEnv = { 'DEVFACTORY_TEST_UNSET_KEY' } } },
  },
})

local function runs()
  return h.request(client, 'devfactory/runs/list', { limit = 10 }).runs
end

h.test('a provider that cannot run is refused before the run, with the fix', function()
  h.eq('one clean error naming the variable and the way out', {
    message = "DevFactory: openai: no API key: set DEVFACTORY_TEST_UNSET_KEY in the daemon's environment (or list other variables in providers.openai.apiKeyEnv); fix it (:checkhealth devfactory) or choose another with --provider=",
    level = vim.log.levels.ERROR,
  }, h.first_note(notes, 'DevFactory run Say hi'))
  h.eq('no run was made', {}, runs())
end)

h.test('checkhealth says the provider cannot run', function()
  vim.cmd('checkhealth devfactory')
  local buf = vim.api.nvim_get_current_buf()
  local text = h.wait(20000, function()
    local joined = table.concat(h.lines(buf), '\n')
    return joined:find('provider openai', 1, true) and joined
  end) or table.concat(h.lines(buf), '\n')
  h.check(
    'a warning with the problem',
    text:find('WARNING provider openai cannot run: openai: no API key', 1, true) ~= nil,
    text
  )
  vim.cmd('bwipeout ' .. buf)
end)

local progress = {}
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(args)
    local value = args.data.params.value
    table.insert(progress, { value.kind, value.kind == 'begin' and value.title or value.message })
  end,
})

h.test('a run without options takes those of the last run', function()
  h.cmd('DevFactory run --provider=scripted --model=scripts/hi.json Say hi')
  h.wait_note(notes, 'run #1 started')
  h.cmd('DevFactory run Say hi again')
  local listed = h.wait(10000, function()
    local found = runs()
    return #found == 2 and found
  end) or runs()
  h.eq(
    'both runs use the scripted provider and the script',
    { { 'scripted', 'scripts/hi.json' }, { 'scripted', 'scripts/hi.json' } },
    vim.tbl_map(function(run)
      return { run.provider, run.model }
    end, listed)
  )
  h.check(
    'each run shows as LSP progress (fidget.nvim, statuslines)',
    h.wait(10000, function()
      local seen = vim.tbl_map(function(item)
        return item[1] .. ' ' .. tostring(item[2])
      end, progress)
      return vim.list_contains(seen, 'begin DevFactory run #1')
        and vim.list_contains(seen, 'report Plan')
        and vim.list_contains(seen, 'end completed')
    end),
    progress
  )
  h.eq(
    'remembered for the project',
    { provider = 'scripted', model = 'scripts/hi.json' },
    require('devfactory.runs').remembered(root)
  )
end)

h.finish()
