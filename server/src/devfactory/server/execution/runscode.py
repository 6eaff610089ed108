"""What safe mode refuses whatever the policy says: commands that run code or fetch packages.

A ``read_only`` entry promises a command neither writes the project nor runs code from it or
from the network. Many tools break that promise in ways an allowlist of programs does not see:
through an option (``sort --compress-program``, ``find -exec``, ``tar --to-command``, ``rsync
-e``, ``man -P``, ``zip -TT``, ``git -c``), a script language (``awk``'s ``system()``,
``sed``'s ``e`` and ``w``), configuration that loads plugins (mypy, eslint, pytest's
``conftest.py``), or by being a runner (``python -m``, ``npx``, ``xargs``, ``env``). This
module names them; :mod:`.verdict` refuses them in safe mode even when a user's entry marks
them read-only. GNU tools accept any unambiguous abbreviation of a long option
(``--comp`` for ``--compress-program``), so long options are matched as prefixes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .blocklist import RUNNERS, WRAPPERS, program_name
from .pathguard import is_within

#: Programs that execute code from the project (its tests, plugins, configuration, scripts) or
#: fetch and run packages, whatever their arguments.
PROJECT_RUNNERS = frozenset(
    {
        *("mypy", "dmypy", "pytest", "py.test", "tox", "nox", "pre-commit", "pip", "pip3"),
        *("pipx", "uv", "uvx", "poetry", "pdm", "hatch", "make", "cmake", "ninja", "meson"),
        *("cargo", "go", "npm", "npx", "pnpm", "pnpx", "yarn", "bunx", "eslint", "prettier"),
        *("tsc", "jest", "vitest", "mocha", "composer", "phpunit", "pest", "swift", "gradle"),
        *("gradlew", "mvn", "mvnw", "ant", "rake", "bundle", "gem", "rspec", "dotnet"),
    }
)
#: Programs whose job is to run other programs or scripts.
PROGRAM_RUNNERS = (
    RUNNERS
    | frozenset(WRAPPERS)
    | frozenset(
        {
            *("awk", "gawk", "mawk", "nawk", "busybox", "watch", "parallel", "script"),
            *("expect", "gdb", "lldb", "ssh", "scp", "sftp", "vi", "vim", "nvim", "emacs"),
            *("nano", "ed", "ex", "less", "more", "most", "pg"),
        }
    )
)

Check = Callable[[list[str]], str | None]
"""Why a program's arguments make it run code or write, else None."""


def long_option(word: str, option: str, shortest: int) -> bool:
    """``word`` is ``option`` (with or without ``=value``) or an abbreviation of it of at
    least ``shortest`` characters, as getopt_long accepts."""
    name = word.split("=", 1)[0]
    return len(name) >= shortest and option.startswith(name)


def short_option(word: str, letters: str) -> bool:
    """``word`` is a cluster of short options (``-xvI``) that contains one of ``letters``."""
    return word.startswith("-") and not word.startswith("--") and any(c in letters for c in word)


def _first(args: list[str], test: Callable[[str], bool], reason: str) -> str | None:
    found = next((word for word in args if test(word)), None)
    return None if found is None else f"`{found}` {reason}"


def _sort(args: list[str]) -> str | None:
    return _first(
        args,
        lambda w: long_option(w, "--compress-program", 4),
        "runs a program to compress temporary files",
    ) or _first(
        args, lambda w: short_option(w, "o") or long_option(w, "--output", 3), "writes a file"
    )


UNIQ_VALUES = frozenset({"-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars"})
"""uniq options whose value is the next word; any other word is counted as an operand."""


def _uniq(args: list[str]) -> str | None:
    """``uniq INPUT OUTPUT`` writes OUTPUT: read-only with at most one operand."""
    operands, i = 0, 0
    while i < len(args):
        word = args[i]
        if word == "--":
            operands += len(args) - i - 1
            break
        if word in UNIQ_VALUES:
            i += 1
        elif word == "-" or not word.startswith("-"):
            operands += 1
        i += 1
    return "`uniq` writes its second operand (an output file)" if operands > 1 else None


FIND_RUNS = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
FIND_WRITES = frozenset({"-delete", "-fls", "-fprint", "-fprint0", "-fprintf"})


def _find(args: list[str]) -> str | None:
    return _first(args, FIND_RUNS.__contains__, "runs a program for each file") or _first(
        args, FIND_WRITES.__contains__, "deletes or writes files"
    )


READ_GIT = frozenset(
    {
        *("status", "diff", "log", "show", "rev-parse", "ls-files", "ls-tree", "blame"),
        *("branch", "shortlog", "describe", "cat-file", "rev-list", "show-ref", "merge-base"),
        *("name-rev", "grep", "count-objects", "version"),
    }
)
"""git subcommands that read and run no hooks; any other word may be an alias (``!cmd``)."""


def _git(args: list[str]) -> str | None:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        word = args[i]
        if word.startswith("-c") or long_option(word, "--config-env", 5):
            return f"`git {word}` sets configuration that can name programs to run"
        if long_option(word, "--exec-path", 4) and "=" in word:
            return f"`{word}` makes git run programs from another folder"
        i += 2 if word in ("-C", "--git-dir", "--work-tree", "--namespace") else 1
    if i == len(args):
        return None
    verb, rest = args[i], args[i + 1 :]
    if verb not in READ_GIT:
        return f"`git {verb}` is not a read-only git command (it may be an alias or run hooks)"
    if verb == "branch" and (changes := _branch_change(rest)):
        return changes
    return (
        _first(rest, lambda w: long_option(w, "--ext-diff", 5), "runs an external diff program")
        or _first(rest, lambda w: long_option(w, "--textconv", 7), "runs text conversion filters")
        or _first(rest, lambda w: long_option(w, "--output", 6), "writes a file")
        or _first(
            rest,
            lambda w: (
                verb == "grep"
                and (w.startswith("-O") or long_option(w, "--open-files-in-pager", 4))
            ),
            "runs a pager program",
        )
    )


BRANCH_CHANGES = (
    ("--delete", 4),
    ("--move", 4),
    ("--copy", 4),
    ("--force", 4),
    ("--set-upstream-to", 5),
    ("--unset-upstream", 4),
    ("--edit-description", 3),
    ("--track", 4),
    ("--no-track", 6),
    ("--create-reflog", 4),
)


def _branch_change(args: list[str]) -> str | None:
    """Why ``git branch ARGS`` would create, change or delete a branch."""
    if found := _first(
        args,
        lambda w: (
            short_option(w, "dDmMcCfut") or any(long_option(w, o, n) for o, n in BRANCH_CHANGES)
        ),
        "changes branches",
    ):
        return found
    listing = any(w in ("--list", "-l") or long_option(w, "--list", 4) for w in args)
    names = [w for w in args if not w.startswith("-")]
    if names and not listing:
        return f"`git branch {names[0]}` creates a branch"
    return None


TAR_LONG = (
    ("--to-command", 5),
    ("--use-compress-program", 5),
    ("--checkpoint-action", 13),
    ("--info-script", 6),
    ("--new-volume-script", 5),
    ("--rsh-command", 5),
    ("--rmt-command", 5),
)


def _tar(args: list[str]) -> str | None:
    def runs(word: str) -> bool:
        return short_option(word, "IF") or any(long_option(word, o, n) for o, n in TAR_LONG)

    if args and not args[0].startswith("-") and any(c in "IF" for c in args[0]):
        return f"`tar {args[0]}` runs a program (I: compressor, F: volume script)"
    return _first(args, runs, "makes tar run a program")


def _rsync(args: list[str]) -> str | None:
    return _first(
        args,
        lambda w: (
            short_option(w, "e") or long_option(w, "--rsh", 4) or long_option(w, "--rsync-path", 8)
        ),
        "makes rsync run a program",
    )


def _zip(args: list[str]) -> str | None:
    return _first(
        args,
        lambda w: w.startswith("-TT") or long_option(w, "--unzip-command", 8),
        "runs a program to test the archive",
    )


def _man(args: list[str]) -> str | None:
    return _first(
        args,
        lambda w: short_option(w, "PH") or long_option(w, "--pager", 4),
        "runs a pager or browser program",
    ) or _first(args, lambda w: long_option(w, "--html", 4), "runs a browser program")


def _sed(args: list[str]) -> str | None:
    if found := _first(
        args,
        lambda w: short_option(w, "i") or long_option(w, "--in-place", 4),
        "edits files in place",
    ):
        return found
    if not any(long_option(w, "--sandbox", 4) for w in args):
        return "sed runs commands (its `e` command) and writes files (`w`) without --sandbox"
    return None


def _rg(args: list[str]) -> str | None:
    return _first(
        args, lambda w: w == "--pre" or w.startswith("--pre="), "runs a program on each file"
    )


OPTIONS: dict[str, Check] = {
    "rg": _rg,
    "sort": _sort,
    "uniq": _uniq,
    "find": _find,
    "git": _git,
    "tar": _tar,
    "rsync": _rsync,
    "zip": _zip,
    "man": _man,
    "sed": _sed,
}


def runs_code(argv: Sequence[str], worktree: str) -> str | None:
    """Why ``argv`` would run code or write files despite a read-only entry, else None."""
    program = argv[0]
    name = program_name(program)
    if "/" in program and is_within(os.path.realpath(os.path.join(worktree, program)), worktree):
        return f"`{program}` is the project's own code"
    if name in PROJECT_RUNNERS:
        return f"`{name}` loads code from the project (plugins, configuration) or fetches packages"
    if name in PROGRAM_RUNNERS or name.startswith(("python", "pypy")):
        return f"`{name}` runs other programs or code"
    check = OPTIONS.get(name)
    return None if check is None else check(list(argv[1:]))
