"""Rich rendering of daemon results for humans."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from devfactory.protocol.project import Health, SandboxInfo

console = Console()


def sandbox_text(sandbox: SandboxInfo) -> str:
    """``active (bundled bwrap 0.11.0, /path/to/bwrap)``, or ``off: why``."""
    if not sandbox.active:
        return f"[yellow]off[/]: {sandbox.reason}"
    which = " ".join(str(part) for part in (sandbox.source, "bwrap", sandbox.version) if part)
    return f"[green]active[/] ({which}, {sandbox.tool})"


def render_health(health: Health) -> None:
    table = Table(title=f"DevFactory {health.version}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    problem = escape(health.database_problem or "damaged")
    db_state = "[green]ok[/]" if health.database_ok else f"[red]{problem}[/]"
    table.add_row(
        "database", f"{db_state}  {health.database_path} (schema {health.schema_version})"
    )
    if health.database_engine == "postgresql":
        table.add_row("postgresql", health.sqlite_version)
        table.add_row("pgvector", health.sqlite_vec_version or "none (distances in SQL)")
    else:
        table.add_row("sqlite", health.sqlite_version)
        table.add_row("sqlite-vec", health.sqlite_vec_version or "[red]not loaded[/]")
    table.add_row("python", health.python_version)
    table.add_row("project id", str(health.project_id))
    table.add_row("sandbox", sandbox_text(health.sandbox))
    if health.provider is not None:
        check = health.provider
        table.add_row(
            "provider",
            f"[green]ready[/] ({check.name})"
            if check.ready
            else f"[yellow]cannot run[/]: {escape(check.problem or check.name)}",
        )
    if health.embedder:
        table.add_row("embedder", health.embedder)
    table.add_row("counts", ", ".join(f"{k} {v}" for k, v in health.counts.items()))
    table.add_row("log", health.log_path)
    console.print(table)
