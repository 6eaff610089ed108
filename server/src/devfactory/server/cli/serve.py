"""``devfactory serve``: the daemon as a language server on stdio, what every editor starts.

Both the entry point (which goes straight here for ``serve``) and the click CLI use it; it
imports neither of them.
"""

from __future__ import annotations

import gc


def serve() -> None:
    """Start the daemon as a language server on stdio."""
    # Start-up allocates a lot and frees little (lsprotocol alone builds ~600 classes): the
    # collector's full passes over it would cost the editor tens of milliseconds for nothing.
    # No collection until the daemon is built; what it built then lives as long as the
    # daemon, so it is kept out of every later collection too.
    gc.disable()
    from ..logs import configure_startup_logging

    configure_startup_logging()
    from ..features import create_server

    server = create_server()
    gc.freeze()
    gc.enable()
    server.start_io()
