"""The checked-in JSON Schema of the wire contract must match the code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devfactory.protocol.enums import RUN_CONTROLS
from devfactory.protocol.methods import NOTIFICATIONS, REQUESTS
from devfactory.protocol.schema import build_schema, render_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs/protocol.schema.json"
LUA_GENERATOR = ROOT / "editors/neovim/scripts/generate.py"


def test_checked_in_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == render_schema(), (
        "docs/protocol.schema.json is stale: run "
        "`uv run python -m devfactory.protocol.schema > docs/protocol.schema.json`"
    )


def test_neovim_constants_are_generated_from_the_current_schema() -> None:
    done = subprocess.run(
        [sys.executable, str(LUA_GENERATOR), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_schema_exports_the_run_control_table() -> None:
    schema = build_schema()
    controls = schema["x-devfactory-run-controls"]
    assert controls == {
        status.value: sorted(control.value for control in allowed)
        for status, allowed in RUN_CONTROLS.items()
    }
    assert set(controls) == set(schema["$defs"]["RunStatus"]["enum"])
    assert {c for allowed in controls.values() for c in allowed} <= set(
        schema["$defs"]["RunControl"]["enum"]
    )


def test_schema_names_every_method_with_resolvable_types() -> None:
    schema = build_schema()
    defs = schema["$defs"]
    assert set(schema["x-devfactory-requests"]) == set(REQUESTS)
    assert set(schema["x-devfactory-notifications"]) == set(NOTIFICATIONS)
    for entry in schema["x-devfactory-requests"].values():
        for key in ("params", "result"):
            name = entry[key]["$ref"].rsplit("/", 1)[-1]
            assert name in defs


def test_schema_is_camel_case_on_the_wire() -> None:
    run = build_schema()["$defs"]["Run"]
    assert "projectId" in run["properties"]
    assert "project_id" not in json.dumps(run)
