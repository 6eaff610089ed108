"""``devfactory index``, ``devfactory search`` and ``devfactory map``: the workspace index
from the terminal, through a daemon started for the command (the same protocol editors use).

Progress bars are drawn from the daemon's LSP ``$/progress`` notifications, on stderr, so
``--json`` output on stdout stays clean. rich is imported only when a command runs: this module
is imported by ``devfactory serve`` too, whose start-up must stay fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import msgspec

from devfactory.protocol.enums import SearchGroupBy, SearchMode
from devfactory.protocol.index import (
    FileHit,
    IndexRebuildParams,
    IndexRebuildResult,
    IndexStatus,
    SearchHit,
    SearchParams,
    SearchResult,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import ProjectMap, ProjectMapParams

from ..wording import plural
from .client import connect, run_async
from .options import WORKSPACE

ONE_SHOT: dict[str, Any] = {"index": {"watch": False, "passOnStart": False}}
"""Settings of a daemon started for one command: it is gone before a change to the workspace
could matter, so it does not watch the tree (watchdog's walk and the inotify events of the
index's own writes cost ~2 s of CPU on Django, beside the pass), and it leaves the pass to the
command (one pass, not the start-up pass and then the command's)."""


def one_shot(*, embed: bool) -> dict[str, Any]:
    """``ONE_SHOT``, without an embedder when the command needs no embeddings: nothing is
    embedded in the background (the model's load and its CPU) for a daemon about to exit."""
    if embed:
        return ONE_SHOT
    return {"index": {**ONE_SHOT["index"], "embedder": "none"}}


def _console(*, stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr)


class ProgressBars:
    """One rich progress bar per LSP work-done progress token (drawn on stderr)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[message]}"),
            TimeElapsedColumn(),
            console=_console(stderr=True),
            transient=False,
        )
        self._tasks: dict[Any, Any] = {}

    def __enter__(self) -> ProgressBars:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def on_notification(self, method: str, params: Any) -> None:
        if method != "$/progress" or not isinstance(params, dict):
            return
        token, value = params.get("token"), params.get("value") or {}
        kind = value.get("kind")
        if kind == "begin":
            self._tasks[token] = self.progress.add_task(
                value.get("title", "Working"), total=100, message=value.get("message") or ""
            )
            return
        task = self._tasks.get(token)
        if task is None:
            return
        if kind == "report":
            self.progress.update(
                task,
                completed=value.get("percentage") or 0,
                message=value.get("message") or "",
            )
        elif kind == "end":
            self.progress.update(task, completed=100, message=value.get("message") or "done")


async def _refresh(client: Any, *, embed: bool, full: bool = False) -> Any:
    """Bring the index up to date (showing the daemon's progress) before using it."""
    bars = ProgressBars()
    client.on_notification(bars.on_notification)
    with bars:
        return await client.call(Requests.INDEX_REBUILD, IndexRebuildParams(full=full, embed=embed))


@click.command("index")
@click.argument(
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=".",
)
@click.option("--full", is_flag=True, help="Re-parse every file instead of only what changed.")
@click.option("--no-embed", is_flag=True, help="Do not wait for the semantic embeddings to finish.")
def index_command(directory: Path, full: bool, no_embed: bool) -> None:
    """Index DIRECTORY (default: here) for search, with a progress bar."""

    async def go() -> tuple[IndexRebuildResult, IndexStatus]:
        async with connect(directory, one_shot(embed=not no_embed)) as client:
            result = await _refresh(client, embed=not no_embed, full=full)
            status: IndexStatus = await client.call(Requests.INDEX_STATUS)
            return result, status

    result, status = run_async(go)
    embedded = "" if no_embed else f", {status.embedded_chunks} embedded with {status.embedder}"
    _console().print(
        f"[bold]{status.files}[/] files indexed ({status.skipped_files} skipped) into"
        f" [bold]{status.chunks}[/] chunks{embedded}; up to date in"
        f" {result.duration_ms / 1000:.2f} s",
        soft_wrap=True,
        highlight=False,
    )


@click.command("search")
@click.argument("query")
@WORKSPACE
@click.option(
    "--mode",
    "-m",
    type=click.Choice([mode.value for mode in SearchMode]),
    default=SearchMode.HYBRID.value,
    show_default=True,
)
@click.option(
    "--limit", "-n", type=int, default=10, show_default=True, help="1 to 200 hits (or files)."
)
@click.option(
    "--group-by",
    type=click.Choice([group.value for group in SearchGroupBy]),
    default=SearchGroupBy.CHUNK.value,
    show_default=True,
    help="file: the best files first, each with its best chunks under it.",
)
@click.option(
    "--chunks-per-file",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="With --group-by file: chunks under each file.",
)
@click.option("--path", "paths", multiple=True, help="Only paths matching this glob (repeat).")
@click.option("--language", "languages", multiple=True, help="Only this language (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Print the hits (or files) as JSON.")
def search_command(
    query: str,
    workspace: Path,
    mode: str,
    limit: int,
    group_by: str,
    chunks_per_file: int,
    paths: tuple[str, ...],
    languages: tuple[str, ...],
    as_json: bool,
) -> None:
    """Search the workspace for QUERY (the index is brought up to date first)."""
    params = SearchParams(
        query=query,
        limit=limit,
        mode=SearchMode(mode),
        paths=list(paths) or None,
        languages=list(languages) or None,
        group_by=SearchGroupBy(group_by),
        chunks_per_file=chunks_per_file,
    )

    embed = params.mode is not SearchMode.LEXICAL

    async def go() -> SearchResult:
        async with connect(workspace, one_shot(embed=embed)) as client:
            await _refresh(client, embed=embed)
            result: SearchResult = await client.call(Requests.SEARCH, params)
            return result

    result = run_async(go)
    if as_json:
        found: list[Any] = (
            [_file_json(file) for file in result.files]
            if result.files is not None
            else [_hit_json(hit) for hit in result.hits]
        )
        click.echo(json.dumps(found, indent=2))
        return
    stdout = _console()
    if result.files is not None:
        _print_files(stdout, result)
        return
    if not result.hits:
        stdout.print(f"no hits for {query!r}")
        return
    for rank, hit in enumerate(result.hits, start=1):
        stdout.print(f"[bold]{rank:>2}.[/] {_hit_line(hit)}", highlight=False, soft_wrap=True)
    stdout.print(
        f"[dim]{plural(len(result.hits), 'hit')}, {result.mode}, {result.took_ms:.1f} ms[/]"
    )


def _print_files(stdout: Any, result: SearchResult) -> None:
    """Files best first, each with its chunks indented under it."""
    files = result.files or []
    if not files:
        stdout.print(f"no files for {result.query!r}")
        return
    for rank, file in enumerate(files, start=1):
        stdout.print(
            f"[bold]{rank:>2}.[/] [cyan]{file.path}[/]  [dim]{file.score:.4f}[/]",
            highlight=False,
            soft_wrap=True,
        )
        for hit in file.hits:
            stdout.print(f"      {_hit_line(hit)}", highlight=False, soft_wrap=True)
    stdout.print(f"[dim]{plural(len(files), 'file')}, {result.mode}, {result.took_ms:.1f} ms[/]")


def _hit_line(hit: SearchHit) -> str:
    where = f"{hit.path}:{hit.start_line}-{hit.end_line}"
    return f"[cyan]{where}[/]  {hit.symbol or ''}  [dim]{hit.score:.4f}[/]"


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "path": hit.path,
        "start_line": hit.start_line,
        "end_line": hit.end_line,
        "symbol": hit.symbol,
        "kind": hit.kind,
        "language": hit.language,
        "score": hit.score,
        "snippet": hit.snippet,
    }


def _file_json(file: FileHit) -> dict[str, Any]:
    return {
        "path": file.path,
        "language": file.language,
        "source_type": file.source_type.value,
        "score": file.score,
        "hits": [_hit_json(hit) for hit in file.hits],
    }


@click.command("map")
@WORKSPACE
@click.option("--print", "print_it", is_flag=True, help="Also print the map.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
def map_command(workspace: Path, print_it: bool, as_json: bool) -> None:
    """Write PROJECT_MAP.md: frameworks, entry points, routes, models, key symbols."""

    async def go() -> ProjectMap:
        async with connect(workspace, one_shot(embed=False)) as client:
            await _refresh(client, embed=False)
            result: ProjectMap = await client.call(
                Requests.PROJECT_MAP, ProjectMapParams(write=True)
            )
            return result

    result = run_async(go)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(result), indent=2))
        return
    if print_it:
        click.echo(result.markdown)
    frameworks = ", ".join(f.name for f in result.frameworks) or "no framework detected"
    _console().print(f"wrote {result.path} ({frameworks})", highlight=False, soft_wrap=True)
