"""Project rules files: the instructions a project keeps for coding agents.

Found in the workspace (or a run's worktree) and read through the one resolver (a rules file
that links out of the project is refused and reported, never read). Lowest precedence first;
where two disagree the later one wins, and the prompt says so:

1. ``.github/copilot-instructions.md``
2. ``.windsurfrules``
3. ``.cursorrules``, then ``.cursor/rules/*.mdc`` by name (a rule whose front matter has
   ``globs`` applies only to the files they match)
4. ``.clinerules`` (a file, or a folder whose files are read by name)
5. ``CLAUDE.md``
6. ``AGENTS.md`` at the root, then nested ``AGENTS.md`` files, shallow to deep: a nested one
   applies only to paths under its folder
7. ``[agent] instructions`` in ``devfactory.toml`` (or the editor's settings)

A link between two rules files of the project (``CLAUDE.md -> AGENTS.md``) is read once.
The whole text is cut to ``agent.rulesMaxChars``, the lowest precedence first.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from devfactory.protocol.context import ProjectRules, RulesFile

from ..config import CONFIG_FILE
from ..safefs import FileTooLarge, PathRefused, SafeTree
from .providers.base import Message

MAX_RULES_FILE_BYTES = 512 * 1024
"""A rules file larger than this is refused whole (nobody writes instructions that long)."""

AGENTS = "AGENTS.md"
_ROOT_FILES = [
    (".github/copilot-instructions.md", "copilot"),
    (".windsurfrules", "windsurf"),
    (".cursorrules", "cursor"),
]
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
PREAMBLE = (
    "# Project instructions\n"
    "The project keeps these instructions for coding agents. They come from general to "
    "specific: where two disagree, follow the later one."
)


@dataclass(frozen=True)
class RulesSource:
    """One rules file (or the settings' instructions) and where it applies."""

    path: str
    kind: str
    text: str
    folder: str | None = None
    """Applies only under this folder (``pkg/``): a nested AGENTS.md."""
    globs: tuple[str, ...] = ()
    """Applies only to files matching one of these: a Cursor rule's ``globs``."""

    @property
    def scoped(self) -> bool:
        return self.folder is not None or bool(self.globs)

    @property
    def applies_to(self) -> str | None:
        if self.folder is not None:
            return self.folder
        return ", ".join(self.globs) or None

    def applies(self, path: str | None) -> bool:
        """Whether this source applies to ``path`` (None: the project as a whole)."""
        if self.folder is not None:
            return path is not None and path.startswith(self.folder)
        if self.globs:
            return path is not None and any(_glob_match(path, g) for g in self.globs)
        return True


@dataclass
class RulesCatalog:
    """Every rules source of a tree, lowest precedence first, and what went wrong finding them."""

    sources: list[RulesSource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def for_paths(self, paths: list[str]) -> list[RulesSource]:
        """The sources that apply to the project and to any of ``paths``."""
        return [s for s in self.sources if s.applies(None) or any(s.applies(p) for p in paths)]

    def scoped_for(self, path: str) -> list[RulesSource]:
        """The scoped sources (nested AGENTS.md, Cursor globs) that apply to ``path``."""
        return [s for s in self.sources if s.scoped and s.applies(path)]


@dataclass
class RenderedRules:
    text: str
    files: list[RulesFile]
    warnings: list[str]


class ScopedRules:
    """Which scoped rules (nested AGENTS.md, Cursor globs) the model has been given, so each
    reaches it once: in the system prompt for the paths known when the run starts, then as a
    message when the agent first touches a path they cover."""

    def __init__(self, catalog: RulesCatalog, max_chars: int) -> None:
        self.catalog = catalog
        self.max_chars = max_chars
        self.delivered: set[str] = set()

    def system_rules(self, paths: list[str]) -> RenderedRules:
        """The rules for the project and for ``paths``, as the system prompt carries them."""
        sources = self.catalog.for_paths(paths)
        self.delivered |= {s.path for s in sources}
        return render_rules(sources, self.max_chars)

    def newly_applying(self, path: str) -> list[RulesSource]:
        """The scoped rules that apply to ``path`` and have not been given yet."""
        fresh = [s for s in self.catalog.scoped_for(path) if s.path not in self.delivered]
        self.delivered |= {s.path for s in fresh}
        return fresh


def touched_paths(messages: list[Message]) -> list[str]:
    """The files a conversation has worked on: tool calls' paths and attached files."""
    found: list[str] = []
    for message in messages:
        found += message.paths
        found += [
            c.arguments["path"]
            for c in message.tool_calls
            if isinstance(c.arguments.get("path"), str)
        ]
    return list(dict.fromkeys(found))


def discover_rules(tree: SafeTree, files: list[str], instructions: str = "") -> RulesCatalog:
    """Find and read the rules files of ``tree``; ``files`` lists the tree's files (for the
    nested AGENTS.md files). Blocking: call it from a worker thread."""
    catalog = RulesCatalog()
    seen: set[str] = set()

    def add(rel: str, kind: str, *, folder: str | None = None) -> None:
        text = _read(tree, rel, catalog.warnings, seen)
        if text is None:
            return
        globs: tuple[str, ...] = ()
        if rel.endswith(".mdc"):
            text, globs = _cursor_rule(text)
        if text.strip():
            catalog.sources.append(RulesSource(rel, kind, text.strip(), folder, globs))

    for rel, kind in _ROOT_FILES:
        add(rel, kind)
    for name in _listed(tree, ".cursor/rules", catalog.warnings) or []:
        if name.endswith(".mdc"):
            add(f".cursor/rules/{name}", "cursor")
    cline = _listed(tree, ".clinerules", catalog.warnings, quiet_if_file=True)
    for rel in [".clinerules"] if cline is None else [f".clinerules/{name}" for name in cline]:
        add(rel, "cline")
    add("CLAUDE.md", "claude")
    add(AGENTS, "agents")
    nested = [f for f in files if f.endswith("/" + AGENTS)]
    for rel in sorted(nested, key=lambda f: (f.count("/"), f)):
        add(rel, "agents", folder=rel[: -len(AGENTS)])
    if instructions.strip():
        catalog.sources.append(RulesSource(CONFIG_FILE, "settings", instructions.strip()))
    return catalog


_UNVISITED = frozenset({"node_modules", "__pycache__", "venv", "target", "dist", "build"})


def nested_rules_files(root: Path) -> list[str]:
    """The ``AGENTS.md`` files below ``root``'s top folder, found without following links
    (hidden folders, ``.git`` and ``.devfactory`` included, are not visited). Blocking."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _UNVISITED]
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        if rel != "." and AGENTS in files:
            found.append(f"{rel}/{AGENTS}")
    return found


def load_catalog(root: Path, instructions: str) -> RulesCatalog:
    """Every rules source of the tree at ``root`` (the workspace or a run's worktree).
    Blocking: call it from a worker thread."""
    return discover_rules(SafeTree(root), nested_rules_files(root), instructions)


def rules_for(catalog: RulesCatalog, path: str | None, max_chars: int) -> ProjectRules:
    """``devfactory/project/rules``: what applies to ``path`` (None: to the whole project)."""
    sources = catalog.for_paths([path] if path else [])
    rendered = render_rules(sources, max_chars)
    return ProjectRules(
        path=path,
        files=rendered.files,
        text=rendered.text,
        warnings=catalog.warnings + rendered.warnings,
    )


def render_rules(sources: list[RulesSource], max_chars: int) -> RenderedRules:
    """The sources as one prompt section, cut to ``max_chars`` (the lowest precedence first)."""
    budget = max_chars
    kept: dict[int, str] = {}
    warnings: list[str] = []
    for index in range(len(sources) - 1, -1, -1):  # the highest precedence gets room first
        text = sources[index].text
        kept[index] = text[: max(budget, 0)]
        budget -= len(kept[index])
        if len(kept[index]) < len(text):
            warnings.append(
                f"{sources[index].path}: {len(text) - len(kept[index])} of {len(text)} "
                f"characters left out (agent.rulesMaxChars is {max_chars})"
            )
    sections: list[str] = []
    files: list[RulesFile] = []
    for index, source in enumerate(sources):
        text = kept[index]
        truncated = len(text) < len(source.text)
        files.append(
            RulesFile(
                path=source.path,
                kind=source.kind,
                applies_to=source.applies_to,
                chars=len(text),
                truncated=truncated,
            )
        )
        if text:
            sections.append(section(source, text, truncated))
    body = "\n\n".join(sections)
    return RenderedRules(f"{PREAMBLE}\n\n{body}" if body else "", files, warnings[::-1])


def section(source: RulesSource, text: str, truncated: bool = False) -> str:
    """One source as the prompt shows it, headed by where it comes from and where it applies."""
    where = f" (for {source.applies_to})" if source.applies_to else ""
    cut = "\n[... cut: the rest did not fit agent.rulesMaxChars]" if truncated else ""
    return f"## {source.path}{where}\n{text}{cut}"


def _read(tree: SafeTree, rel: str, warnings: list[str], seen: set[str]) -> str | None:
    try:
        real = tree.resolve(rel)  # a link that stays inside (CLAUDE.md -> AGENTS.md) is fine
        if real in seen:
            return None
        data = tree.read(real, MAX_RULES_FILE_BYTES)
    except (PathRefused, FileTooLarge) as exc:  # a link out of the project, a folder, a pipe
        warnings.append(f"{rel} was not read: {exc}")
        return None
    except OSError as exc:
        warnings.append(f"{rel} was not read: {exc.strerror or exc}")
        return None
    if data is None:
        return None
    seen.add(real)
    return data.decode("utf-8", "replace")


def _listed(
    tree: SafeTree, folder: str, warnings: list[str], *, quiet_if_file: bool = False
) -> list[str] | None:
    """The files in ``folder``; None when there is none or (``quiet_if_file``) it is a file;
    empty when it is refused (a link: reported in ``warnings``)."""
    try:
        return tree.list_dir(folder)
    except PathRefused as exc:
        info = tree.lstat(folder) if quiet_if_file else None
        if info is not None and stat.S_ISREG(info.st_mode):
            return None
        warnings.append(f"{folder} was not read: {exc}")
        return []


def _cursor_rule(text: str) -> tuple[str, tuple[str, ...]]:
    """The body of a ``.mdc`` rule and its globs (none when it always applies)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text, ()
    body = text[match.end() :]
    try:
        meta = msgspec.yaml.decode(match.group(1))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return body, ()
    if not isinstance(meta, dict) or meta.get("alwaysApply") is True:
        return body, ()
    globs = meta.get("globs")
    if isinstance(globs, str):
        globs = globs.split(",")
    if not isinstance(globs, list):
        return body, ()
    return body, tuple(g.strip() for g in globs if isinstance(g, str) and g.strip())


def _glob_match(path: str, glob: str) -> bool:
    """Cursor's globs: ``**/*.ts``, ``src/*.py``; a glob without a folder matches any file name."""
    if "/" not in glob:
        return fnmatch.fnmatch(path.rsplit("/", 1)[-1], glob)
    return fnmatch.fnmatch(path, glob) or (
        glob.startswith("**/") and fnmatch.fnmatch(path, glob[3:])
    )
