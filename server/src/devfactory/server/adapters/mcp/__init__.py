"""``devfactory mcp``: the Model Context Protocol server over a DevFactory daemon."""
