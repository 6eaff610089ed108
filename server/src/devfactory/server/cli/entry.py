"""The ``devfactory`` command's entry point.

``devfactory serve`` is what every editor starts, at every start-up, so it goes straight to
the daemon (:mod:`.serve`); any other command line is the click CLI (:mod:`.main`), which
loads only then.
"""

from __future__ import annotations

import sys

SERVE = (["serve"], ["serve", "--stdio"])


def main() -> None:
    if sys.argv[1:] in SERVE:
        from .serve import serve

        serve()
        return
    from .main import main as cli

    cli()
