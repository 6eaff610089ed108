"""Team mode on the daemon's side: API tokens and their abilities, team provider keys,
``[team]`` settings, the gateway (``devfactory gateway``) and the local daemon's bridge to it."""
