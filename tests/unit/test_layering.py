"""protocol <- storage <- server: a package may import only from the layers below it."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "protocol": ROOT / "protocol/src/devfactory/protocol",
    "storage": ROOT / "storage/src/devfactory/storage",
    "server": ROOT / "server/src/devfactory/server",
}
ALLOWED = {"protocol": set(), "storage": {"protocol"}, "server": {"protocol", "storage"}}


def imported_layers(source: str) -> set[str]:
    """The devfactory layers a module's source imports (absolute imports only)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "devfactory" and len(parts) > 1:
                found.add(parts[1])
    return found


def violations(layer: str) -> list[str]:
    problems = []
    for path in sorted(LAYERS[layer].rglob("*.py")):
        for other in imported_layers(path.read_text()) - ALLOWED[layer] - {layer}:
            problems.append(f"{path.relative_to(ROOT)} imports devfactory.{other}")
    return problems


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_imports_only_lower_layers(layer: str) -> None:
    assert violations(layer) == []


def test_protocol_depends_on_msgspec_only() -> None:
    third_party = set()
    for path in LAYERS["protocol"].rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                third_party.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                third_party.update(alias.name.split(".")[0] for alias in node.names)
    stdlib = {"__future__", "asyncio", "contextlib", "enum", "itertools", "os", "sys", "typing"}
    stdlib |= {"collections", "pathlib", "types", "dataclasses", "json"}
    assert third_party - stdlib - {"devfactory"} == {"msgspec"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from devfactory.server.features import create_server", {"server"}),
        ("import devfactory.storage.database", {"storage"}),
        ("from devfactory.protocol import RunStatus", {"protocol"}),
        ("from .database import Database", set()),
    ],
)
def test_checker_sees_imports(source: str, expected: set[str]) -> None:
    assert imported_layers(source) == expected


# -- storage: the server speaks to ports, SQL lives in the adapter --------------------------------

SPEAKERS = {"server": LAYERS["server"], "bench": ROOT / "bench"}
"""Code that uses storage and must not see its adapter: the daemon and the benchmarks."""
PUBLIC_STORAGE = {
    "devfactory.storage.ports",
    "devfactory.storage.clock",
    "devfactory.storage.errors",
}
"""Modules of ``devfactory.storage`` other code may import (besides the package itself and
what its ``__all__`` names): the ports, the timestamp format and the errors."""
DATABASE_DRIVERS = {
    "sqlite3",
    "sqlean",
    "aiosqlite",
    "sqlite_vec",
    "psycopg",
    "psycopg_pool",
    "psycopg_binary",
    "asyncpg",
}
SQL = re.compile(
    r"(?-i:\bSELECT\b.+\bFROM\b)|\b(insert\s+(or\s+\w+\s+)?into|delete\s+from|update\s+\w+\s+set"
    r"|(create|drop)\s+(virtual\s+|unique\s+|temp\s+)?(table|index|trigger|view)"
    r"|alter\s+table|pragma\s+\w+)\b",
    re.IGNORECASE,
)
"""Statements in a string: SELECT in capitals (in lower case it is an English verb)."""


def sources(folder: Path) -> list[Path]:
    """The Python sources of ``folder``, without hidden folders (the benchmark's corpus)."""
    found = folder.rglob("*.py")
    return sorted(p for p in found if not any(part.startswith(".") for part in p.parts))


def storage_leaks(source: str) -> list[str]:
    """Imports of a database driver or of a storage module that is not public, and SQL."""
    from devfactory import storage

    problems: list[str] = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "devfactory.storage":
                hidden = {alias.name for alias in node.names} - set(storage.__all__)
                problems += [f"imports devfactory.storage.{name}" for name in sorted(hidden)]
        problems += [f"imports {module}" for module in modules if not _may_import(module)]
        if (text := _text(node)) is not None and (match := SQL.search(text)):
            problems.append(f"line {node.lineno} holds SQL: {match.group(0)!r}")
    return list(dict.fromkeys(problems))


def _may_import(module: str) -> bool:
    if module.split(".")[0] in DATABASE_DRIVERS:
        return False
    return not module.startswith("devfactory.storage.") or any(
        module == public or module.startswith(f"{public}.") for public in PUBLIC_STORAGE
    )


def _text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with ``_`` for each placeholder."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "_" for part in node.values
        )
    return None


@pytest.mark.parametrize("speaker", list(SPEAKERS))
def test_storage_is_reached_through_its_ports_only(speaker: str) -> None:
    """No driver, no adapter module, no SQL: a second database needs no change here."""
    problems = [
        f"{path.relative_to(ROOT)}: {problem}"
        for path in sources(SPEAKERS[speaker])
        for problem in storage_leaks(path.read_text())
    ]
    assert problems == [], "move the query into a repository of devfactory.storage"


def test_ports_know_no_adapter() -> None:
    """The ports import neither an adapter nor a driver: they describe any database."""
    for path in sources(LAYERS["storage"] / "ports"):
        imported = {
            alias.name if isinstance(node, ast.Import) else node.module or ""
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert {m for m in imported if m.split(".")[0] in DATABASE_DRIVERS} == set(), path
        adapters = {m for m in imported for a in ("sqlite", "postgresql") if m == a or f".{a}" in m}
        assert adapters == set(), path


def test_importing_storage_loads_no_driver() -> None:
    """Ports and the factory import light; the adapter loads when a store is opened."""
    drivers = sorted(DATABASE_DRIVERS)
    code = f"import sys, devfactory.storage; print(sorted(set(sys.modules) & set({drivers})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('db.scalar("SELECT max(id) FROM agent_events WHERE project_id = ?")', 1),
        ('f"UPDATE {table} SET x = 1"', 1),
        ('f"SELECT {columns} FROM rag_chunks c WHERE {where}"', 1),
        ('"update agent_runs set status = ?"', 1),
        ('"delete from rag_files"', 1),
        ('"PRAGMA quick_check"', 1),
        ('"create virtual table t using fts5 (a)"', 1),
        ('"select the file from the list, then update the index"', 0),
        ("import sqlean", 1),
        ("from aiosqlite import Connection", 1),
        ("from devfactory.storage.sqlite import SqliteStore", 1),
        ("from devfactory.storage.postgresql import PostgresStore", 1),
        ("import psycopg", 1),
        ("from devfactory.storage.sqlite.database import Database", 1),
        ("from devfactory.storage.codec import dump", 1),
        ("from devfactory.storage import open_store, Store", 0),
        ("from devfactory.storage import sqlite", 1),
        ("from devfactory.storage.ports import ChunkRow", 0),
        ("from devfactory.storage.clock import now_iso", 0),
    ],
)
def test_leak_checker_sees_drivers_adapters_and_sql(source: str, expected: int) -> None:
    assert len(storage_leaks(source)) == expected, storage_leaks(source)


def test_the_storage_diagram_matches_the_code() -> None:
    """docs/architecture.md draws every port, every Store attribute and every module of the
    ports and the adapters; a port or a module added later must be drawn too."""
    import inspect

    from devfactory.storage import ports

    text = (ROOT / "docs/architecture.md").read_text()
    section = text[text.index("## Storage: ports and adapters") :]
    diagram = section[section.index("```") : section.index("```", section.index("```") + 3)]
    protocols = {
        name
        for name, value in vars(ports).items()
        if inspect.isclass(value) and getattr(value, "_is_protocol", False)
    }
    rows = {name for name in ports.__all__ if name not in protocols and name != "Bm25Weights"}
    attributes = set(ports.Store.__annotations__) | {"location", "status", "counts", "close"}
    modules = {
        f"{path.name}/" if path.is_dir() else path.name
        for package in ("ports", "sqlite", "postgresql")
        for path in (LAYERS["storage"] / package).iterdir()
        if path.name not in ("__pycache__", "__init__.py")
    }
    drawn = set(re.findall(r"[\w.]+/?", diagram))
    assert protocols - drawn == set(), "ports missing from the diagram"
    assert rows - drawn == set(), "rows missing from the diagram"
    assert attributes - drawn == set(), "Store attributes missing from the diagram"
    assert modules - drawn == set(), "modules missing from the diagram"


# -- no import cycles inside the server ------------------------------------------------------------

SERVER_PACKAGE = "devfactory.server"


def module_name(path: Path) -> str:
    rel = path.relative_to(LAYERS["server"]).with_suffix("")
    parts = [part for part in rel.parts if part != "__init__"]
    return ".".join([SERVER_PACKAGE, *parts])


def server_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(LAYERS["server"].rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The server modules ``name`` imports anywhere in its source: at the top, in functions and
    under ``TYPE_CHECKING`` alike (a lazy import still ties the two modules together)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    found.add(f"{target}.{alias.name}")
                elif target in known:
                    found.add(target)
    return found - {name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_server_modules_import_each_other_without_cycles() -> None:
    modules = server_modules()
    known = set(modules)
    graph = {name: imports_of(name, path, known) for name, path in modules.items()}
    assert sum(len(targets) for targets in graph.values()) > 200  # the graph really was read
    assert import_cycles(graph) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_cycle_finder(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert import_cycles(graph) == expected
