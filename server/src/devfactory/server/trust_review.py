"""Reviewing and granting a workspace's trust (:mod:`.trust`): the one path of both
``devfactory trust`` and the editors' ``devfactory/workspace/*`` requests.

A grant names the digest of what the user was shown, and records the values that digest was
computed from, read once: values changed after the user read them are refused, never trusted
in their place (no gap between what was checked and what is recorded).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devfactory.protocol.trust import TrustSource, WorkspaceTrust

from . import trust
from .config import CONFIG_FILE, trusted_sources


class TrustChanged(Exception):
    """What the user reviewed is not what the workspace sets now."""


def shown(source: str, content: Any) -> str:
    """``content`` of ``source`` as the user reviews it: settings as JSON, a policy's text."""
    if source == CONFIG_FILE:
        return json.dumps(content, indent=2, sort_keys=True)
    return str(content).rstrip("\n")


def _status(root: Path, sources: Mapping[str, Any]) -> WorkspaceTrust:
    found = [
        TrustSource(
            source=source,
            path=str(root / source),
            text=shown(source, content),
            trusted=trust.is_trusted(root, source, content),
        )
        for source, content in sources.items()
    ]
    return WorkspaceTrust(
        root=str(root),
        sources=found,
        digest=trust.digest(dict(sources)),
        trusted=all(item.trusted for item in found),
    )


def status(root: Path) -> WorkspaceTrust:
    """What of the workspace at ``root`` waits for the user's trust, and whether it has it."""
    return _status(root, trusted_sources(root))


def grant(root: Path, seen: str) -> WorkspaceTrust:
    """Trust what the workspace sets now, if it is what the user saw (``seen``: the digest
    :func:`status` gave); :class:`TrustChanged` otherwise."""
    sources = trusted_sources(root)
    if not sources:
        raise TrustChanged(f"{root} sets nothing that needs your trust")
    if trust.digest(sources) != seen:
        raise TrustChanged(
            f"{root}'s settings changed since you reviewed them; nothing was trusted:"
            " review them again"
        )
    trust.record(root, sources)
    return _status(root, sources)


def revoke(root: Path) -> WorkspaceTrust:
    """Take back the trust of the workspace at ``root`` (all of its sources)."""
    trust.record(root, {})
    return status(root)
