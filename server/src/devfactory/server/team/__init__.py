"""Team mode on the daemon's side: workers (``devfactory worker`` executes runs as procrastinate
jobs, each run under a lease whose epoch fences a worker that lost it), API tokens and their
abilities, team provider keys, ``[team]`` settings, the gateway (``devfactory gateway``) and the
local daemon's bridge to it."""
