"""The daemon's version: the one place it is written (the package's build reads it from here,
see ``[tool.hatch.version]``), so start-up does not parse package metadata to learn it."""

from __future__ import annotations

__version__ = "0.1.0"
