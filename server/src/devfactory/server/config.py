"""Loading the typed settings from ``devfactory.toml`` and the editor's initializationOptions.

Defaults < ``devfactory.toml`` < initializationOptions. A source that does not validate is
reported (naming the field) and left out, so the daemon still starts, on what is valid.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from devfactory.protocol.settings import Settings

CONFIG_FILE = "devfactory.toml"


def _to_camel(data: Any) -> Any:
    """devfactory.toml may use snake_case keys; the Structs are camelCase on the wire."""
    if isinstance(data, Mapping):
        return {_camel(str(k)): _to_camel(v) for k, v in data.items()}
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

    merged: dict[str, Any] = {}
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
