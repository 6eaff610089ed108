-- :DevFactory {subcommand} — the plugin's only entry point. Modules load on first use.
if vim.g.loaded_devfactory then
  return
end
vim.g.loaded_devfactory = true

vim.api.nvim_create_user_command('DevFactory', function(opts)
  require('devfactory.commands').dispatch(opts)
end, {
  nargs = '*',
  range = true, -- :'<,'>DevFactory ask
  desc = 'DevFactory: runs, console, review, initiatives, search, snapshots (:help devfactory)',
  complete = function(arglead, cmdline)
    return require('devfactory.commands').complete(arglead, cmdline)
  end,
})
