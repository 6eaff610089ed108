"""The effective command policy and where it comes from.

Sources, first found wins: the ``policy_file`` setting, ``.devfactory/commands.toml``, then the
``[commands]`` section of the settings (devfactory.toml or the editor). The file takes the same
keys as the section (or a ``[commands]`` table) and is re-read whenever it changes, so editing
it applies to the next command. A source that does not validate is reported, naming the field,
and nothing is allowed until it is fixed: a typo in a security policy must never widen it
(the built-in blocklist applies either way).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec

from devfactory.protocol.commands import PolicyEntry
from devfactory.protocol.settings import CommandSettings

from .. import trust
from ..config import POLICY_SOURCE, _to_camel
from ..paths import StatePaths
from .blocklist import PRIVILEGE_PROGRAMS, program_name
from .defaults import DEFAULT_ENTRIES
from .environment import is_secret_name
from .runscode import short_option

POLICY_FILE_NAME = "commands.toml"


class PolicyError(ValueError):
    """A policy source does not validate; the message names the field and the fix."""


@dataclass(frozen=True)
class Policy:
    """The allowlist and limits commands run under."""

    settings: CommandSettings
    entries: tuple[PolicyEntry, ...]
    source: str
    """``default``, ``settings`` or the policy file's path."""
    problems: tuple[str, ...] = field(default=())
    awaiting_trust: bool = False
    """The workspace's own policy file waits for the user's trust (its only problem); the
    default policy applies meanwhile."""

    def match(self, argv: Sequence[str]) -> PolicyEntry | None:
        """The first entry that allows ``argv``."""
        return next((e for e in self.entries if entry_allows(e, argv)), None)

    def timeout_for(self, entry: PolicyEntry) -> float:
        return entry.timeout_s if entry.timeout_s is not None else self.settings.default_timeout_s

    def explain_refusal(self, argv: Sequence[str]) -> str:
        """Why no entry allows ``argv``, with what would be allowed instead."""
        if self.problems:
            return f"no command runs until the command policy is fixed: {self.problems[0]}"
        program = argv[0]
        same_program = [e for e in self.entries if e.program == program]
        shown = " ".join(argv)
        if not same_program:
            names = sorted({e.program for e in self.entries})
            listed = ", ".join(names[:40]) + (", ..." if len(names) > 40 else "")
            return f"`{program}` is not in the command policy (allowed programs: {listed})"
        for entry in same_program:
            if _args_match(entry, argv) and (denied := _denied(entry, argv)):
                return f"`{shown}` uses `{denied}`, which the policy entry for {program} excludes"
        patterns = sorted({p for e in same_program for p in e.args})
        return f"`{shown}` is not allowed; the policy allows {program} with: " + ", ".join(
            f"`{program} {p}`".rstrip() for p in patterns
        )


def _args_match(entry: PolicyEntry, argv: Sequence[str]) -> bool:
    joined = " ".join(argv[1:])
    return not entry.args or any(fnmatch.fnmatchcase(joined, p) for p in entry.args)


_SHORT = re.compile(r"-([A-Za-z0-9])\*?")


def _deny_matches(pattern: str, word: str) -> bool:
    """A short-option pattern (``-o``, ``-o*``) also matches a cluster holding its letter
    (``-uo/x``), since getopt reads that as ``-u -o /x``."""
    short = _SHORT.fullmatch(pattern)
    return fnmatch.fnmatchcase(word, pattern) or (
        short is not None and short_option(word, short.group(1))
    )


def _denied(entry: PolicyEntry, argv: Sequence[str]) -> str | None:
    return next((a for a in argv[1:] for p in entry.deny if _deny_matches(p, a)), None)


def entry_allows(entry: PolicyEntry, argv: Sequence[str]) -> bool:
    return (
        bool(argv)
        and argv[0] == entry.program
        and _args_match(entry, argv)
        and not (_denied(entry, argv))
    )


def _snake(path: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), path)


def _field_error(source: str, exc: msgspec.ValidationError) -> PolicyError:
    """msgspec names fields camelCase (``$.allow[0].timeoutS``); the files use snake_case."""
    text = re.sub(r"`\$\.?([^`]*)`", lambda m: f"`{_snake(m.group(1)) or 'top level'}`", str(exc))
    return PolicyError(f"{source}: {text}")


def validate(settings: CommandSettings, source: str) -> None:
    """Checks msgspec cannot express; raise PolicyError naming the field."""
    for i, entry in enumerate(settings.allow):
        where = f"{source}: allow[{i}]"
        if any(c.isspace() for c in entry.program):
            raise PolicyError(
                f"{where}.program {entry.program!r} contains whitespace; put the program alone"
                " in `program` and its arguments in `args` patterns"
            )
        if program_name(entry.program) in PRIVILEGE_PROGRAMS:
            raise PolicyError(
                f"{where}.program: `{entry.program}` is on the built-in blocklist (privilege"
                " escalation) and can never be allowed; remove the entry"
            )
        if entry.junit_xml is not None and (
            os.path.isabs(entry.junit_xml) or ".." in Path(entry.junit_xml).parts
        ):
            raise PolicyError(f"{where}.junit_xml must be a path inside the worktree")
    for name in settings.pass_env:
        if is_secret_name(name):
            raise PolicyError(
                f"{source}: pass_env lists {name!r}, which looks like a secret; commands never"
                " receive secrets: remove it"
            )


def parse_policy_file(path: Path, base: CommandSettings) -> CommandSettings:
    """The settings of ``base`` overridden by the file's keys; PolicyError when invalid."""
    try:
        data: Any = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML ({exc})") from None
    if isinstance(data.get("commands"), dict):
        data = data["commands"]
    if "policy_file" in data or "policyFile" in data:
        raise PolicyError(f"{path}: policy_file can only be set in the settings, not in {path}")
    merged = {**msgspec.to_builtins(base), **_to_camel(data)}
    try:
        settings = msgspec.convert(merged, CommandSettings)
    except msgspec.ValidationError as exc:
        raise _field_error(str(path), exc) from None
    validate(settings, str(path))
    return settings


class PolicyLoader:
    """Builds the effective policy; re-reads the policy file when it changes."""

    def __init__(self, paths: StatePaths, settings: CommandSettings) -> None:
        self.paths = paths
        self.settings = settings
        self._cached: tuple[object, Policy] | None = None

    def policy_path(self) -> Path | None:
        if self.settings.policy_file:
            return self.paths.root / self.settings.policy_file
        default = self.paths.state / POLICY_FILE_NAME
        return default if default.is_file() else None

    def load(self) -> Policy:
        path = self.policy_path()
        try:
            stat = path.stat() if path is not None else None
            key: object = (path, stat.st_mtime_ns, stat.st_size) if stat else (path, None)
        except OSError:
            key = (path, "missing")
        with contextlib.suppress(OSError):  # a new trust applies without a restart
            key = (key, trust.trust_file().stat().st_mtime_ns)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self._build(path))
        return self._cached[1]

    def _build(self, path: Path | None) -> Policy:
        try:
            if path is None:
                validate(self.settings, "settings [commands]")
                return self._policy(self.settings, "settings" if self.settings.allow else "default")
            if not path.is_file():
                raise PolicyError(
                    f"the policy file {path} (setting commands.policy_file) does not exist;"
                    " create it or unset the setting"
                )
            if not self.settings.policy_file and not self._trusted(path):
                policy = self._policy(
                    self.settings, "settings" if self.settings.allow else "default"
                )
                return replace(policy, problems=(self._untrusted(path),), awaiting_trust=True)
            return self._policy(parse_policy_file(path, self.settings), str(path))
        except PolicyError as exc:
            source = str(path) if path is not None else "settings"
            return Policy(settings=self.settings, entries=(), source=source, problems=(str(exc),))

    def _trusted(self, path: Path) -> bool:
        """The workspace's own policy file is the project's (a repository can commit it, or a
        downloaded folder hold it): it applies once the user trusted its text."""
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return trust.is_trusted(self.paths.root, POLICY_SOURCE, text)

    def _untrusted(self, path: Path) -> str:
        return (
            f"{path} is the workspace's own command policy: it applies once you trust it"
            f" (`devfactory trust -w {self.paths.root}`); until then the default policy does"
        )

    @staticmethod
    def _policy(settings: CommandSettings, source: str) -> Policy:
        defaults = () if settings.replace_defaults else DEFAULT_ENTRIES
        return Policy(settings=settings, entries=(*settings.allow, *defaults), source=source)
