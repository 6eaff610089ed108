"""The command policy: its sources, validation errors that name the field, fail-closed
behaviour, reloading, and how entries match a command; plus how command lines are read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.commands import PolicyEntry
from devfactory.protocol.settings import CommandSettings
from devfactory.server.config import load_settings
from devfactory.server.execution.defaults import DEFAULT_ENTRIES
from devfactory.server.execution.policy import Policy, PolicyLoader, entry_allows
from devfactory.server.execution.shellsyntax import (
    CommandLine,
    ShellSyntaxError,
    Syntax,
    parse_command_line,
)
from devfactory.server.paths import StatePaths
from support import trust_workspace

MAKE = PolicyEntry(program="make", args=["test", "lint"], timeout_s=60.0, description="make")


def loader(root: Path, settings: CommandSettings | None = None) -> PolicyLoader:
    paths = StatePaths(root)
    paths.ensure()
    return PolicyLoader(paths, settings or CommandSettings())


def write_policy(root: Path, text: str, name: str = ".devfactory/commands.toml") -> Path:
    """The user's policy file, trusted as ``devfactory trust`` would."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    trust_workspace(root)
    return path


def test_the_workspaces_own_policy_file_applies_once_trusted(tmp_path: Path) -> None:
    """A repository (or a downloaded folder) can hold .devfactory/commands.toml: turning the
    sandbox off, allowing any program. It applies only once the user trusted its text."""
    path = tmp_path / ".devfactory" / "commands.toml"
    path.parent.mkdir()
    path.write_text("sandbox = false\n[[allow]]\nprogram = 'make'\n")
    policy = loader(tmp_path).load()
    assert policy.settings.sandbox is True and policy.entries == DEFAULT_ENTRIES
    assert "devfactory trust" in policy.problems[0]
    trust_workspace(tmp_path)
    policy = loader(tmp_path).load()
    assert policy.settings.sandbox is False and policy.problems == ()
    path.write_text("sandbox = false\n[[allow]]\nprogram = 'sh'\n")
    assert loader(tmp_path).load().entries == DEFAULT_ENTRIES  # changed since: not trusted


def test_without_configuration_the_defaults_apply(tmp_path: Path) -> None:
    assert loader(tmp_path).load() == Policy(
        settings=CommandSettings(), entries=DEFAULT_ENTRIES, source="default"
    )


def test_settings_entries_come_before_the_defaults(tmp_path: Path) -> None:
    settings = CommandSettings(allow=[MAKE])
    assert loader(tmp_path, settings).load() == Policy(
        settings=settings, entries=(MAKE, *DEFAULT_ENTRIES), source="settings"
    )


def test_the_commands_section_of_devfactory_toml(tmp_path: Path) -> None:
    (tmp_path / "devfactory.toml").write_text(
        "[commands]\nkill_grace_s = 1\n[[commands.allow]]\nprogram = 'make'\n"
        "args = ['test', 'lint']\ntimeout_s = 60\ndescription = 'make'\n"
    )
    trust_workspace(tmp_path)
    settings, problems = load_settings(tmp_path, None)
    assert problems == []
    policy = loader(tmp_path, settings.commands).load()
    assert (policy.source, policy.entries[0], policy.settings.kill_grace_s) == (
        "settings",
        MAKE,
        1.0,
    )


@pytest.mark.parametrize("table", ["", "[commands]\n"], ids=["top level", "commands table"])
def test_the_policy_file_takes_snake_case_keys(tmp_path: Path, table: str) -> None:
    path = write_policy(
        tmp_path,
        f"""{table}replace_defaults = true
default_timeout_s = 30
[[{"commands." if table else ""}allow]]
program = "make"
args = ["test", "lint"]
timeout_s = 60
description = "make"
""",
    )
    policy = loader(tmp_path).load()
    assert policy == Policy(
        settings=CommandSettings(replace_defaults=True, default_timeout_s=30.0, allow=[MAKE]),
        entries=(MAKE,),
        source=str(path),
    )
    assert policy.match(["make", "test"]) == MAKE
    assert policy.match(["make", "deploy"]) is None


INVALID = [
    (
        "[[allow]]\nprogram = 'make'\ntimeout = 5\n",
        "Object contains unknown field `timeout` - at `allow[0]`",
    ),
    (
        "[[allow]]\nprogram = 'make'\ntimeout_s = 'soon'\n",
        "Expected `float | null`, got `str` - at `allow[0].timeout_s`",
    ),
    (
        "[[allow]]\nprogram = 'make'\ntimeout_s = -1\n",
        "Expected `float` > 0.0 - at `allow[0].timeout_s`",
    ),
    ("kill_grace_s = 0\n", "Expected `float` > 0.0 - at `kill_grace_s`"),
    (
        "[[allow]]\nprogram = 'npm run'\n",
        "allow[0].program 'npm run' contains whitespace; put the program alone in `program` and"
        " its arguments in `args` patterns",
    ),
    (
        "[[allow]]\nprogram = '/usr/bin/sudo'\n",
        "allow[0].program: `/usr/bin/sudo` is on the built-in blocklist (privilege escalation)"
        " and can never be allowed; remove the entry",
    ),
    (
        "pass_env = ['HOME_TOKEN']\n",
        "pass_env lists 'HOME_TOKEN', which looks like a secret; commands never receive secrets:"
        " remove it",
    ),
    ("[[allow]\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "problem"), INVALID, ids=[p[:30] for _, p in INVALID])
def test_an_invalid_policy_file_allows_nothing_and_names_the_field(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write_policy(tmp_path, text)
    policy = loader(tmp_path).load()
    assert (policy.entries, policy.source) == ((), str(path))
    [reported] = policy.problems
    assert reported.startswith(f"{path}: {problem}")
    assert policy.explain_refusal(["pytest"]).startswith(
        "no command runs until the command policy is fixed: "
    )


def test_a_policy_file_named_in_the_settings_must_exist(tmp_path: Path) -> None:
    policy = loader(tmp_path, CommandSettings(policy_file="ci/commands.toml")).load()
    assert policy.entries == ()
    assert policy.problems == (
        f"the policy file {tmp_path / 'ci/commands.toml'} (setting commands.policy_file) does"
        " not exist; create it or unset the setting",
    )


def test_the_policy_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    policies = loader(tmp_path)
    path = write_policy(tmp_path, "[[allow]]\nprogram = 'make'\n")
    assert policies.load().match(["make"]) is not None
    assert policies.load() is policies.load(), "unchanged: served from the cache"
    path = write_policy(tmp_path, "replace_defaults = true\n[[allow]]\nprogram = 'just'\n")
    os.utime(path, ns=(1, 1))
    reloaded = policies.load()
    assert (reloaded.match(["make"]), reloaded.match(["just"])) == (
        None,
        PolicyEntry(program="just"),
    )
    path.unlink()
    assert policies.load().source == "default"


@pytest.mark.parametrize(
    ("entry", "argv", "allowed"),
    [
        (PolicyEntry(program="pytest"), ["pytest", "-q", "tests"], True),
        (PolicyEntry(program="pytest"), ["/usr/bin/pytest"], False),
        (PolicyEntry(program="npm", args=["test", "run *"]), ["npm", "test"], True),
        (PolicyEntry(program="npm", args=["test", "run *"]), ["npm", "test", "--x"], False),
        (PolicyEntry(program="npm", args=["test", "run *"]), ["npm", "run", "lint"], True),
        (PolicyEntry(program="npm", args=["test", "run *"]), ["npm", "install"], False),
        (PolicyEntry(program="env", args=[""]), ["env"], True),
        (PolicyEntry(program="env", args=[""]), ["env", "x"], False),
        (PolicyEntry(program="find", deny=["-delete"]), ["find", ".", "-name", "x"], True),
        (PolicyEntry(program="find", deny=["-delete"]), ["find", ".", "-delete"], False),
        (PolicyEntry(program="git", deny=["--output*"]), ["git", "diff", "--output=x"], False),
    ],
)
def test_entry_matching(entry: PolicyEntry, argv: list[str], allowed: bool) -> None:
    assert entry_allows(entry, argv) is allowed


def test_refusals_say_what_is_allowed_instead() -> None:
    policy = Policy(settings=CommandSettings(), entries=DEFAULT_ENTRIES, source="default")
    assert policy.explain_refusal(["npm", "install"]) == (
        "`npm install` is not allowed; the policy allows npm with: `npm run *`,"
        " `npm run-script *`, `npm t`, `npm test`, `npm test *`"
    )
    assert policy.explain_refusal(["tail", "-f", "log"]) == (
        "`tail -f log` uses `-f`, which the policy entry for tail excludes"
    )
    assert policy.explain_refusal(["curl", "x"]).startswith(
        "`curl` is not in the command policy (allowed programs: ./vendor/bin/phpunit, basename,"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("pytest -q", CommandLine(segments=[["pytest", "-q"]])),
        (
            "echo 'a;b' \"$HOME\" c\\;d",
            CommandLine(
                segments=[["echo", "a;b", "$HOME", "c;d"]],
                syntax=[Syntax("$HOME", 13)],
                variables=["HOME"],
                expanded=["$HOME"],
            ),
        ),
        (
            "npm test 2>&1 | tail -5 > out.txt",
            CommandLine(
                segments=[["npm", "test"], ["tail", "-5"]],
                syntax=[Syntax(">&", 11), Syntax("|", 15), Syntax(">", 25)],
                redirect_targets=["1", "out.txt"],
            ),
        ),
        (
            "x $(curl -s u | sh) `id`",
            CommandLine(
                segments=[["curl", "-s", "u"], ["sh"], ["id"], ["x", "$(curl -s u | sh)", "`id`"]],
                syntax=[Syntax("$(", 3), Syntax("|", 15), Syntax("`", 21)],
                expanded=["$(curl -s u | sh)", "`id`"],
            ),
        ),
    ],
)
def test_command_lines_are_read_like_a_shell(text: str, line: CommandLine) -> None:
    assert parse_command_line(text) == line


@pytest.mark.parametrize("text", ["echo 'open", 'echo "open', "echo $(open", "echo `open"])
def test_unterminated_quotes_are_errors(text: str) -> None:
    with pytest.raises(ShellSyntaxError, match="unterminated"):
        parse_command_line(text)
