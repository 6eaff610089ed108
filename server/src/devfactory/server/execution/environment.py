"""The environment a command receives: an allowlist, never the daemon's secrets.

The daemon's own environment holds provider keys (``OPENAI_API_KEY``...) and whatever the
editor exported. A command gets only the variables a build needs (``PATH``, locale, toolchain
homes) plus fixed values that keep tools non-interactive; any name that looks like a secret,
or that a provider reads its API key from (``api_key_env``, whatever it is called), is dropped
even when a policy lists it in ``pass_env``. The same holds with and without the sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

#: Names that look like credentials: never passed, and refused when a command expands them.
SECRET_NAME = re.compile(
    r"(api_?key|token|secret|passw(or)?d|passphrase|credential|private_?key|access_?key"
    r"|session_?key|(^|_)auth($|_)|(^|_)pat($|_)|cookie|signing_?key|webhook)",
    re.IGNORECASE,
)

#: Passed through when set in the daemon's environment.
ALLOWED = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        # Toolchains that tests and builds locate through the environment.
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "PYTHONPATH",
        "JAVA_HOME",
        "GOPATH",
        "GOROOT",
        "GOCACHE",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "NVM_DIR",
        "NODE_PATH",
        "PNPM_HOME",
        "COMPOSER_HOME",
        "GEM_HOME",
        "GEM_PATH",
        "DOTNET_ROOT",
        "ANDROID_HOME",
        "DEVELOPER_DIR",
        "SDKROOT",
    }
)
ALLOWED_PREFIXES = ("LC_",)

#: Always set: no prompts, no pagers, no colours, unbuffered Python, CI-style test runners.
FIXED = {
    "CI": "true",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
    "TERM": "dumb",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "PYTHONUNBUFFERED": "1",
}

#: Inside the sandbox the home folder is read-only: caches go to the private /tmp.
SANDBOX_FIXED = {
    "TMPDIR": "/tmp",
    "XDG_CACHE_HOME": "/tmp/.cache",
    "npm_config_cache": "/tmp/.npm",
}

MARKER_VARIABLE = "DEVFACTORY_COMMAND_TOKEN"
"""Set on every command; finds its descendants even after they leave its process group."""


def is_secret_name(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def command_environment(
    source: Mapping[str, str],
    *,
    worktree: str,
    marker: str,
    extra: Iterable[str] = (),
    secrets: Collection[str] = (),
    sandboxed: bool = False,
) -> dict[str, str]:
    """The scrubbed environment for one command run in ``worktree``; ``secrets`` names
    variables that hold the daemon's keys whatever their names look like."""
    wanted = ALLOWED | set(extra)
    env = {
        name: value
        for name, value in source.items()
        if (name in wanted or name.startswith(ALLOWED_PREFIXES))
        and not is_secret_name(name)
        and name not in secrets
    }
    env.update(FIXED)
    if sandboxed:
        env.update(SANDBOX_FIXED)
    env["PWD"] = worktree
    env[MARKER_VARIABLE] = marker
    return env
