"""What the user gives the agent besides the prompt: editor context and project rules.

``ContextItem`` travels on ``devfactory/runs/create`` and ``devfactory/runs/message`` (whole
files, selections, diagnostics); ``devfactory/project/rules`` says which rules files (AGENTS.md,
CLAUDE.md, .clinerules...) apply to a path, in the order the agent reads them.
"""

from __future__ import annotations

from ._base import Model, Params


class Position(Params, kw_only=True):
    """A place in a file: 0-based line and character (UTF-16 units, as LSP counts)."""

    line: int
    character: int = 0


class Range(Params, kw_only=True):
    """From ``start`` to ``end`` (exclusive), as an LSP range."""

    start: Position
    end: Position


class ContextDiagnostic(Params, kw_only=True):
    """A problem the editor shows in the attached file (from any language server)."""

    range: Range
    message: str
    severity: str = "error"
    """error, warning, information or hint."""
    source: str | None = None
    """Who reported it (``pyright``, ``eslint``...)."""


class ContextItem(Params, kw_only=True):
    """A file of the workspace attached to a message: whole, a selection, or its problems."""

    uri: str
    """A ``file://`` URI inside the workspace (or a workspace-relative path)."""
    range: Range | None = None
    """Only these lines (a selection); the whole file when null."""
    diagnostics: list[ContextDiagnostic] = []
    """The editor's problems in this file: attached with the lines they point at (and the
    selection or file when ``range`` is also given)."""


class ProjectRulesParams(Params, kw_only=True):
    """Parameters of ``devfactory/project/rules``."""

    path: str | None = None
    """A workspace-relative path (or ``file://`` URI): the rules that apply to it. Null: the
    rules of the whole project (what every run starts with)."""


class RulesFile(Model, kw_only=True):
    """One source of project instructions, as the agent reads it."""

    path: str
    """Workspace-relative path of the file; ``devfactory.toml`` for ``[agent] instructions``."""
    kind: str
    """agents, claude, cline, cursor, copilot, windsurf or settings."""
    applies_to: str | None = None
    """A folder (``pkg/`` for ``pkg/AGENTS.md``) or the globs of a Cursor rule; null for the
    whole project."""
    chars: int = 0
    """Characters of it the prompt takes."""
    truncated: bool = False
    """Cut to the ``agent.rulesMaxChars`` budget."""


class ProjectRules(Model, kw_only=True):
    """Result of ``devfactory/project/rules``: lowest precedence first."""

    path: str | None = None
    files: list[RulesFile] = []
    text: str = ""
    """The instructions as the agent's system prompt carries them."""
    warnings: list[str] = []
    """Rules files that were refused (a link out of the project) or cut."""
