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
        ("from devfactory.server.app import create_server", {"server"}),
        ("import devfactory.storage.database", {"storage"}),
        ("from devfactory.protocol import RunStatus", {"protocol"}),
        ("from .database import Database", set()),
    ],
)
def test_checker_sees_imports(source: str, expected: set[str]) -> None:
    assert imported_layers(source) == expected
