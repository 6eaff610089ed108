"""The verdict of the real ``evaluate()`` under the default policy on hostile command strings.

Without the sandbox (always on macOS) a command the policy deems read-only runs without asking
the user, so these checks are the only protection there: each case names what must be refused
(the rule, and words the reason must contain) or that it stays allowed and read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from devfactory.protocol.commands import PolicyEntry
from devfactory.protocol.settings import CommandSettings
from devfactory.server.execution.policy import Policy, PolicyLoader
from devfactory.server.execution.verdict import evaluate

DEFAULT = PolicyLoader._policy(CommandSettings(), "default")
NAIVE = PolicyLoader._policy(
    CommandSettings(allow=[PolicyEntry(program="sort", read_only=True)]), "settings"
)
"""A user entry marking sort read-only without the default's deny list."""


@dataclass(frozen=True)
class Case:
    command: str
    rule: str | None
    """The refusal rule; None: allowed, and read-only (runs without consent in safe mode)."""
    says: tuple[str, ...] = ()
    """Words the refusal must contain."""
    safe: bool = True
    policy: Policy = DEFAULT


@pytest.fixture
def worktree(tmp_path: Path) -> str:
    """A run worktree: a ``.git`` pointer file, a few files, a folder outside it and a link
    (committed by the project) to that folder."""
    root = tmp_path / "wt"
    (root / "src").mkdir(parents=True)
    (root / ".git").write_text("gitdir: /elsewhere/.git/worktrees/run-1\n")
    for name in ("README.md", "ptr", "src/app.py"):
        (root / name).write_text("x\n")
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    return str(root)


def check(case: Case, worktree: str) -> None:
    command = case.command.replace("{outside}", str(Path(worktree).parent / "outside"))
    verdict = evaluate(command, case.policy, worktree, safe_mode=case.safe)
    if case.rule is None:
        assert verdict.allowed, verdict.refusal
        assert verdict.runs_code is None, verdict.runs_code
        return
    assert verdict.rule == case.rule, verdict.refusal or "allowed"
    for words in case.says:
        assert words in (verdict.refusal or "")


CLUSTERS = [
    Case("sort -uo{outside}/x README.md", "outside_worktree", ("`-uo", "points outside")),
    Case("sort -uo={outside}/x README.md", "outside_worktree", ("points outside",)),
    Case("ruff check -qo{outside}/x .", "outside_worktree", ("points outside",), safe=False),
    Case("file -bf{outside}/secret", "outside_worktree", ("`-bf",)),
    Case("grep -if/etc/passwd README.md", "outside_worktree", ("/etc/passwd",)),
    Case("sort -uo out.txt README.md", "not_allowed", ("uses `-uo`",)),
    Case("sort -uo out.txt README.md ", "safe_mode", ("`-uo` writes",), policy=NAIVE),
    Case("sort --out=x README.md", "safe_mode", ("`--out=x` writes",), policy=NAIVE),
    Case("sort --outp=out.txt README.md", "not_allowed", ("`--outp=out.txt`",)),
    Case("ruff check -qoout.txt .", "not_allowed", ("uses `-qoout.txt`",), safe=False),
    Case("tree -ao out.txt", "not_allowed", ("uses `-ao`",)),
    Case("tail -qf README.md", "not_allowed", ("uses `-qf`",)),
    Case("rg -iz pattern", "not_allowed", ("uses `-iz`",)),
    Case("file -bC", "not_allowed", ("uses `-bC`",)),
    Case("sort -u" + "u" * 40 + "o{outside}/x README.md", "outside_worktree", ("too long",)),
    # Everyday commands stay allowed.
    Case("sort -rn README.md", None),
    Case("sort README.md", None),
    Case("grep -rn foo .", None),
    Case("grep -C3 foo README.md", None),
    Case("git status -uno", None),
    Case("ls -la src", None),
    Case("tail -n5 README.md", None),
    Case("rg foo", None),
]


@pytest.mark.parametrize("case", CLUSTERS, ids=[c.command[:50] for c in CLUSTERS])
def test_clustered_short_options_are_read_as_getopt_reads_them(case: Case, worktree: str):
    """``-uo/x`` is ``-u -o /x``: every letter of a cluster may take the rest as its value."""
    check(case, worktree)


GIT_FILE = [
    Case("uniq ptr .git", "delete_worktree", ("`.git`", "the worktree's .git")),
    Case("sort -uo.git ptr", "delete_worktree", ("`-uo.git`", "the worktree's .git")),
    Case("sort -o .git ptr", "delete_worktree", ("the worktree's .git",)),
    Case("tree -o./.git", "delete_worktree", ("the worktree's .git",)),
    Case("cat .git", "delete_worktree", ("the worktree's .git",)),
    Case("grep -r foo -- .git", "delete_worktree", ("the worktree's .git",)),
    Case("./grep --exclude-dir=.git foo .", "delete_worktree", ("the worktree's .git",)),
    Case("sort --exclude=.git ptr", "delete_worktree", ("the worktree's .git",)),
    Case("find . -name x -fprint .git", "delete_worktree", ("the worktree's .git",)),
    Case("uniq ptr out.txt", "safe_mode", ("`uniq` writes its second operand",)),
    Case("uniq -c - out.txt", "safe_mode", ("`uniq` writes its second operand",)),
    Case("uniq -- -c out.txt", "safe_mode", ("`uniq` writes its second operand",)),
    Case("uniq -cf ptr out.txt", "safe_mode", ("`uniq` writes its second operand",)),
    # Everyday commands stay allowed.
    Case("uniq ptr", None),
    Case("uniq -c -f 1 ptr", None),
    Case("uniq --skip-fields 2 -w 3 ptr", None),
    Case("find . -name x", None),
    # A name pattern is not a file: excluding .git is what a careful command does.
    Case("grep -rn --exclude-dir=.git foo .", None),
    Case("grep -rn --exclude-dir .git --exclude=.gitignore foo .", None),
    Case("rg -g '!.git' foo", None),
    Case("rg --glob=!.git/** foo", None),
    Case("find . -name .git -prune -o -type f -print", None),
    Case("find . -path ./.git -prune -o -name '*.py' -print", None),
    Case("tree -I .git", None),
    Case("ls -a --ignore=.git", None),
    Case("du -sh --exclude=.git .", None),
    Case("ls -a", None),
]


@pytest.mark.parametrize("case", GIT_FILE, ids=[c.command for c in GIT_FILE])
def test_no_command_names_the_worktrees_git(case: Case, worktree: str) -> None:
    """A read tool's output file could overwrite the ``.git`` pointer, and the daemon's next git
    call would follow an attacker's ``gitdir:`` (and run its core.fsmonitor)."""
    check(case, worktree)


def test_the_worktrees_git_is_found_by_identity_not_spelling(worktree: str) -> None:
    """On a case-insensitive filesystem (macOS by default) ``.GIT`` is ``.git``."""
    Path(worktree, "GIT-ALIAS").hardlink_to(Path(worktree, ".git"))
    verdict = evaluate("uniq ptr GIT-ALIAS", DEFAULT, worktree, safe_mode=False)
    assert verdict.rule == "delete_worktree", verdict.refusal


FOLLOW = [
    *(
        Case(command, "not_allowed", (f"uses `{flag}`",))
        for command, flag in [
            ("grep -R SECRET .", "-R"),
            ("grep -inR SECRET .", "-inR"),
            ("grep --dereference-recursive SECRET .", "--dereference-recursive"),
            ("grep --derefer SECRET .", "--derefer"),
            ("rg -L SECRET", "-L"),
            ("rg -aL SECRET", "-aL"),
            ("rg --follow SECRET", "--follow"),
            ("find -L . -type f", "-L"),
            ("find . -follow -type f", "-follow"),
            ("du -aL .", "-aL"),
            ("du --dereference .", "--dereference"),
            ("tree -al", "-al"),
            ("ls -RL src", "-RL"),
            ("ls -R --dereference src", "--dereference"),
        ]
    ),
    Case("diff -r src src", "not_allowed", ("`diff --no-dereference *`",)),
    Case("diff src src", "not_allowed", ("`diff --no-dereference *`",)),
    # Everyday commands stay allowed.
    Case("grep -rn foo .", None),
    Case("rg -n foo src", None),
    Case("find . -name x -type f", None),
    Case("du -sh src", None),
    Case("du --dereference-args src", None),
    Case("tree -L 2 src", None),
    Case("ls -lR src", None),
    Case("diff --no-dereference -ru src src", None),
]


@pytest.mark.parametrize("case", FOLLOW, ids=[c.command for c in FOLLOW])
def test_recursive_reads_do_not_follow_links_out_of_the_worktree(case: Case, worktree: str):
    """The path checks see arguments, not the links a tool finds while walking: a committed
    ``docs -> ~/.ssh`` or ``p -> /proc`` is read by any tool that follows it."""
    check(case, worktree)


RUFF = [
    Case("ruff check .", "safe_mode", ("`ruff check .` is not read-only",)),
    Case("ruff check app.py", "safe_mode", ("`ruff check app.py` is not read-only",)),
    # Everyday commands stay allowed (outside safe mode: sandboxed, or with consent).
    Case("ruff --version", None),
]


@pytest.mark.parametrize("case", RUFF, ids=[c.command for c in RUFF])
def test_ruff_check_is_not_read_only(case: Case, worktree: str) -> None:
    """ruff obeys the project's configuration: ``fix = true`` rewrites files, ``cache-dir``
    writes anywhere and ``extend`` reads any file (its parse errors quote it)."""
    check(case, worktree)


def test_ruff_check_runs_outside_safe_mode(worktree: str) -> None:
    verdict = evaluate("ruff check .", DEFAULT, worktree, safe_mode=False)
    assert verdict.allowed and verdict.runs_code is not None


SHELL_POLICY = PolicyLoader._policy(
    CommandSettings(
        allow=[
            PolicyEntry(program="echo", shell=True, read_only=True),
            PolicyEntry(program="wc", shell=True, read_only=True),
        ]
    ),
    "settings",
)
SHELL = [
    *(
        Case(command, "shell_syntax", (f"`{word}` is expanded by the shell",), policy=SHELL_POLICY)
        for command, word in [
            ("echo pwned > $HOME/.bashrc", "$HOME/.bashrc"),
            ("echo pwned > ${PWD%/*}/x", "${PWD%/*}/x"),
            ('echo pwned > "$HOME"/x', "$HOME/x"),
            ("wc -c $HOME/.ssh/id_rsa", "$HOME/.ssh/id_rsa"),
            ("wc -c `echo $HOME`/x", "$HOME"),
            ("echo | wc -c l*/secret", "l*/secret"),
            ("echo | wc -c lin?/secret", "lin?/secret"),
            ("echo | wc -c [l]ink/secret", "[l]ink/secret"),
            ("echo | wc -c {/etc/passwd,x}", "{/etc/passwd,x}"),
            ("wc -c $'\\x2e\\x2e'/x", "$\\x2e\\x2e/x"),
        ]
    ),
    # Without shell syntax no shell runs: the word reaches wc as it is.
    Case("wc -c l*/secret", None, policy=SHELL_POLICY),
    # Quoted, nothing is expanded: still allowed.
    Case("echo '$HOME' '*' | wc -c", None, policy=SHELL_POLICY),
    Case('echo "a*b" | wc -c', None, policy=SHELL_POLICY),
    Case("echo hi > out.txt", None, policy=SHELL_POLICY),
]


@pytest.mark.parametrize("case", SHELL, ids=[c.command for c in SHELL])
def test_shell_words_the_policy_cannot_resolve_are_refused(case: Case, worktree: str):
    """``$HOME/.bashrc`` looks like a relative path to the checks; only the shell knows it."""
    check(case, worktree)


LISTED = [
    *(
        Case(command, "not_allowed", (f"uses `{flag}`",))
        for command, flag in [
            ("sort --files0-from=names", "--files0-from=names"),
            ("wc --files0-from names", "--files0-from"),
            ("du --files0-from=names", "--files0-from=names"),
            ("file -f names", "-f"),
            ("file --files-from names", "--files-from"),
            ("rg --hostname-bin=./x.sh --hyperlink-format=default foo", "--hostname-bin=./x.sh"),
        ]
    ),
    # Everyday commands stay allowed.
    Case("wc -l README.md", None),
    Case("file README.md", None),
    Case("sort -u ptr", None),
]


@pytest.mark.parametrize("case", LISTED, ids=[c.command for c in LISTED])
def test_no_read_tool_reads_names_or_runs_programs_from_a_file(case: Case, worktree: str):
    """The path checks see the command's words, not the names a file lists (``sort
    --files0-from`` prints each listed file) nor a program ripgrep 14 runs for its hostname."""
    check(case, worktree)
