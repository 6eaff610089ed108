"""Project rules files: which are found, in what order, where they apply, and what is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.context import RulesFile
from devfactory.server.agents.rules import discover_rules, render_rules
from devfactory.server.project.files import list_workspace_files
from devfactory.server.safefs import SafeTree

EVERY_KIND = {
    "AGENTS.md": "root agents",
    "CLAUDE.md": "claude",
    ".clinerules": "cline file",
    ".cursorrules": "cursor legacy",
    ".cursor/rules/a-style.mdc": "---\ndescription: style\nalwaysApply: true\n---\ncursor a",
    ".cursor/rules/b-tests.mdc": '---\nglobs: "tests/**/*.py, *.spec.ts"\n---\ncursor tests',
    ".github/copilot-instructions.md": "copilot",
    ".windsurfrules": "windsurf",
    "pkg/AGENTS.md": "pkg agents",
    "pkg/deep/AGENTS.md": "deep agents",
}


def make_tree(root: Path, files: dict[str, str]) -> SafeTree:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return SafeTree(root)


def catalog_of(root: Path, files: dict[str, str], instructions: str = ""):
    tree = make_tree(root, files)
    return discover_rules(tree, list_workspace_files(root), instructions)


def test_sources_come_in_the_documented_precedence(tmp_path: Path) -> None:
    catalog = catalog_of(tmp_path, EVERY_KIND, instructions="from settings")
    assert [(s.path, s.kind, s.applies_to) for s in catalog.sources] == [
        (".github/copilot-instructions.md", "copilot", None),
        (".windsurfrules", "windsurf", None),
        (".cursorrules", "cursor", None),
        (".cursor/rules/a-style.mdc", "cursor", None),
        (".cursor/rules/b-tests.mdc", "cursor", "tests/**/*.py, *.spec.ts"),
        (".clinerules", "cline", None),
        ("CLAUDE.md", "claude", None),
        ("AGENTS.md", "agents", None),
        ("pkg/AGENTS.md", "agents", "pkg/"),
        ("pkg/deep/AGENTS.md", "agents", "pkg/deep/"),
        ("devfactory.toml", "settings", None),
    ]
    assert catalog.sources[3].text == "cursor a"  # the front matter is not an instruction
    assert catalog.warnings == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, ["AGENTS.md"]),
        ("app.py", ["AGENTS.md"]),
        ("pkg/mod.py", ["AGENTS.md", "pkg/AGENTS.md"]),
        ("pkg/deep/x.py", ["AGENTS.md", "pkg/AGENTS.md", "pkg/deep/AGENTS.md"]),
        ("pkgother/x.py", ["AGENTS.md"]),
        ("tests/unit/test_a.py", ["AGENTS.md", ".cursor/rules/b-tests.mdc"]),
        ("web/app.spec.ts", ["AGENTS.md", ".cursor/rules/b-tests.mdc"]),
    ],
)
def test_nested_and_glob_rules_apply_only_where_they_say(
    tmp_path: Path, path: str | None, expected: list[str]
) -> None:
    files = {k: v for k, v in EVERY_KIND.items() if "AGENTS" in k or "b-tests" in k}
    catalog = catalog_of(tmp_path, files)
    applying = catalog.for_paths([] if path is None else [path])
    assert sorted(s.path for s in applying) == sorted(expected)
    assert [s.path for s in catalog.scoped_for(path or "")] == [
        p
        for p in [".cursor/rules/b-tests.mdc", "pkg/AGENTS.md", "pkg/deep/AGENTS.md"]
        if p in expected
    ]


def test_a_clinerules_folder_is_read_file_by_file(tmp_path: Path) -> None:
    catalog = catalog_of(tmp_path, {".clinerules/02-b.md": "b", ".clinerules/01-a.md": "a"})
    assert [(s.path, s.text) for s in catalog.sources] == [
        (".clinerules/01-a.md", "a"),
        (".clinerules/02-b.md", "b"),
    ]


def test_a_link_between_rules_files_is_read_once(tmp_path: Path) -> None:
    make_tree(tmp_path, {"AGENTS.md": "shared"})
    os.symlink("AGENTS.md", tmp_path / "CLAUDE.md")
    catalog = discover_rules(SafeTree(tmp_path), ["AGENTS.md", "CLAUDE.md"])
    assert [s.path for s in catalog.sources] == ["CLAUDE.md"]
    assert catalog.warnings == []


def test_rules_files_linking_out_of_the_project_are_refused_and_reported(tmp_path: Path) -> None:
    secrets = tmp_path / "home" / ".ssh"
    secrets.mkdir(parents=True)
    (secrets / "id_ed25519").write_text("PRIVATE KEY")
    root = tmp_path / "project"
    make_tree(root, {"pkg/mod.py": "x = 1\n"})
    os.symlink(secrets / "id_ed25519", root / "AGENTS.md")
    os.symlink(secrets / "id_ed25519", root / "pkg" / "AGENTS.md")
    os.symlink(secrets, root / ".clinerules")
    (root / ".cursor").mkdir()
    os.symlink(secrets, root / ".cursor" / "rules")
    catalog = discover_rules(SafeTree(root), ["AGENTS.md", "pkg/AGENTS.md", "pkg/mod.py"])
    assert catalog.sources == []
    assert sorted(w.split(" ", 1)[0] for w in catalog.warnings) == [
        ".clinerules",
        ".cursor/rules",
        "AGENTS.md",
        "pkg/AGENTS.md",
    ]
    assert all("outside the project" in w or "symbolic link" in w for w in catalog.warnings)


def test_the_budget_cuts_the_lowest_precedence_first(tmp_path: Path) -> None:
    catalog = catalog_of(
        tmp_path, {".windsurfrules": "w" * 50, "AGENTS.md": "a" * 30}, instructions="s" * 10
    )
    rendered = render_rules(catalog.sources, max_chars=60)
    assert rendered.files == [
        RulesFile(path=".windsurfrules", kind="windsurf", chars=20, truncated=True),
        RulesFile(path="AGENTS.md", kind="agents", chars=30),
        RulesFile(path="devfactory.toml", kind="settings", chars=10),
    ]
    assert rendered.warnings == [
        ".windsurfrules: 30 of 50 characters left out (agent.rulesMaxChars is 60)"
    ]
    assert "w" * 20 + "\n[... cut" in rendered.text
    assert rendered.text.index("## AGENTS.md") < rendered.text.index("## devfactory.toml")


def test_no_rules_no_section(tmp_path: Path) -> None:
    rendered = render_rules(catalog_of(tmp_path, {"app.py": "x"}).sources, 1000)
    assert (rendered.text, rendered.files, rendered.warnings) == ("", [], [])
