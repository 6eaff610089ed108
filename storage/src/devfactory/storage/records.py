"""Rows as the protocol's Structs, for every adapter: which columns hold JSON, in one place.

A row is anything with ``keys()`` and ``row[name]`` (SQLite's rows, psycopg's dict rows); JSON
columns arrive as text and go through the one codec.
"""

from __future__ import annotations

from typing import Any

import msgspec

from devfactory.protocol.changes import Change, Hunk
from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.events import Event, TestCounts
from devfactory.protocol.git import GitOperation
from devfactory.protocol.hitl import HitlRequest
from devfactory.protocol.initiatives import Initiative, Phase
from devfactory.protocol.project import LanguageStat, Project
from devfactory.protocol.proposals import ContextArtifact, Proposal
from devfactory.protocol.runs import Run, RunMetadata
from devfactory.protocol.tasks import Checkpoint, Task

from .codec import load, row_to
from .ports.factory_rows import InitiativeRun
from .ports.rows import NewEvent


def project(row: Any) -> Project:
    return row_to(
        Project,
        row,
        languages=load(row["languages"], list[LanguageStat]),
        frameworks=load(row["frameworks"], list[str]),
    )


def run(row: Any) -> Run:
    return row_to(Run, row, metadata=load(row["metadata"], RunMetadata))


def event(row: Any) -> Event:
    return row_to(Event, row, payload=load(row["payload"], dict[str, Any]))


def recorded(new: NewEvent, event_id: int) -> Event:
    """``new`` as stored, with the id the store gave it."""
    return Event(
        id=event_id,
        project_id=new.project_id,
        run_id=new.run_id,
        type=new.type,
        severity=new.severity,
        title=new.title,
        message=new.message,
        payload=new.payload,
        created_at=new.created_at,
    )


def question(row: Any) -> HitlRequest:
    return row_to(HitlRequest, row, choices=load(row["choices"], list[str]))


def change(row: Any) -> Change:
    return row_to(Change, row, hunks=load(row["hunks"], list[Hunk]))


def command(row: Any) -> CommandExecution:
    return row_to(
        CommandExecution,
        row,
        args=load(row["args"], list[str]),
        test_counts=load(row["test_counts"], TestCounts | None),  # type: ignore[arg-type]
    )


def git_operation(row: Any) -> GitOperation:
    return row_to(GitOperation, row, args=load(row["args"], list[str]))


# -- the factory's ------------------------------------------------------------------------------


def initiative(row: Any) -> Initiative:
    return row_to(Initiative, row)


def phase(row: Any) -> Phase:
    return row_to(Phase, row, depends_on=load(row["depends_on"], list[int]))


def task(row: Any, depends_on: list[int], run_ids: list[int]) -> Task:
    """A task with its dependencies and runs, which live in tables of their own."""
    checkpoint = load(row["checkpoint"], Checkpoint | None)  # type: ignore[arg-type]
    return row_to(Task, row, depends_on=depends_on, run_ids=run_ids, checkpoint=checkpoint)


def initiative_run(row: Any) -> InitiativeRun:
    return row_to(InitiativeRun, row)


def proposal(row: Any) -> Proposal:
    return row_to(Proposal, row, metadata=load(row["metadata"], dict[str, Any]))


def artifact(row: Any) -> ContextArtifact:
    return row_to(ContextArtifact, row, content=load(row["content"], dict[str, Any]))


def values_of(struct: msgspec.Struct, *leave_out: str) -> dict[str, Any]:
    """A new record's fields by name, as an adapter's ``insert`` takes them."""
    return {n: getattr(struct, n) for n in struct.__struct_fields__ if n not in leave_out}
