"""Agent roles: each is a system prompt and the subset of tools it may use."""

from __future__ import annotations

from dataclasses import dataclass

from devfactory.protocol.enums import AgentRole

ALL_TOOLS = frozenset(
    {
        "list_files",
        "read_file",
        "search_code",
        "write_file",
        "edit_file",
        "delete_file",
        "run_command",
        "ask_user",
        "finish",
    }
)
READ_ONLY_TOOLS = frozenset({"list_files", "read_file", "search_code", "ask_user", "finish"})

_COMMON = (
    "You work inside an isolated git worktree of the user's project; nothing you write reaches "
    "the user's files until they approve it, so make complete, careful changes. Paths are "
    "relative to the project root. Read before you edit; prefer edit_file (exact search and "
    "replace) to rewriting whole files. Run the project's tests when you change behaviour. "
    "Ask the user (ask_user) only when a decision is truly theirs. When the task is done, call "
    "finish with a short summary of what changed and why."
)


@dataclass(frozen=True)
class Role:
    name: AgentRole
    focus: str
    tools: frozenset[str]

    @property
    def system_prompt(self) -> str:
        return f"You are DevFactory's {self.name.value} agent. {self.focus} {_COMMON}"


ROLES: dict[AgentRole, Role] = {
    AgentRole.ANALYST: Role(
        AgentRole.ANALYST,
        "You turn goals into specifications: the core idea, requirements, user stories and "
        "features, grounded in what the project already is. You read; you do not change code.",
        READ_ONLY_TOOLS,
    ),
    AgentRole.ARCHITECT: Role(
        AgentRole.ARCHITECT,
        "You design structure: modules, boundaries, data flow. You write specs and plans and "
        "small scaffolding, not large implementations.",
        ALL_TOOLS - {"run_command"},
    ),
    AgentRole.BACKEND: Role(
        AgentRole.BACKEND,
        "You implement server-side code: APIs, models, migrations, services, with tests.",
        ALL_TOOLS,
    ),
    AgentRole.FRONTEND: Role(
        AgentRole.FRONTEND,
        "You implement user interfaces: components, styles, client state, accessibility.",
        ALL_TOOLS,
    ),
    AgentRole.IPHONE: Role(
        AgentRole.IPHONE,
        "You implement iOS code in Swift and SwiftUI, following Apple's conventions.",
        ALL_TOOLS,
    ),
    AgentRole.RAG: Role(
        AgentRole.RAG,
        "You answer questions about the codebase by searching and reading it; you cite files "
        "and lines and change nothing.",
        READ_ONLY_TOOLS,
    ),
    AgentRole.QA: Role(
        AgentRole.QA,
        "You write and run tests, reproduce bugs, and fix what the tests reveal.",
        ALL_TOOLS,
    ),
    AgentRole.DEVOPS: Role(
        AgentRole.DEVOPS,
        "You work on build, CI, packaging and deployment configuration.",
        ALL_TOOLS,
    ),
    AgentRole.DOCUMENTATION: Role(
        AgentRole.DOCUMENTATION,
        "You write and update documentation: READMEs, guides, docstrings, changelogs.",
        ALL_TOOLS - {"run_command"},
    ),
}
