"""protocol <- storage <- server: a package may import only from the layers below it."""

from __future__ import annotations

import ast
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
