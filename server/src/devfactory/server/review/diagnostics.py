"""Proposed hunks as LSP diagnostics and code actions, in any editor with no plugin.

Each open hunk of a proposed change becomes a diagnostic (source ``devfactory``; a Hint by
default, so proposals stay out of the Problems panel: the ``review.diagnostics`` setting) on
the lines it would change in the user's file — mapped through any edits the user made since
the run started. Code actions on those lines approve or reject the hunk or the whole run, or
show the diff, whatever the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from devfactory.protocol.changes import Change, Hunk
from devfactory.protocol.enums import ChangeAction, ChangeStatus
from devfactory.protocol.methods import Commands

from ..safefs import FileTooLarge, PathRefused
from . import hunks as hunkmath
from .texts import MAX_REVIEW_BYTES

if TYPE_CHECKING:
    from .service import ReviewService

SOURCE = "devfactory"


@dataclass(frozen=True)
class HunkSite:
    change: Change
    hunk: Hunk | None
    """None for a change without hunks (binary, or a whole-file delete)."""
    range: types.Range
    run_title: str


async def hunk_sites(service: ReviewService, path: str) -> list[HunkSite]:
    """Where each open hunk of ``path`` sits in the user's current text."""
    changes = await service.store.changes.list(
        service.services.project.id, path=path, status=ChangeStatus.PROPOSED
    )
    if not changes:
        return []
    current = service.editor.open_text(service.root / path)
    if current is None:
        try:
            data = service.tree.read(path, MAX_REVIEW_BYTES)
        except (PathRefused, FileTooLarge):
            return []  # applying it would be refused too: nothing to point at
        if data is None:
            return []  # a created file has no document yet
        current = data.decode("utf-8", "replace")
    # An insertion after the last line is shown on the last line: editors have no line past it
    # (Neovim) or an empty one the cursor rarely visits (VS Code).
    last_line = max(len(current.splitlines()) - 1, 0)
    sites = []
    for change in changes:
        run = await service.services.runs.get(change.run_id)  # type: ignore[union-attr]
        before, _ = await service.contents(change)
        before_text = "" if before is None else before.decode("utf-8", "replace")
        if change.action is ChangeAction.DELETE or not change.hunks:
            end = max(len(current.splitlines()), 1)
            whole = types.Range(start=types.Position(0, 0), end=types.Position(end, 0))
            sites.append(HunkSite(change, None, whole, run.title))
            continue
        for hunk in change.hunks:
            if hunk.status is not ChangeStatus.PROPOSED:
                continue
            first = hunk.old_start - 1 if hunk.old_lines else hunk.old_start
            start = min(hunkmath.map_line(before_text, current, max(first, 0)), last_line)
            end = start + max(hunk.old_lines, 1)
            sites.append(HunkSite(change, hunk, _range(start, end), run.title))
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


async def diagnostics_for(service: ReviewService, path: str) -> list[types.Diagnostic]:
    severity = SEVERITIES.get(service.services.settings.review.diagnostics)
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
        for site in await hunk_sites(service, path)
    ]


def _overlaps(a: types.Range, b: types.Range) -> bool:
    a_end = a.end.line if a.end.line > a.start.line else a.start.line + 1
    b_end = b.end.line if b.end.line > b.start.line else b.start.line + 1
    return (a.start.line < b_end and b.start.line < a_end) or a.start.line == b.start.line


async def code_actions(
    service: ReviewService, path: str, selection: types.Range
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    runs_seen: set[int] = set()
    severity = SEVERITIES.get(service.services.settings.review.diagnostics)
    for site in await hunk_sites(service, path):
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
