"""The daemon's settings: one typed, fully defaulted source of truth.

Editors send them as ``initializationOptions`` (and ``workspace/configuration`` section
``devfactory``); ``devfactory.toml`` at the workspace root may set them too. The JSON Schema
generated from these Structs (descriptions included) feeds the VS Code
``contributes.configuration`` and the docs, so each setting is described once, here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from ._base import Params
from .commands import PolicyEntry
from .enums import ExecutionMode


def doc(text: str, **constraints: Any) -> msgspec.Meta:
    """A setting's description (shown in editors' settings UIs) and its constraints."""
    return msgspec.Meta(description=text, **constraints)


class Section(Params, kw_only=True):
    """A settings section: unknown keys are refused by name."""


class ProviderSettings(Section, kw_only=True):
    """Connection settings of one model provider."""

    model: Annotated[str | None, doc("Model to use when a run names none.")] = None
    base_url: Annotated[
        str | None,
        doc(
            "API base URL: OpenAI-compatible servers (Ollama, vLLM, llama.cpp, LM Studio), proxies."
        ),
    ] = None
    api_key_env: Annotated[
        list[str],
        doc("Environment variables holding API keys; several keys rotate round-robin on 429."),
    ] = []
    executable: Annotated[str | None, doc("For claude_code: the `claude` CLI to run.")] = None
    command: Annotated[
        list[str],
        doc(
            "For local_shell: the argv template ({prompt} and {model} are substituted). "
            "For claude_code: extra CLI arguments (default --permission-mode acceptEdits)."
        ),
    ] = []
    script: Annotated[str | None, doc("For scripted: the JSON script to replay.")] = None
    timeout_s: Annotated[float, doc("Seconds a model call or agent task may take.", gt=0)] = 600.0


def _default_providers() -> dict[str, ProviderSettings]:
    return {
        "openai": ProviderSettings(model="gpt-4.1-mini", api_key_env=["OPENAI_API_KEY"]),
        "anthropic": ProviderSettings(model="claude-sonnet-4-5", api_key_env=["ANTHROPIC_API_KEY"]),
        "claude_code": ProviderSettings(executable="claude"),
        "local_shell": ProviderSettings(command=["aider", "--yes", "--message", "{prompt}"]),
        "scripted": ProviderSettings(),
    }


_PROVIDER_DEFAULTS = msgspec.to_builtins(_default_providers())


class IndexSettings(Section, kw_only=True):
    """Workspace indexing."""

    enabled: Annotated[bool, doc("Index the workspace for search and run context.")] = True
    watch: Annotated[
        bool, doc("Re-index files changed outside the editor (git checkout, formatters).")
    ] = True
    pass_on_start: Annotated[
        bool,
        doc(
            "Bring the index up to date as soon as the daemon starts (a daemon started for one"
            " CLI command asks for its own pass instead)."
        ),
    ] = True
    max_file_bytes: Annotated[int, doc("Files larger than this are not indexed.", ge=1)] = 1_000_000
    embedder: Annotated[
        Literal["wordllama", "openai", "none"],
        doc("Semantic search embeddings: bundled WordLlama, an OpenAI-compatible API, or none."),
    ] = "wordllama"
    embedding_model: Annotated[str | None, doc("Embedding model for the openai embedder.")] = None
    embedding_base_url: Annotated[
        str | None, doc("Base URL for the openai embedder (e.g. Ollama's).")
    ] = None
    exclude: Annotated[list[str], doc("Extra gitignore-style patterns to leave out.")] = []


class CommandSettings(Section, kw_only=True):
    """Command execution: the sandbox, the limits and the allowlist policy (docs/security.md).

    The same keys may live in ``.devfactory/commands.toml`` (or ``policy_file``), which then
    takes precedence and is re-read when it changes.
    """

    sandbox: Annotated[
        bool,
        doc("Run commands under bubblewrap: no network, read-only outside the worktree."),
    ] = True
    allow_unsandboxed: Annotated[
        bool,
        doc(
            "Without a working sandbox, run commands that execute the project's code (tests,"
            " builds) without asking; otherwise each run asks you first."
        ),
    ] = False
    default_timeout_s: Annotated[float, doc("Seconds a command may run.", gt=0)] = 300.0
    kill_grace_s: Annotated[
        float, doc("Seconds between SIGTERM and SIGKILL when a command is stopped.", gt=0, le=60)
    ] = 3.0
    max_output_mb: Annotated[
        int, doc("A command whose stdout plus stderr grow past this many MB is stopped.", ge=1)
    ] = 512
    max_processes: Annotated[
        int, doc("Processes and threads per command, where a pids cgroup is writable.", ge=8)
    ] = 2048
    pass_env: Annotated[
        list[str],
        doc("Extra environment variables passed to commands (secret-looking names are refused)."),
    ] = []
    replace_defaults: Annotated[
        bool,
        doc("Use only `allow`; otherwise `allow` comes first and the built-in defaults follow."),
    ] = False
    allow: Annotated[list[PolicyEntry], doc("Allowed programs, first match wins.")] = []
    policy_file: Annotated[
        str | None,
        doc("Policy file (default .devfactory/commands.toml, else [commands] in devfactory.toml)."),
    ] = None


class McpServerSettings(Section, kw_only=True):
    """An MCP server whose tools runs may use: ``[mcp.servers.NAME]`` in devfactory.toml."""

    command: Annotated[str, doc("The program that starts the server (it speaks MCP on stdio).")]
    args: Annotated[list[str], doc("Its arguments.")] = []
    env: Annotated[
        dict[str, str], doc("Environment variables set for it (on top of a minimal environment).")
    ] = {}
    allowed_tools: Annotated[
        list[str] | None,
        doc("The server's tools offered to the model (default: every tool it lists)."),
    ] = None
    auto_approve: Annotated[
        list[str],
        doc("Tools called without asking you; every other call is a question to you first."),
    ] = []
    timeout_s: Annotated[
        float, doc("Seconds the server may take to start, and each tool call.", gt=0)
    ] = 60.0


class McpSettings(Section, kw_only=True):
    """The Model Context Protocol: servers runs use, and what ``devfactory mcp`` serves."""

    servers: Annotated[
        dict[str, McpServerSettings],
        doc("MCP servers by name; their tools are offered to runs as mcp__NAME__TOOL."),
    ] = {}
    allow_run_creation: Annotated[
        bool,
        doc("`devfactory mcp` also offers create_run (otherwise it is read-only)."),
    ] = False


class ReviewSettings(Section, kw_only=True):
    """How proposed changes show in editors."""

    diagnostics: Annotated[
        Literal["hint", "information", "off"],
        doc(
            "Severity of the diagnostic on each proposed hunk: hint stays out of the Problems "
            "panel (the code actions work the same), information shows it there, off publishes "
            "none (review through the plugins' own views and commands)."
        ),
    ] = "hint"


class ModelSettings(Section, kw_only=True):
    """What a model costs and how much it can read: one row of the price table.

    Prices are US dollars per million tokens. The daemon ships a table of current models
    (``docs/providers.md``); an entry here replaces the shipped row of the same name.
    """

    input_usd: Annotated[float, doc("Price of a million input tokens.", ge=0)] = 0.0
    cached_input_usd: Annotated[
        Annotated[float, msgspec.Meta(ge=0)] | None,
        doc("Price of a million input tokens read from the provider's cache (default: input)."),
    ] = None
    output_usd: Annotated[float, doc("Price of a million output tokens.", ge=0)] = 0.0
    context_window: Annotated[
        Annotated[int, msgspec.Meta(ge=1)] | None,
        doc("Tokens the model reads at most; conversations are compacted before."),
    ] = None


class AgentSettings(Section, kw_only=True):
    """What the agent is told and how much of it: project rules, attachments, the context
    window and the price table."""

    instructions: Annotated[
        str,
        doc(
            "Project instructions for every run, after the rules files (AGENTS.md, CLAUDE.md, "
            ".clinerules...), so they take precedence."
        ),
    ] = ""
    rules_max_chars: Annotated[
        int, doc("Characters of rules files a prompt takes; the rest is cut, with a warning.", ge=0)
    ] = 32_000
    attachment_max_chars: Annotated[
        int,
        doc(
            "Characters of attached context (files, selections, @mentions) a message takes; "
            "larger attachments are cut and the model is told what was cut.",
            ge=0,
        ),
    ] = 48_000
    compact_at: Annotated[
        float,
        doc(
            "Compact the conversation when it fills this share of the model's context window: "
            "old tool outputs are shortened first, then older turns summarized.",
            gt=0,
            le=1,
        ),
    ] = 0.8
    default_context_window: Annotated[
        int, doc("Context window of models the price table does not know.", ge=1024)
    ] = 128_000
    models: Annotated[
        dict[str, ModelSettings],
        doc("Price and context window per model name, over the shipped table."),
    ] = {}


class TeamSettings(Section, kw_only=True):
    """Team mode (``[team]`` in devfactory.toml): one project shared by several machines on a
    team's PostgreSQL database, its workers, and the gateway this daemon bridges to."""

    project: Annotated[
        Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None,
        doc(
            "The team's name for this project, the same on every machine: the shared database "
            "knows the project by it (unset: by the workspace's folder, which differs per "
            "machine)."
        ),
    ] = None
    workers: Annotated[
        bool,
        doc(
            "Runs execute on team workers (`devfactory worker`, on any machine with a clone) "
            "instead of in this daemon: starting a run enqueues it. Needs PostgreSQL storage."
        ),
    ] = False
    gateway: Annotated[
        str | None,
        doc(
            "A team gateway's wss:// URL: runs, events and changes are then served by the "
            "gateway (the editor keeps talking to this daemon). The token comes from "
            "DEVFACTORY_TOKEN or tokenFile, never from this file."
        ),
    ] = None
    token_file: Annotated[
        str | None,
        doc(
            "A file holding the API token for the gateway (default "
            "~/.config/devfactory/token); DEVFACTORY_TOKEN wins over it."
        ),
    ] = None
    ca_file: Annotated[
        str | None,
        doc("A PEM file of the CA that signed the gateway's certificate, if not a public one."),
    ] = None


class Settings(Section, kw_only=True):
    """Every setting of the daemon, with its default."""

    default_provider: Annotated[str, doc("Provider of runs that name none.")] = "openai"
    default_agent: Annotated[str, doc("Agent role of runs that name none.")] = "backend"
    default_mode: Annotated[
        ExecutionMode,
        doc("review: you approve each change; yolo: changes apply when the run completes."),
    ] = ExecutionMode.REVIEW
    max_concurrent_runs: Annotated[
        int, doc("Runs working at once; the rest wait queued, first in first out.", ge=1, le=16)
    ] = 2
    max_steps: Annotated[int, doc("Tool steps a run may take before it stops.", ge=1, le=500)] = 40
    providers: Annotated[
        dict[str, ProviderSettings],
        msgspec.Meta(
            description="Model providers by name (openai, anthropic, claude_code, local_shell...).",
            extra_json_schema={"default": _PROVIDER_DEFAULTS},
        ),
    ] = msgspec.field(default_factory=_default_providers)
    index: Annotated[IndexSettings, doc("Workspace indexing.")] = msgspec.field(
        default_factory=IndexSettings
    )
    commands: Annotated[CommandSettings, doc("Command execution.")] = msgspec.field(
        default_factory=CommandSettings
    )
    mcp: Annotated[McpSettings, doc("Model Context Protocol servers and serving.")] = msgspec.field(
        default_factory=McpSettings
    )
    review: Annotated[ReviewSettings, doc("How proposed changes show in editors.")] = msgspec.field(
        default_factory=ReviewSettings
    )
    agent: Annotated[
        AgentSettings, doc("Project rules, attachments, context window and prices.")
    ] = msgspec.field(default_factory=AgentSettings)
    log_level: Annotated[Literal["debug", "info", "warning", "error"], doc("Daemon log level.")] = (
        "info"
    )
    storage: Annotated[
        str | None,
        doc(
            "Where the daemon keeps its state: unset, the workspace's own SQLite file "
            "(.devfactory/devfactory.db); a postgresql://user@host/database URL, a database "
            "shared by a team (needs devfactory-storage[postgresql]; keep the password out of "
            "the URL, in ~/.pgpass or PGPASSWORD). The DEVFACTORY_STORAGE environment "
            "variable, when set, wins over this setting."
        ),
    ] = None
    team: Annotated[
        TeamSettings,
        doc("Team mode: the shared project, its workers and the gateway to bridge to."),
    ] = msgspec.field(default_factory=TeamSettings)


PROJECT_SETTINGS: dict[str, frozenset[str] | None] = {
    "defaultAgent": None,
    "maxSteps": None,
    "maxConcurrentRuns": None,
    "logLevel": None,
    "review": None,
    "index": frozenset({"enabled", "watch", "passOnStart", "maxFileBytes", "exclude"}),
    "agent": frozenset(
        {"instructions", "rulesMaxChars", "attachmentMaxChars", "compactAt", "defaultContextWindow"}
    ),
}
"""Settings (camelCase, as on the wire) a workspace's own files set without the user's trust
(the daemon's ``devfactory.toml``, an editor's workspace settings): a section's name with the
keys allowed in it, or None for all of it. The rest decide what runs as the user or where
secrets go (providers and their endpoints, commands and the sandbox, MCP servers, the gateway,
storage), so only the user's own settings, or a workspace file they trusted, set them."""
