"""Decide whether a command string runs, and how: the one gate every command passes.

Order matters for the reason the model reads: an unreadable command, then the built-in
blocklist (no entry can lift it), then shell syntax (only entries with ``shell`` accept it, and
then every part of the command must be allowed), then the allowlist, then safe mode (read-only
entries, and nothing that runs code whatever the entries say).
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass

from devfactory.protocol.commands import PolicyEntry

from .blocklist import check_blocklist
from .policy import Policy, entry_allows
from .runscode import runs_code
from .shellsyntax import CommandLine, ShellSyntaxError, parse_command_line

MAX_COMMAND_CHARS = 16_000
SHELL = "/bin/sh"


@dataclass(frozen=True)
class Verdict:
    """The decision about one command string."""

    command: str
    refusal: str | None = None
    """Why it does not run (a sentence for the model and the timeline); None when it runs."""
    rule: str | None = None
    """A blocklist rule name, or ``invalid``, ``shell_syntax``, ``not_allowed``, ``safe_mode``."""
    argv: tuple[str, ...] = ()
    """What is executed: the split command, or ``/bin/sh -c command`` for shell entries."""
    segments: tuple[tuple[str, ...], ...] = ()
    """The simple commands it contains (one unless a shell runs it)."""
    entries: tuple[PolicyEntry, ...] = ()
    """The policy entry allowing each segment."""
    timeout_s: float = 0.0
    shell: bool = False
    runs_code: str | None = None
    """Why an allowed command may run the project's code or other programs (tests, builds,
    runners); None for a read-only one. Safe mode refuses these; without the sandbox they
    need the user's consent."""

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def destructive(self) -> bool:
        return any(e.destructive for e in self.entries)

    @property
    def sandbox(self) -> bool:
        return any(e.sandbox for e in self.entries)

    @property
    def network(self) -> bool:
        return bool(self.entries) and all(e.network for e in self.entries)

    @property
    def junit_xml(self) -> str | None:
        return next((e.junit_xml for e in self.entries if e.junit_xml), None)


def _refuse(command: str, rule: str, reason: str) -> Verdict:
    return Verdict(command=command, refusal=reason, rule=rule)


def evaluate(command: str, policy: Policy, worktree: str, *, safe_mode: bool) -> Verdict:
    """The verdict on ``command`` for a run whose worktree is ``worktree`` (a real path)."""
    text = command.strip()
    if not text:
        return _refuse(command, "invalid", "the command is empty")
    if "\0" in text:
        return _refuse(command, "invalid", "the command contains a NUL byte")
    if len(text) > MAX_COMMAND_CHARS:
        return _refuse(command, "invalid", f"the command is longer than {MAX_COMMAND_CHARS} chars")
    try:
        line = parse_command_line(text)
        plain = None if line.syntax else shlex.split(text)
    except (ShellSyntaxError, ValueError) as exc:
        return _refuse(command, "invalid", f"the command cannot be read: {exc}")
    views = [line] if plain is None else [line, CommandLine(segments=[plain])]
    for view in views:
        if block := check_blocklist(view, worktree):
            return _refuse(command, block.rule, block.reason)
    if plain is None:
        verdict = _shell_verdict(command, text, line, policy)
    elif not plain:
        return _refuse(command, "invalid", "the command is empty")
    elif (entry := policy.match(plain)) is None:
        return _refuse(command, "not_allowed", policy.explain_refusal(plain))
    else:
        verdict = Verdict(
            command=command,
            argv=tuple(plain),
            segments=(tuple(plain),),
            entries=(entry,),
            timeout_s=policy.timeout_for(entry),
        )
    if not verdict.allowed:
        return verdict
    verdict = dataclasses.replace(verdict, runs_code=_runs_code(verdict, policy, worktree))
    if safe_mode and verdict.runs_code is not None:
        return _refuse(
            command,
            "safe_mode",
            f"safe mode runs read-only commands only, nothing that runs the project's code,"
            f" other programs or downloads, and {verdict.runs_code}",
        )
    return verdict


def _runs_code(verdict: Verdict, policy: Policy, worktree: str) -> str | None:
    """Why an allowed command may run code (its entry is not read-only, or it runs code
    whatever its entry says: :mod:`.runscode`); None for a read-only command."""
    for segment in verdict.segments:
        if reason := runs_code(segment, worktree):
            return reason
    pairs = zip(verdict.segments, verdict.entries, strict=True)
    writer = next((s for s, e in pairs if not e.read_only), None)
    if writer is None:
        return None
    readers = sorted({e.program for e in policy.entries if e.read_only})
    return f"`{' '.join(writer)}` is not read-only (read-only programs: {', '.join(readers)})"


def _shell_verdict(command: str, text: str, line: CommandLine, policy: Policy) -> Verdict:
    """Shell syntax runs only when every simple command in it is allowed with ``shell``."""
    entries: list[PolicyEntry] = []
    for segment in line.segments:
        entry = next((e for e in policy.entries if e.shell and entry_allows(e, segment)), None)
        if entry is None:
            first = line.syntax[0]
            if policy.match(segment) is not None:
                why = f"the policy entry for `{segment[0]}` does not allow a shell"
            else:
                why = policy.explain_refusal(segment)
            return _refuse(
                command,
                "shell_syntax",
                f"`{first.token}` (column {first.column}) is shell syntax, and this command"
                f" would need a shell: {why}. Run one program per command, without pipes,"
                " redirections, substitutions or variables; its output comes back to you anyway",
            )
        entries.append(entry)
    if not entries:
        return _refuse(command, "invalid", "the command contains no program to run")
    if line.expanded:
        return _refuse(
            command,
            "shell_syntax",
            f"`{line.expanded[0]}` is expanded by the shell (a variable, substitution, glob or"
            " brace), so the policy cannot check which paths it names before it runs; write"
            " the words out literally",
        )
    return Verdict(
        command=command,
        argv=(SHELL, "-c", text),
        segments=tuple(tuple(s) for s in line.segments),
        entries=tuple(entries),
        timeout_s=max(policy.timeout_for(e) for e in entries),
        shell=True,
    )
