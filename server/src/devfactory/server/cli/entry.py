"""The ``devfactory`` command's entry point.

``devfactory serve`` is what every editor starts, at every start-up, so it goes straight to
the daemon; any other command line is the click CLI (:mod:`.main`), which loads only then.
"""

from __future__ import annotations

import gc
import sys

SERVE = (["serve"], ["serve", "--stdio"])


def main() -> None:
    if sys.argv[1:] in SERVE:
        serve()
        return
    from .main import main as cli

    cli()


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
