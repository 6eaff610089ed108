"""Initiatives in the terminal: the list, the phase/task tree with the runs behind the
tasks, and proposals."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from devfactory.protocol.enums import InitiativeStatus, PhaseStatus, TaskStatus
from devfactory.protocol.initiatives import Initiative, InitiativeTree
from devfactory.protocol.proposals import Proposal

from ..wording import plural

STYLE = {
    "completed": "green",
    "failed": "red",
    "blocked": "yellow",
    "pending_review": "magenta",
    "in_progress": "cyan",
    "archived": "dim",
}
MARK = {
    TaskStatus.PENDING: "○",
    TaskStatus.IN_PROGRESS: "◐",
    TaskStatus.COMPLETED: "●",
    TaskStatus.BLOCKED: "◆",
    TaskStatus.FAILED: "✗",
}


def status(value: InitiativeStatus | PhaseStatus | TaskStatus) -> str:
    label = value.value.replace("_", " ")
    style = STYLE.get(value.value)
    return f"[{style}]{label}[/]" if style else label


def initiatives_table(initiatives: list[Initiative]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("initiative", "status", "name", "mode", "branch", "created"):
        table.add_column(column, no_wrap=column != "name")
    for initiative in initiatives:
        table.add_row(
            str(initiative.id),
            status(initiative.status),
            escape(initiative.name),
            initiative.mode.value,
            escape(initiative.branch),
            initiative.created_at[5:16].replace("T", " "),
        )
    return table


def initiative_tree(found: InitiativeTree) -> Tree:
    """Initiative -> phases -> tasks (status, agent, the runs behind each)."""
    initiative = found.initiative
    root = Tree(
        f"[bold]{escape(initiative.name)}[/] ({initiative.id}) {status(initiative.status)}"
        f"  [dim]{initiative.mode.value} · {escape(initiative.branch)}[/]"
    )
    for phase in found.phases:
        node = root.add(f"[bold]{escape(phase.name)}[/] {status(phase.status)}")
        for task in (t for t in found.tasks if t.phase_id == phase.id):
            runs = ", ".join(f"run {r}" for r in task.run_ids)
            extra = f"  [dim]{task.agent.value}{' · ' + runs if runs else ''}[/]"
            kind = "" if task.type.value == "auto" else f" [magenta]{task.type.value}[/]"
            line = (
                f"{MARK[task.status]} {task.id}. {escape(task.title)}{kind} {status(task.status)}"
            )
            if task.failed_reason:
                line += f"  [red]{escape(task.failed_reason)}[/]"
            node.add(line + extra)
    if found.proposals:
        waiting = root.add(f"[bold]{plural(len(found.proposals), 'proposal')} waiting[/]")
        for proposal in found.proposals:
            waiting.add(proposal_line(proposal))
    return root


def proposal_line(proposal: Proposal) -> str:
    summary = f"  [dim]{escape(proposal.summary)}[/]" if proposal.summary else ""
    return (
        f"{proposal.id}. {proposal.action.value} {proposal.target.value} "
        f"[bold]{escape(proposal.title)}[/]{summary}"
    )
