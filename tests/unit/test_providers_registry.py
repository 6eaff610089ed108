"""``create_provider``: every provider from the settings, and every misconfiguration reported
as ProviderUnavailable naming what to set."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from devfactory.protocol.settings import ProviderSettings, Settings
from devfactory.server.agents.providers.anthropic_provider import AnthropicProvider
from devfactory.server.agents.providers.base import Message, ProviderUnavailable
from devfactory.server.agents.providers.claude_code import ClaudeCodeProvider
from devfactory.server.agents.providers.local_shell import LocalShellProvider
from devfactory.server.agents.providers.openai_provider import OpenAIProvider
from devfactory.server.agents.providers.readiness import local_address
from devfactory.server.agents.providers.redaction import redact
from devfactory.server.agents.providers.registry import BUILDERS, create_provider
from devfactory.server.agents.providers.scripted import ScriptedProvider
from devfactory.server.agents.providers.sdk import import_sdk
from devfactory.storage import Store

pytest_plugins = ["fakes.fixtures"]

SCRIPT = {"turns": [{"text": "Plan."}]}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "script.json").write_text(json.dumps(SCRIPT))
    (tmp_path / "broken.json").write_text('{"turns": [{"txet": 1}]}')
    return tmp_path


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "UNSET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTRY_KEY", "sk-registry-test-key")
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))


def build(
    name: str, config: ProviderSettings | None, store: Store, workspace: Path, model: str | None
) -> object:
    settings = Settings() if config is None else Settings(providers={name: config})
    return create_provider(name, settings, model=model, workspace=workspace, store=store)


BUILT = [
    pytest.param(
        "openai", ProviderSettings(model="m", api_key_env=["REGISTRY_KEY"]), None, OpenAIProvider
    ),
    pytest.param(
        "anthropic", ProviderSettings(api_key_env=["REGISTRY_KEY"]), "m", AnthropicProvider
    ),
    pytest.param("claude_code", ProviderSettings(executable="python3"), None, ClaudeCodeProvider),
    pytest.param(
        "local_shell", ProviderSettings(command=["python3", "{prompt}"]), None, LocalShellProvider
    ),
    pytest.param("scripted", None, "script.json", ScriptedProvider, id="scripted-model-path"),
    pytest.param(
        "scripted", ProviderSettings(script="script.json"), None, ScriptedProvider, id="scripted"
    ),
]


def test_every_default_provider_has_a_builder_in_the_one_registry():
    assert set(Settings().providers) == set(BUILDERS)


@pytest.mark.parametrize(("name", "config", "model", "kind"), BUILT)
async def test_builds_each_provider(
    name: str,
    config: ProviderSettings | None,
    model: str | None,
    kind: type,
    accounts_store: Store,
    workspace: Path,
) -> None:
    provider = build(name, config, accounts_store, workspace, model)
    assert isinstance(provider, kind)
    assert provider.name == name  # type: ignore[attr-defined]


async def test_the_model_argument_overrides_the_setting(
    accounts_store: Store, workspace: Path
) -> None:
    config = ProviderSettings(model="configured", api_key_env=["REGISTRY_KEY"])
    provider = build("openai", config, accounts_store, workspace, "chosen")
    assert provider.model == "chosen"  # type: ignore[attr-defined]


UNAVAILABLE = [
    pytest.param(
        "gemini", None, None, "unknown provider 'gemini'; choose one of: openai", id="unknown"
    ),
    pytest.param(
        "openai",
        ProviderSettings(api_key_env=["REGISTRY_KEY"]),
        None,
        "openai: no model chosen; set providers.openai.model or pass --model",
        id="openai-no-model",
    ),
    pytest.param(
        "openai",
        None,
        None,
        "openai: no API key: set OPENAI_API_KEY in the daemon's environment",
        id="openai-default-key-unset",
    ),
    pytest.param(
        "anthropic",
        ProviderSettings(model="m", api_key_env=["UNSET_KEY"]),
        None,
        "anthropic: no API key: set UNSET_KEY",
        id="anthropic-key-unset",
    ),
    pytest.param(
        "anthropic",
        ProviderSettings(model="m"),
        None,
        "anthropic: no API key configured; list the variables holding keys in "
        "providers.anthropic.apiKeyEnv",
        id="anthropic-no-key-variable",
    ),
    pytest.param(
        "claude_code",
        None,
        None,
        "claude_code: `claude` was not found on PATH; install it or set "
        "providers.claude_code.executable",
        id="claude-missing",
    ),
    pytest.param(
        "local_shell",
        ProviderSettings(),
        None,
        "local_shell: no command configured; set providers.local_shell.command",
        id="local-shell-no-command",
    ),
    pytest.param(
        "local_shell",
        None,
        None,
        "local_shell: `aider` was not found on PATH; install it or set "
        "providers.local_shell.command",
        id="local-shell-default-missing",
    ),
    pytest.param(
        "scripted",
        None,
        None,
        "scripted: no script; pass its path as the model or set providers.scripted.script",
        id="scripted-no-script",
    ),
]


@pytest.mark.parametrize(("name", "config", "model", "message"), UNAVAILABLE)
async def test_misconfiguration_says_what_to_set(
    name: str,
    config: ProviderSettings | None,
    model: str | None,
    message: str,
    accounts_store: Store,
    workspace: Path,
) -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        build(name, config, accounts_store, workspace, model)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        pytest.param("missing.json", "missing.json does not exist", id="missing"),
        pytest.param("broken.json", "broken.json is not a valid script", id="broken"),
    ],
)
async def test_a_script_is_read_on_the_first_turn_and_its_problem_fails_it(
    model: str, message: str, accounts_store: Store, workspace: Path
) -> None:
    """Building reads nothing (no I/O on the event loop); the first turn reads the script in
    a thread, and a missing or broken one is a ProviderUnavailable that fails the run."""
    provider = build("scripted", None, accounts_store, workspace, model)
    assert isinstance(provider, ScriptedProvider)
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.complete([Message(role="user", content="go")], [], lambda _: None)
    assert message in str(caught.value)


async def test_every_configured_key_is_redacted_whichever_provider_runs(
    accounts_store: Store, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_PROVIDER_KEY", "sk-other-provider-0123456789")
    settings = Settings(
        providers={
            "scripted": ProviderSettings(script="script.json"),
            "openai": ProviderSettings(api_key_env=["OTHER_PROVIDER_KEY"]),
        }
    )
    create_provider("scripted", settings, model=None, workspace=workspace, store=accounts_store)
    assert redact("echo sk-other-provider-0123456789") == "echo [redacted $OTHER_PROVIDER_KEY]"


async def test_a_missing_sdk_is_reported_as_unavailable() -> None:
    with pytest.raises(ProviderUnavailable, match="the `no_such_sdk` Python package"):
        await import_sdk("no_such_sdk", "openai")


async def test_creating_a_provider_imports_no_sdk() -> None:
    """Choosing a provider must not cost the daemon the SDK's import time."""
    code = (
        "import sys\n"
        "import devfactory.server.agents.providers.registry\n"
        "print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await process.communicate()
    assert stdout.decode().strip() == "[]"


@pytest.mark.parametrize(
    ("base_url", "address"),
    [
        ("http://localhost:11434/v1", ("localhost", 11434)),
        ("http://127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("http://127.5.5.5/v1", ("127.5.5.5", 80)),
        ("https://[::1]/v1", ("::1", 443)),
        ("https://api.openai.com/v1", None),
        ("http://10.0.0.7:11434", None),
        ("http://localhost:notaport", None),
    ],
)
def test_only_a_base_url_on_this_machine_is_probed(
    base_url: str, address: tuple[str, int] | None
) -> None:
    assert local_address(base_url) == address
