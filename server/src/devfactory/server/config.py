"""Loading the typed settings from ``devfactory.toml`` and the editor's initializationOptions.

Defaults < ``devfactory.toml`` < initializationOptions. A source that does not validate is
reported (naming the field) and left out, so the daemon still starts, on what is valid.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from devfactory.protocol.settings import Settings

CONFIG_FILE = "devfactory.toml"
STORAGE_VARIABLE = "DEVFACTORY_STORAGE"
"""Names the store, over the ``storage`` setting: a team's database for every workspace (and
for ``devfactory demo``) without editing each one's devfactory.toml."""


#: Settings whose keys are names chosen by the user (``claude_code``, an MCP server's name, an
#: environment variable, a model), not field names.
_NAMED_MAPS = frozenset({"providers", "servers", "env", "models"})


def _to_camel(data: Any, *, keep_keys: bool = False) -> Any:
    """devfactory.toml may use snake_case keys; the Structs are camelCase on the wire.

    Keys of a named map (``providers``) are names chosen by the user and stay as written.
    """
    if isinstance(data, Mapping):
        converted = {}
        for key, value in data.items():
            name = str(key) if keep_keys else _camel(str(key))
            converted[name] = _to_camel(value, keep_keys=not keep_keys and name in _NAMED_MAPS)
        return converted
    if isinstance(data, list):
        return [_to_camel(v) for v in data]
    return data


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(root: Path, init_options: Any) -> tuple[Settings, list[str]]:
    """The effective settings and the problems found (each a message for the user)."""
    problems: list[str] = []
    sources: list[tuple[str, Any]] = []
    config_path = root / CONFIG_FILE
    if config_path.is_file():
        try:
            data = tomllib.loads(config_path.read_text("utf-8"))
            section = data.get("devfactory", data)
            sources.append((str(config_path), _to_camel(section)))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{config_path} is not valid TOML ({exc}); it was ignored")
    if isinstance(init_options, Mapping) and init_options:
        options = init_options.get("devfactory", init_options)
        sources.append(("initializationOptions", _to_camel(options)))

    merged: dict[str, Any] = msgspec.to_builtins(Settings())  # defaults, so maps merge into them
    for name, data in sources:
        if not isinstance(data, Mapping):
            problems.append(f"{name}: settings must be an object; ignored")
            continue
        candidate = _merge(merged, data)
        try:
            msgspec.convert(candidate, Settings)
        except msgspec.ValidationError as exc:
            problems.append(f"{name}: {exc}; these settings were ignored, defaults apply")
            continue
        merged = candidate
    return msgspec.convert(merged, Settings), problems


def storage_location(settings: Settings, workspace_database: Path) -> str | Path:
    """Where the store lives: ``DEVFACTORY_STORAGE``, else the ``storage`` setting, else the
    workspace's own SQLite file."""
    return os.environ.get(STORAGE_VARIABLE) or settings.storage or workspace_database
