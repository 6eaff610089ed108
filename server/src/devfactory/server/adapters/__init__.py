"""Adapters: DevFactory spoken in the ecosystem's agent protocols.

``acp/`` serves the Agent Client Protocol (Zed, JetBrains, Emacs, Neovim) and ``mcp/`` the
Model Context Protocol (Claude Code, Cursor, Continue...). Each runs in its own process and
drives a DevFactory daemon it spawns as a child, through the typed ``devfactory/*`` client
(``devfactory.protocol.client``), exactly as the CLI does: no server internals are imported,
so the daemon stays the one place where runs, review and policy live.
"""
