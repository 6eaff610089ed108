"""A workspace's settings that wait for the user's trust: ``devfactory/workspace/*``.

What a workspace's own files set beyond the project's settings (providers, commands and the
sandbox, MCP servers, the gateway, storage...) applies once the user trusted those exact values.
These methods let the user's editor show them and record the user's answer. They are the local
user's alone: the team gateway refuses them for every token, ``admin`` included.
"""

from __future__ import annotations

from ._base import Model, Params


class TrustSource(Model, kw_only=True):
    """One file of the workspace whose settings wait for the user's trust."""

    source: str
    """The file, relative to the workspace: ``devfactory.toml``, ``.devfactory/commands.toml``."""
    path: str
    """The file's absolute path."""
    text: str
    """What would apply, as the user reviews it: devfactory.toml's held-back settings as JSON,
    the command policy file's text as it is."""
    trusted: bool
    """Whether the user trusted exactly these values."""


class WorkspaceTrust(Model, kw_only=True):
    """Result of ``devfactory/workspace/trustStatus``, ``trust`` and ``revokeTrust``."""

    root: str
    """The workspace folder the trust is recorded for."""
    sources: list[TrustSource]
    """Every file with settings that need trust; empty when the workspace sets none."""
    digest: str
    """A digest of every source's values as shown: ``devfactory/workspace/trust`` takes it
    back, so values that changed after the user read them are refused, not trusted."""
    trusted: bool
    """Whether every source is trusted as it is now (true when there is nothing to trust)."""


class WorkspaceTrustParams(Params, kw_only=True):
    """Parameters of ``devfactory/workspace/trust``."""

    digest: str
    """The ``digest`` of the ``trustStatus`` answer the user reviewed."""
