"""``devfactory acp``: the Agent Client Protocol agent over a DevFactory daemon."""
