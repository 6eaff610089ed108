"""Proposed hunks as LSP diagnostics and code actions, in any editor with no plugin.

Each open hunk of a proposed change becomes a diagnostic (source ``devfactory``; a Hint by
default, so proposals stay out of the Problems panel: the ``review.diagnostics`` setting) on
the lines it would change in the user's file — mapped through any edits the user made since
the run started. Code actions on those lines approve or reject the hunk or the whole run, or
show the diff, whatever the setting.

Pure functions of the proposals and the user's text; the review service gathers both.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from devfactory.protocol.changes import Change, Hunk
from devfactory.protocol.enums import ChangeAction, ChangeStatus
from devfactory.protocol.methods import Commands

from . import hunks as hunkmath

SOURCE = "devfactory"


@dataclass(frozen=True)
class HunkSite:
    change: Change
    hunk: Hunk | None
    """None for a change without hunks (binary, or a whole-file delete)."""
    range: types.Range
    run_title: str


def sites_of(change: Change, before: str, current: str, run_title: str) -> list[HunkSite]:
    """Where each open hunk of ``change`` sits in ``current``, the user's text now (``before``
    is the text the run started from)."""
    if change.action is ChangeAction.DELETE or not change.hunks:
        end = max(len(current.splitlines()), 1)
        whole = types.Range(start=types.Position(0, 0), end=types.Position(end, 0))
        return [HunkSite(change, None, whole, run_title)]
    # An insertion after the last line is shown on the last line: editors have no line past it
    # (Neovim) or an empty one the cursor rarely visits (VS Code).
    last_line = max(len(current.splitlines()) - 1, 0)
    sites = []
    for hunk in change.hunks:
        if hunk.status is not ChangeStatus.PROPOSED:
            continue
        first = hunk.old_start - 1 if hunk.old_lines else hunk.old_start
        start = min(hunkmath.map_line(before, current, max(first, 0)), last_line)
        end = start + max(hunk.old_lines, 1)
        sites.append(HunkSite(change, hunk, _range(start, end), run_title))
    return sites


def _range(start: int, end: int) -> types.Range:
    return types.Range(start=types.Position(start, 0), end=types.Position(end, 0))


def describe(site: HunkSite) -> str:
    change = site.change
    where = f"run {change.run_id} ({site.run_title})"
    if site.hunk is None:
        return f"DevFactory {where} proposes to {change.action.value} this file"
    count = len(change.hunks)
    hunk = site.hunk
    what = (
        f"insert {hunk.new_lines} line(s)"
        if hunk.old_lines == 0
        else f"delete {hunk.old_lines} line(s)"
        if hunk.new_lines == 0
        else f"replace {hunk.old_lines} line(s) with {hunk.new_lines}"
    )
    return (
        f"DevFactory {where}, hunk {hunk.index + 1}/{count}: {what}. "
        "Approve or reject it with a code action."
    )


SEVERITIES = {
    "hint": types.DiagnosticSeverity.Hint,
    "information": types.DiagnosticSeverity.Information,
}
"""``review.diagnostics`` -> the severity published (``off``: none)."""


def to_lsp_diagnostics(
    sites: list[HunkSite], severity: types.DiagnosticSeverity | None
) -> list[types.Diagnostic]:
    """The diagnostics to publish (none when the setting is ``off``: ``severity`` None)."""
    if severity is None:
        return []
    return [
        types.Diagnostic(
            range=site.range,
            message=describe(site),
            severity=severity,
            source=SOURCE,
            code=f"change-{site.change.id}" + (f"-hunk-{site.hunk.index}" if site.hunk else ""),
            data={
                "changeId": site.change.id,
                "runId": site.change.run_id,
                "hunkIndex": None if site.hunk is None else site.hunk.index,
            },
        )
        for site in sites
    ]


def _overlaps(a: types.Range, b: types.Range) -> bool:
    a_end = a.end.line if a.end.line > a.start.line else a.start.line + 1
    b_end = b.end.line if b.end.line > b.start.line else b.start.line + 1
    return (a.start.line < b_end and b.start.line < a_end) or a.start.line == b.start.line


def to_lsp_code_actions(
    sites: list[HunkSite], selection: types.Range, severity: types.DiagnosticSeverity | None
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    runs_seen: set[int] = set()
    for site in sites:
        if not _overlaps(site.range, selection):
            continue
        change = site.change
        hunk_args: list[object] = [change.id] if site.hunk is None else [change.id, site.hunk.index]
        label = "this hunk" if site.hunk is not None else f"this {change.action.value}"
        diagnostic = (
            None
            if severity is None
            else types.Diagnostic(
                range=site.range, message=describe(site), source=SOURCE, severity=severity
            )
        )
        actions += [
            _action(f"Approve {label}", Commands.APPROVE, hunk_args, diagnostic, preferred=True),
            _action(f"Reject {label}", Commands.REJECT, hunk_args, diagnostic),
        ]
        if change.run_id not in runs_seen:
            runs_seen.add(change.run_id)
            actions += [
                _action(
                    f"Approve all changes of run {change.run_id}",
                    Commands.APPROVE_RUN,
                    [change.run_id],
                ),
                _action(
                    f"Reject all changes of run {change.run_id}",
                    Commands.REJECT_RUN,
                    [change.run_id],
                ),
            ]
        actions.append(_action(f"Show diff of change {change.id}", Commands.SHOW_DIFF, [change.id]))
    return actions


def _action(
    title: str,
    command: str,
    arguments: list[object],
    diagnostic: types.Diagnostic | None = None,
    *,
    preferred: bool = False,
) -> types.CodeAction:
    return types.CodeAction(
        title=f"DevFactory: {title}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic] if diagnostic else None,
        is_preferred=preferred or None,
        command=types.Command(title=title, command=command, arguments=arguments),
    )
