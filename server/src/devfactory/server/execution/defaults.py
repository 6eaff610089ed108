"""The built-in command policy: test runners, linters and read tools of the known ecosystems.

Nothing here runs through a shell, needs the network or leaves the worktree. ``read_only``
marks tools that neither write the project's files (caches aside) nor run code from the project
or the network: only those run in safe mode. Type checkers and linters that load plugins or
configuration from the project (mypy, eslint, tsc from node_modules; ruff, whose configuration
can make it fix files, write its cache anywhere or read any file) are not read-only.
Formatters and ``--fix`` are ``destructive``: the worktree is snapshotted first.
"""

from __future__ import annotations

from devfactory.protocol.commands import PolicyEntry

_TEST_TIMEOUT_S = 900.0
_NO_INSTALL = ["--install-types"]


def _read(
    program: str, args: list[str] | None = None, deny: list[str] | None = None
) -> PolicyEntry:
    return PolicyEntry(
        program=program,
        args=args or [],
        deny=deny or [],
        read_only=True,
        description="read-only inspection",
    )


def _check(program: str, args: list[str], deny: list[str], description: str) -> PolicyEntry:
    """A checker that runs the project's code (plugins, configuration): not for safe mode."""
    return PolicyEntry(program=program, args=args, deny=deny, description=description)


def _test(program: str, args: list[str], description: str) -> PolicyEntry:
    return PolicyEntry(
        program=program, args=args, timeout_s=_TEST_TIMEOUT_S, description=description
    )


_GIT_READS = [f"{verb}{tail}" for verb in ("status", "diff", "log", "show") for tail in ("", " *")]

DEFAULT_ENTRIES: tuple[PolicyEntry, ...] = (
    # Python
    _test("pytest", [], "pytest"),
    _test("python", ["-m pytest", "-m pytest *"], "pytest"),
    _test("python3", ["-m pytest", "-m pytest *"], "pytest"),
    PolicyEntry(
        program="ruff",
        args=[
            *("format", "format *", "check --fix*", "check * --fix*"),
            *("check --add-noqa*", "check * --add-noqa*"),
        ],
        destructive=True,
        description="formatting and autofixes (snapshot first)",
    ),
    _read("ruff", ["--version"]),
    _check(
        "ruff",
        ["check", "check *"],
        ["--output-file*", "-o*", "--add-noqa*"],
        "lint (obeys the project's configuration: fix = true, cache-dir, extend)",
    ),
    _check("mypy", [], _NO_INSTALL, "type checking (loads the project's mypy plugins)"),
    *(
        _check(python, ["-m mypy", "-m mypy *"], _NO_INSTALL, "type checking")
        for python in ("python", "python3")
    ),
    # JavaScript / TypeScript
    _test("npm", ["test", "test *", "t", "run *", "run-script *"], "package scripts"),
    _test("yarn", ["test", "test *", "run *"], "package scripts"),
    _test("pnpm", ["test", "test *", "run *"], "package scripts"),
    _check("npx", ["tsc --noEmit*", "eslint*"], ["--fix*"], "type checking and lint"),
    PolicyEntry(program="npx", args=["tsc", "tsc *"], description="TypeScript build"),
    _test("npx", ["jest", "jest *", "vitest", "vitest *", "mocha", "mocha *"], "test runners"),
    # PHP
    _test("php", ["artisan test", "artisan test *"], "Laravel tests"),
    _test("vendor/bin/phpunit", [], "PHPUnit"),
    _test("./vendor/bin/phpunit", [], "PHPUnit"),
    _test("vendor/bin/pest", [], "Pest"),
    _check("composer", ["validate", "validate *"], [], "composer.json check (loads plugins)"),
    # Swift, Go, Rust
    _test("swift", ["test", "test *", "build", "build *"], "SwiftPM"),
    _test("go", ["test *", "vet *", "build *"], "Go toolchain"),
    _test("cargo", ["test", "test *", "check", "check *", "clippy", "clippy *"], "Cargo"),
    # git, read-only: no output files, no external diff programs (nor their abbreviations)
    _read("git", _GIT_READS, ["--output*", "--ext*", "--textc*"]),
    _read("git", ["rev-parse *", "ls-files", "ls-files *", "blame *", "branch", "branch --list*"]),
    # Read tools. The path checks see arguments, not the links a tool finds while walking, so
    # no option that follows symlinks (grep -R, rg -L, find -L, du -L, tree -l, ls -L), and
    # diff, which follows them by default, only with --no-dereference first.
    *(_read(tool) for tool in ("cat", "head", "pwd", "echo", "stat")),
    _read("wc", [], ["--files0*"]),  # nor the names a file lists, which no path check sees
    _read("ls", [], ["-L", "--dereference"]),
    _read("grep", [], ["-R", "--der*"]),
    _read("file", [], ["-C", "--compile", "-f", "--files-from*"]),
    _read("du", [], ["-L", "--dereference", "--files0*"]),
    _read("diff", ["--no-dereference", "--no-dereference *"]),
    *(_read(tool) for tool in ("uniq", "basename", "dirname", "realpath")),
    _read("tail", [], ["-f", "-F", "--follow*"]),
    _read("rg", [], ["--pre*", "--search-zip", "-z", "-L", "--follow", "--hostname-bin*"]),
    _read(
        "find",
        [],
        ["-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint*", "-fls", "-L", "-follow"],
    ),
    _read("tree", [], ["-o*", "-l"]),
    _read("sort", [], ["-o*", "--o*", "--co*", "--files0*"]),  # --output, --compress-program
)
"""In order: the first matching entry decides (user entries come before these)."""
