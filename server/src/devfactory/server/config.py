"""Loading the typed settings from ``devfactory.toml`` files and the editor's
initializationOptions.

Defaults < the user's ``devfactory.toml`` (in their config folder) < the workspace's
``devfactory.toml`` (what the user trusted of it: :mod:`.trust`) < initializationOptions. A
source that does not validate is reported (naming the field) and left out, so the daemon still
starts, on what is valid.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from devfactory.protocol.settings import Settings

from . import trust
from .paths import STATE_DIR_NAME, user_config_dir

CONFIG_FILE = "devfactory.toml"
POLICY_SOURCE = f"{STATE_DIR_NAME}/commands.toml"
"""The command policy a workspace may hold (the ``policy_file`` setting names another)."""
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


def user_config_file() -> Path:
    """The user's own settings, for every workspace (trusted, unlike a workspace's file)."""
    return user_config_dir() / CONFIG_FILE


def read_config(path: Path, problems: list[str]) -> Any:
    """A devfactory.toml's settings (camelCase), or None when absent or not TOML."""
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path} is not valid TOML ({exc}); it was ignored")
        return None
    return _to_camel(data.get("devfactory", data))


def load_settings(
    root: Path, init_options: Any, *, report_held_back: bool = True
) -> tuple[Settings, list[str]]:
    """The effective settings and the problems found (each a message for the user).

    The workspace's devfactory.toml is the project's: what it sets beyond
    :data:`.trust.PROJECT_SETTINGS` applies only once the user trusted it (:mod:`.trust`).
    Without ``report_held_back`` that is not a problem to report: the editor warns of it.
    """
    problems: list[str] = []
    sources: list[tuple[str, Any]] = []
    user_file = user_config_file()
    if (data := read_config(user_file, problems)) is not None:
        sources.append((str(user_file), data))
    config_path = root / CONFIG_FILE
    if isinstance(data := read_config(config_path, problems), Mapping):
        allowed, held = trust.split(data)
        if held and not trust.is_trusted(root, CONFIG_FILE, held):
            if report_held_back:
                problems.append(untrusted(config_path, held, user_file))
            data = allowed
        sources.append((str(config_path), data))
    elif data is not None:
        sources.append((str(config_path), data))
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


def trusted_sources(root: Path) -> dict[str, Any]:
    """What of the workspace waits for the user's trust, as ``devfactory trust`` records it:
    the held-back settings of its devfactory.toml and the text of its command policy file
    (``.devfactory/commands.toml``), each when there is any."""
    found: dict[str, Any] = {}
    data = read_config(root / CONFIG_FILE, [])
    if isinstance(data, Mapping) and (held := trust.split(data)[1]):
        found[CONFIG_FILE] = held
    with contextlib.suppress(OSError, UnicodeDecodeError):
        found[POLICY_SOURCE] = (root / POLICY_SOURCE).read_text("utf-8")
    return found


def untrusted(config_path: Path, held: Mapping[str, Any], user_file: Path) -> str:
    """Why some of a workspace's settings did not apply, and how to apply them."""
    return (
        f"{config_path} sets {', '.join(trust.names(held))}: settings that decide what runs as"
        " you or where your keys go, so they apply only once you trust them. Review and trust"
        f" them with `devfactory trust -w {config_path.parent}`, or set them in {user_file} or"
        " the editor's settings; until then they were ignored"
    )


def storage_location(settings: Settings, workspace_database: Path) -> str | Path:
    """Where the store lives: ``DEVFACTORY_STORAGE``, else the ``storage`` setting, else the
    workspace's own SQLite file."""
    return os.environ.get(STORAGE_VARIABLE) or settings.storage or workspace_database
