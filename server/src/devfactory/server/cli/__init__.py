"""The ``devfactory`` command line: a real client of the daemon's protocol."""
