"""The daemon's settings: one typed, fully defaulted source of truth.

Editors send them as ``initializationOptions`` (and ``workspace/configuration`` section
``devfactory``); ``devfactory.toml`` at the workspace root may set them too. The JSON Schema
generated from these Structs feeds the VS Code ``contributes.configuration`` and the docs.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ._base import Params
from .commands import PolicyEntry
from .enums import ExecutionMode

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class Section(Params, kw_only=True):
    """A settings section: unknown keys are refused by name."""


class ProviderSettings(Section, kw_only=True):
    """Connection settings of one model provider."""

    model: str | None = None
    base_url: str | None = None
    """OpenAI-compatible servers (Ollama, vLLM, llama.cpp, LM Studio) and proxies."""
    api_key_env: list[str] = []
    """Environment variables holding API keys; several keys rotate round-robin."""
    executable: str | None = None
    """For claude_code: the ``claude`` CLI."""
    command: list[str] = []
    """For local_shell: argv template; ``{prompt}`` and ``{model}`` are substituted.
    For claude_code: extra CLI arguments (default ``--permission-mode acceptEdits``)."""
    script: str | None = None
    """For scripted: path of the JSON script to replay."""
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 600.0


def _default_providers() -> dict[str, ProviderSettings]:
    return {
        "openai": ProviderSettings(model="gpt-4.1-mini", api_key_env=["OPENAI_API_KEY"]),
        "anthropic": ProviderSettings(model="claude-sonnet-4-5", api_key_env=["ANTHROPIC_API_KEY"]),
        "claude_code": ProviderSettings(executable="claude"),
        "local_shell": ProviderSettings(command=["aider", "--yes", "--message", "{prompt}"]),
        "scripted": ProviderSettings(),
    }


class IndexSettings(Section, kw_only=True):
    """Workspace indexing."""

    enabled: bool = True
    watch: bool = True
    """Re-index files changed outside the editor (git checkout, formatters)."""
    max_file_bytes: PositiveInt = 1_000_000
    embedder: Literal["wordllama", "openai", "none"] = "wordllama"
    embedding_model: str | None = None
    embedding_base_url: str | None = None
    exclude: list[str] = []
    """Extra gitignore-style patterns to leave out."""


class CommandSettings(Section, kw_only=True):
    """Command execution: the sandbox, the limits and the allowlist policy (docs/security.md).

    The same keys may live in ``.devfactory/commands.toml`` (or ``policy_file``), which then
    takes precedence and is re-read when it changes.
    """

    sandbox: bool = True
    """Run commands under bubblewrap (no network, read-only outside the worktree) when present."""
    default_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    kill_grace_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 3.0
    """Time between SIGTERM and SIGKILL when a command is stopped."""
    max_output_mb: PositiveInt = 512
    """A command whose stdout plus stderr grow past this is stopped."""
    max_processes: Annotated[int, msgspec.Meta(ge=8)] = 2048
    """Tasks (processes and threads) per command; enforced where a pids cgroup is writable."""
    pass_env: list[str] = []
    """Extra environment variables passed to commands (secret-looking names are refused)."""
    replace_defaults: bool = False
    """Use only ``allow``; otherwise ``allow`` comes first and the built-in defaults follow."""
    allow: list[PolicyEntry] = []
    """Allowed programs, first match wins."""
    policy_file: str | None = None
    """Defaults to ``.devfactory/commands.toml``, else ``[commands]`` in devfactory.toml."""


class Settings(Section, kw_only=True):
    """Every setting of the daemon, with its default."""

    default_provider: str = "openai"
    default_agent: str = "backend"
    default_mode: ExecutionMode = ExecutionMode.REVIEW
    max_concurrent_runs: Annotated[int, msgspec.Meta(ge=1, le=16)] = 2
    max_steps: Annotated[int, msgspec.Meta(ge=1, le=500)] = 40
    providers: dict[str, ProviderSettings] = msgspec.field(default_factory=_default_providers)
    index: IndexSettings = msgspec.field(default_factory=IndexSettings)
    commands: CommandSettings = msgspec.field(default_factory=CommandSettings)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
