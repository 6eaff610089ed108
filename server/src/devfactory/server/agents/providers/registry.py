"""Creating the provider a run asked for, from the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devfactory.protocol.settings import Settings

from .base import ProviderUnavailable
from .scripted import ScriptedProvider, load_script


def create_provider(
    name: str, settings: Settings, *, model: str | None, workspace: Path, store: Any
) -> Any:
    """The ChatProvider or AutonomousProvider called ``name``."""
    if name == "scripted":
        script = model or settings.providers["scripted"].script
        if not script:
            raise ProviderUnavailable(
                "scripted provider: name a script file as the run's model "
                "or set providers.scripted.script"
            )
        path = Path(script) if Path(script).is_absolute() else workspace / script
        return ScriptedProvider(load_script(path), model=script)
    raise ProviderUnavailable(f"provider {name!r} is not available yet")
