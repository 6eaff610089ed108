"""Which settings a workspace's own ``devfactory.toml`` may set, and the user's trust in it.

A workspace's files are the project's: any repository can commit a ``devfactory.toml``, and
opening it must not run its programs or send the user's keys anywhere. So the file sets, on its
own, only what shapes the work (:data:`PROJECT_SETTINGS`: what to index, agent instructions,
limits); whatever decides what runs as the user or where secrets go (providers and their
endpoints, commands and the sandbox, MCP servers, the embedder's endpoint, the team gateway,
storage, the default provider, mode and prices) is held back until the user trusted those exact
values (``devfactory trust``), like direnv's ``allow``. The record lives in the user's config
folder, outside every workspace; a change to the held-back values needs a new trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devfactory.protocol.settings import PROJECT_SETTINGS

from .paths import user_config_dir

TRUST_FILE = "trusted-workspaces.json"


def split(settings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the workspace file may set on its own, what waits for the user's trust)."""
    allowed: dict[str, Any] = {}
    held: dict[str, Any] = {}
    for key, value in settings.items():
        keys = PROJECT_SETTINGS.get(key, frozenset())
        if keys is None:
            allowed[key] = value
        elif isinstance(value, Mapping) and keys:
            inside = {k: v for k, v in value.items() if k in keys}
            rest = {k: v for k, v in value.items() if k not in keys}
            if inside:
                allowed[key] = inside
            if rest:
                held[key] = rest
        else:
            held[key] = value
    return allowed, held


def names(held: Mapping[str, Any]) -> list[str]:
    """The held-back settings by name, a section's keys one level down (``commands.sandbox``,
    ``providers.openai``)."""
    return [
        f"{key}.{inner}" if isinstance(value, Mapping) else key
        for key, value in held.items()
        for inner in (value if isinstance(value, Mapping) and value else [None])
    ]


def digest(content: Any) -> str:
    """What a trust is a trust in: the held-back values (whatever the rest of the file says),
    or a policy file's text."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def trust_file() -> Path:
    return user_config_dir() / TRUST_FILE


def _records() -> dict[str, dict[str, str]]:
    """Workspace (real path) -> source (``devfactory.toml``, the policy file) -> digest."""
    try:
        data = json.loads(trust_file().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    found = data.get("workspaces") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(k): dict(v) for k, v in found.items() if isinstance(v, dict)}


def is_trusted(root: Path, source: str, content: Any) -> bool:
    """Whether the user trusted exactly ``content`` of the workspace's ``source``."""
    return _records().get(os.path.realpath(root), {}).get(source) == digest(content)


def record(root: Path, trusted: Mapping[str, Any]) -> None:
    """Trust, for the workspace at ``root``, exactly these contents of its sources, and
    nothing else of it (an empty mapping takes its trust back)."""
    records = _records()
    key = os.path.realpath(root)
    records.pop(key, None)
    if trusted:
        records[key] = {source: digest(content) for source, content in trusted.items()}
    folder = trust_file().parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps({"workspaces": records}, indent=2, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{TRUST_FILE}.", dir=folder)
    try:  # whole or not at all: a trust file cut short would trust nothing, or the wrong thing
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, trust_file())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
