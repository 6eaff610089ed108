"""The built-in refusals: what no policy entry can allow.

Every simple command in a command line is checked, including those inside ``$(...)``,
backticks, ``sh -c '...'`` scripts, ``find -exec`` and wrappers (``env``, ``timeout``,
``xargs``, ``nice``...), so ``timeout 5 env sudo id`` is refused like ``sudo id``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from devfactory.protocol.commands import BlockRule

from .environment import is_secret_name
from .pathguard import GIT, candidates, find_escape, names_worktree_core
from .shellsyntax import CommandLine, ShellSyntaxError, parse_command_line

RULES: dict[str, BlockRule] = {
    rule.name: rule
    for rule in [
        BlockRule(
            name="privilege_escalation",
            reason="Privilege escalation (sudo, su, doas, pkexec, setuid bits...) is never run.",
        ),
        BlockRule(
            name="download_to_shell",
            reason="Downloading code and running it in one command (curl ... | sh) is never run.",
        ),
        BlockRule(
            name="git_remote",
            reason="git push and commands that change remotes are refused: pushes go through"
            " review (devfactory/git/push).",
        ),
        BlockRule(
            name="secret_variable",
            reason="Commands may not read secret environment variables (API keys, tokens).",
        ),
        BlockRule(
            name="delete_worktree",
            reason="Deleting or moving the worktree root or a folder holding it is never run, and"
            " no command may name the worktree's .git.",
        ),
        BlockRule(
            name="outside_worktree",
            reason="Commands may only name paths inside the run's worktree; writes anywhere"
            " else are refused.",
        ),
    ]
}

PRIVILEGE_PROGRAMS = frozenset(
    {"sudo", "su", "doas", "pkexec", "runuser", "chroot", "nsenter", "setpriv", "capsh", "sudoedit"}
)
DOWNLOADERS = frozenset({"curl", "wget", "fetch", "aria2c", "http", "https", "lwp-download", "nc"})
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh"})
RUNNERS = SHELLS | frozenset(
    {"python", "python3", "perl", "ruby", "node", "php", "deno", "bun", "source", ".", "eval"}
)
DELETERS = frozenset({"rm", "rmdir", "unlink", "shred", "srm", "trash", "trash-put", "mv"})
REDIRECTIONS = "<redirections>"
"""Pseudo program of the redirection targets of a ``sh -c`` script (see ``expand``)."""
REMOTE_CONFIG = re.compile(
    r"^(remote\.|url\.|credential|push\.|alias\.|protocol\.|core\.(sshcommand|gitproxy|askpass)"
    r"|branch\..*\.(push)?remote$)",
    re.IGNORECASE,
)
"""git settings that change where git connects, or (aliases) what a git command does."""

#: Wrappers that run the rest of their arguments as a command: (options that take a value,
#: positional arguments of their own), so ``timeout -s KILL 5 sudo id`` finds ``sudo``.
WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p", "--class", "--classdata"}), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "xargs": (frozenset({"-I", "-n", "-P", "-d", "-a", "-E", "-s", "-L", "--max-args"}), 0),
    "taskset": (frozenset(), 1),
    "flock": (frozenset({"-w", "--timeout", "-E"}), 1),
    "nohup": (frozenset(), 0),
    "time": (frozenset({"-f", "-o"}), 0),
    "command": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "builtin": (frozenset(), 0),
    "setsid": (frozenset(), 0),
    "unbuffer": (frozenset(), 0),
    "chronic": (frozenset(), 0),
    "strace": (frozenset({"-e", "-o", "-p", "-s"}), 0),
}
_VARIABLE = re.compile(r"\$\{?[#!]?([A-Za-z_][A-Za-z0-9_]*)")
"""Expansions inside words, e.g. of a ``bash -c '...'`` script."""
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Block:
    """A built-in refusal: the rule and a sentence naming what triggered it."""

    rule: str
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.detail}. {RULES[self.rule].reason}"


def program_name(word: str) -> str:
    return os.path.basename(word)


def _shown(argv: Sequence[str], limit: int = 80) -> str:
    text = " ".join(argv)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _strip_wrapper(argv: list[str]) -> list[str] | None:
    """The wrapped command of ``env FOO=1 timeout 5 cmd ...``, or None if not a wrapper."""
    spec = WRAPPERS.get(program_name(argv[0]))
    if spec is None:
        return None
    takes_value, positional = spec
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if word in takes_value:
            i += 2
        elif word.startswith("-") or _ASSIGNMENT.match(word):
            i += 1
        else:
            break
    return argv[i + positional :]


def expand(argv: Sequence[str], depth: int = 0) -> Iterator[list[str]]:
    """``argv`` and every command it runs: unwrapped wrappers, ``sh -c`` scripts, find -exec."""
    words = list(argv)
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]
    if not words or depth > 8:
        return
    yield words
    name = program_name(words[0])
    inner = _strip_wrapper(words)
    if inner:
        yield from expand(inner, depth + 1)
    elif name in SHELLS or name == "busybox":
        for i, word in enumerate(words[1:-1], start=1):
            if word.startswith("-") and "c" in word.lstrip("-") and not word.startswith("--"):
                try:
                    script = parse_command_line(words[i + 1])
                except ShellSyntaxError:
                    continue
                for segment in script.segments:
                    yield from expand(segment, depth + 1)
                if script.redirect_targets:
                    # Not a command: lets the path checks see the script's redirections.
                    yield [REDIRECTIONS, *script.redirect_targets]
                break
    elif name == "find":
        for i, word in enumerate(words):
            if word in ("-exec", "-execdir", "-ok", "-okdir"):
                rest = words[i + 1 :]
                end = next((j for j, w in enumerate(rest) if w in (";", "+")), len(rest))
                yield from expand(rest[:end], depth + 1)


def _git_subcommand(argv: list[str]) -> tuple[list[str], list[str]]:
    """(``-c key=value`` settings, subcommand with its arguments) of a git command line."""
    settings: list[str] = []
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in ("-c", "--config-env"):
            settings.append(argv[i + 1] if i + 1 < len(argv) else "")
            i += 2
        elif word in ("-C", "--git-dir", "--work-tree", "--namespace", "--exec-path"):
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            break
    return settings, argv[i:]


def _git_remote_change(argv: list[str]) -> str | None:
    settings, sub = _git_subcommand(argv)
    for setting in settings:
        if REMOTE_CONFIG.match(setting.split("=", 1)[0]):
            return f"`git -c {setting}` changes where git talks to"
    if not sub:
        return None
    verb, rest = sub[0], sub[1:]
    if verb in ("push", "send-pack", "http-push", "send-email", "request-pull"):
        return f"`git {verb}` sends work to a remote"
    if verb == "remote" and rest and rest[0] not in ("-v", "--verbose", "show", "get-url"):
        return f"`git remote {rest[0]}` changes the remotes"
    if verb == "config":
        keys = [w for w in rest if not w.startswith("-")]
        if keys and REMOTE_CONFIG.match(keys[0]) and len(keys) > 1:
            return f"`git config {keys[0]}` changes where git talks to"
    if verb in ("submodule",) and rest[:1] in (["add"], ["set-url"], ["sync"]):
        return f"`git submodule {rest[0]}` changes remotes"
    if verb == "lfs" and rest[:1] == ["push"]:
        return "`git lfs push` sends work to a remote"
    if verb == "worktree" and rest[:1] in (["remove"], ["move"], ["prune"]):
        return f"`git worktree {rest[0]}` would remove the run's worktree"
    return None


def _privilege(argv: list[str]) -> str | None:
    name = program_name(argv[0])
    if name in PRIVILEGE_PROGRAMS:
        return f"`{name}` runs commands with other privileges"
    if name == "chmod":
        for word in argv[1:]:
            if re.match(r"^[ugoa]*[+=][rwxXt]*s", word) or (
                re.fullmatch(r"[0-7]{4,}", word) and int(word, 8) & 0o6000
            ):
                return f"`chmod {word}` sets a setuid/setgid bit"
    return None


def _deletes_core(argv: list[str], worktree: str) -> str | None:
    """Why ``argv`` would delete the worktree or a folder holding it, or may touch its .git:
    any argument or option value of any command may be an output file (``uniq a .git``,
    ``sort -uo.git``), so none may name .git."""
    name = program_name(argv[0])
    if name == "find" and "-delete" in argv:
        targets = [w for w in argv[1:] if not w.startswith(("-", "(", "!"))][:1] or ["."]
    elif name in DELETERS:
        targets = [w for w in argv[1:] if not w.startswith("-")]
    else:
        targets = []
    for target in targets:
        if what := names_worktree_core(target, worktree):
            return f"`{_shown(argv)}` would delete or overwrite {what}"
    patterns = _pattern_values(argv)
    for index, word in enumerate(argv[1:], 1):
        if index in patterns:
            continue
        if any(names_worktree_core(c, worktree) == GIT for c in candidates(word)):
            return f"`{_shown(argv)}` names {GIT} (`{word}`), which a command could overwrite"
    return None


PATTERN_OPTIONS: dict[str, frozenset[str]] = {
    "grep": frozenset({"--exclude-dir", "--exclude", "--include"}),
    "rg": frozenset({"-g", "--glob", "--iglob"}),
    "find": frozenset(
        {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex"}
    ),
    "tree": frozenset({"-I", "-P"}),
    "ls": frozenset({"-I", "--ignore", "--hide"}),
    "du": frozenset({"--exclude"}),
}
"""Options of read tools whose value is a name pattern, never a file they open or write: the
everyday ``grep -r --exclude-dir=.git`` and ``find . -name .git -prune`` name .git harmlessly.
None of these tools writes (their output options are denied), so a word misread as a pattern
(``grep -e --exclude .git``) can at worst be read, never overwritten."""


def _pattern_values(argv: list[str]) -> set[int]:
    """Indexes of the words of ``argv`` that are a pattern option's value (``--opt=.git`` or
    the word after ``--opt``). Only the tools themselves, by their bare name (``./grep`` is the
    project's program), and only before ``--``, after which every word is an operand."""
    options = PATTERN_OPTIONS.get(argv[0], frozenset())
    found: set[int] = set()
    for index, word in enumerate(argv[1:], 1):
        if word == "--":
            break
        if word in options and index + 1 < len(argv):
            found.add(index + 1)
        elif word.partition("=")[0] in options and word.startswith("--"):
            found.add(index)
    return found


def check_blocklist(line: CommandLine, worktree: str) -> Block | None:
    """The first built-in rule the command line breaks, or None."""
    commands = [cmd for segment in line.segments for cmd in expand(segment)]
    for argv in commands:
        if detail := _privilege(argv):
            return Block("privilege_escalation", detail)
    names = {program_name(argv[0]) for argv in commands}
    if (fetch := names & DOWNLOADERS) and (run := names & RUNNERS):
        return Block(
            "download_to_shell", f"`{min(fetch)}` and `{min(run)}` together download and run code"
        )
    for argv in commands:
        if program_name(argv[0]) == "git" and (detail := _git_remote_change(argv)):
            return Block("git_remote", detail)
    words = [w for argv in commands for w in argv]
    expanded = line.variables + [m for w in words for m in _VARIABLE.findall(w)]
    for name in expanded:
        if is_secret_name(name):
            return Block("secret_variable", f"`${name}` names a secret")
    secret_words = [w for w in words if is_secret_name(w)]
    for argv in commands:
        if program_name(argv[0]) in ("printenv", "env") and secret_words:
            return Block("secret_variable", f"`{argv[0]} {secret_words[0]}` prints a secret")
    for target in line.redirect_targets:
        if (what := names_worktree_core(target, worktree)) == GIT:
            return Block("delete_worktree", f"`> {target}` would overwrite {what}")
    for argv in commands:
        if detail := _deletes_core(argv, worktree):
            return Block("delete_worktree", detail)
    for words in [*(argv[1:] for argv in commands), line.redirect_targets]:
        if detail := find_escape(words, worktree):
            return Block("outside_worktree", detail)
    return None
