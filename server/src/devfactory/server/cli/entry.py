"""The ``devfactory`` command's entry point.

``devfactory serve`` is what every editor starts, at every start-up, so it goes straight to
the daemon; any other command line is the click CLI (:mod:`.main`), which loads only then.
"""

from __future__ import annotations

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
    from ..logs import configure_startup_logging

    configure_startup_logging()
    from ..features import create_server

    create_server().start_io()
