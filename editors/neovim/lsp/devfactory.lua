---@brief
---
--- DevFactory: a local AI coding-agent daemon that speaks LSP plus `devfactory/*` methods.
---
--- On Neovim 0.11+:
--- ```lua
--- vim.lsp.enable('devfactory')
--- -- optional overrides, merged over this file:
--- vim.lsp.config('devfactory', {
---   cmd = { '/path/to/devfactory/.venv/bin/devfactory', 'serve', '--stdio' },
---   init_options = { defaultProvider = 'anthropic' },  -- daemon settings, camelCase
--- })
--- ```
--- On Neovim 0.10 call `require('devfactory').setup(opts)` instead; it starts the same config.
---
--- The daemon serves one workspace (the root found from `root_markers`) and attaches to every
--- file buffer inside it: it publishes proposed hunks as diagnostics and offers approve/reject
--- code actions there. The handlers below route the daemon's notifications to the plugin's
--- modules, which are only loaded when the first notification arrives. See `:help devfactory`.

---@type vim.lsp.Config
return {
  --- The daemon over stdio. Point it at a checkout's `.venv/bin/devfactory` if it is not on PATH.
  cmd = { 'devfactory', 'serve', '--stdio' },

  --- A project is the nearest folder with `devfactory.toml`, DevFactory state, or a git repo.
  root_markers = { 'devfactory.toml', '.devfactory', '.git' },

  --- Never start a daemon for a stray file outside any project.
  workspace_required = true,

  --- Daemon settings (see the `Settings` schema in docs/protocol.schema.json), e.g.
  --- `{ defaultProvider = 'openai', providers = { openai = { model = 'gpt-4.1' } } }`.
  init_options = vim.empty_dict(),

  --- This plugin warns of the workspace's settings that wait for your trust itself, naming
  --- `:DevFactory trust`, so the daemon leaves its own warning of them out.
  capabilities = {
    experimental = { [require('devfactory.constants').Capabilities.TRUST_REVIEW] = true },
  },

  --- Once the daemon runs: warn if the workspace's own settings wait for your trust. If you set
  --- your own on_init, call this from it.
  on_init = function(client)
    require('devfactory.trust').on_init(client)
  end,

  --- Proposed hunks drawn in the buffer, and the review keymaps (`review` option of
  --- `require('devfactory').setup()`). If you set your own on_attach, call this from it.
  on_attach = function(client, bufnr)
    require('devfactory.inline').attach(client, bufnr)
  end,

  --- `devfactory/*` notifications from the daemon.
  handlers = {
    ['devfactory/event'] = function(err, result, ctx)
      require('devfactory.events').on_event(err, result, ctx)
    end,
    ['devfactory/stream'] = function(err, result, ctx)
      require('devfactory.events').on_stream(err, result, ctx)
    end,
    ['devfactory/runChanged'] = function(err, result, ctx)
      require('devfactory.events').on_run_changed(err, result, ctx)
    end,
    ['devfactory/changeProposed'] = function(err, result, ctx)
      require('devfactory.events').on_change_proposed(err, result, ctx)
    end,
    ['devfactory/question'] = function(err, result, ctx)
      require('devfactory.questions').on_question(err, result, ctx)
    end,
    ['devfactory/initiativeChanged'] = function(err, result, ctx)
      require('devfactory.initiatives').on_changed(err, result, ctx)
    end,
    --- Results of code-action commands (approve, reject...): errors worded like the
    --- :DevFactory commands' instead of Neovim's raw `code: message`.
    ['workspace/executeCommand'] = function(err, result, ctx)
      require('devfactory.rpc').on_execute_command_result(err, result, ctx)
    end,
  },

  --- Code-action commands Neovim handles itself: "Show diff" opens a native diff tab.
  commands = {
    ['devfactory.showDiff'] = function(command, ctx)
      require('devfactory.review').on_show_diff_command(command, ctx)
    end,
  },
}
