"""Mining file-localization tasks from a repository's history.

A commit qualifies when it has exactly one parent, was not written by a bot, is not a revert
or a release, modifies one to three non-test source files (see :mod:`.files`) and adds,
deletes or renames none, and its cleaned subject still has three words worth searching for.
Its cleaned message is the query, the modified source files are the answer, and the tree at
its parent is the corpus. Commits are taken newest first in ``git log`` order from a fixed
revision, up to a cap per repository, so the same snapshot always gives the same tasks.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devfactory.server.index.subtokens import query_words

from .files import is_source
from .messages import clean_message, clean_subject

MAX_ANSWERS = 3
MIN_SUBJECT_WORDS = 3
#: Reserved for an independent check of whatever the benchmark leads us to change.
RESERVED_OWNERS = frozenset({"pallets", "psf", "pytest-dev"})

_BOT = re.compile(r"\[bot\]|dependabot|renovate|pre-commit-ci|github-actions", re.IGNORECASE)
_RELEASE = re.compile(
    r"^(?:revert\b|release\b|prepare(?:d)? (?:for )?(?:the )?release|bump(?:ed)? (?:the )?version"
    r"|version bump|v?\d+(?:\.\d+)+\s*$)",
    re.IGNORECASE,
)
_RECORD, _FIELD = "\x1e", "\x1f"
_LOG_FORMAT = f"--format={_RECORD}%H{_FIELD}%P{_FIELD}%an <%ae>{_FIELD}%cI{_FIELD}%B{_FIELD}"


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    date: str
    message: str
    changes: tuple[tuple[str, str], ...]
    """(status letter, path) per changed file, renames shown as a delete and an add."""


@dataclass(frozen=True)
class Task:
    id: str
    repo: str
    commit: str
    parent: str
    date: str
    subject: str
    """The cleaned first line (a shorter query, kept for comparison)."""
    query: str
    """The cleaned message."""
    answers: tuple[str, ...]
    other_files: tuple[str, ...] = field(default=())
    """Files the commit also changed (tests, docs, config): context, never answers."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        return cls(
            **{
                **data,
                "answers": tuple(data["answers"]),
                "other_files": tuple(data.get("other_files", ())),
            }
        )


def select(repo: str, commit: Commit) -> Task | str:
    """The task ``commit`` gives, or why it gives none."""
    if len(commit.parents) != 1:
        return "merge" if commit.parents else "root"
    if _BOT.search(commit.author):
        return "bot"
    first_line = commit.message.strip().split("\n", 1)[0]
    subject = clean_subject(first_line)
    if _RELEASE.match(subject) or _RELEASE.match(first_line):
        return "revert or release"
    sources = [(status, path) for status, path in commit.changes if is_source(path)]
    if any(status != "M" for status, _ in sources):
        return "adds, deletes or renames source files"
    if not sources:
        return "no source file modified"
    if len(sources) > MAX_ANSWERS:
        return f"more than {MAX_ANSWERS} source files"
    if len(query_words(subject)) < MIN_SUBJECT_WORDS:
        return "message too short"
    answers = tuple(sorted(path for _, path in sources))
    return Task(
        id=f"{repo}@{commit.sha[:12]}",
        repo=repo,
        commit=commit.sha,
        parent=commit.parents[0],
        date=commit.date,
        subject=subject,
        query=clean_message(commit.message),
        answers=answers,
        other_files=tuple(sorted(path for _, path in commit.changes if path not in answers)),
    )


def commits(git_dir: Path, rev: str) -> Iterator[Commit]:
    """Commits reachable from ``rev``, newest first, with their changed files (streamed)."""
    command = [
        "git",
        f"--git-dir={git_dir}",
        "-c",
        "core.quotePath=false",
        "log",
        "--no-renames",
        "--name-status",
        _LOG_FORMAT,
        rev,
        "--",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        buffer = ""
        try:
            for raw in process.stdout:
                buffer += raw.decode("utf-8", "replace")
                *complete, buffer = buffer.split(_RECORD)
                for record in complete:
                    if record.strip():
                        yield _parse(record)
            if buffer.strip():
                yield _parse(buffer)
        finally:
            process.kill()


def _parse(record: str) -> Commit:
    sha, parents, author, date, message, files = record.split(_FIELD)
    changes = []
    for line in files.splitlines():
        status, _, path = line.partition("\t")
        if path and not path.startswith('"'):  # quoted: a name with control characters
            changes.append((status[:1], path))
    return Commit(sha, tuple(parents.split()), author, date, message, tuple(changes))


@dataclass
class MinedRepo:
    repo: str
    git_dir: str
    rev: str
    head: str
    scanned: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    tasks: list[Task] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        dates = sorted(task.date for task in self.tasks)
        return {
            "repo": self.repo,
            "git_dir": self.git_dir,
            "rev": self.rev,
            "head": self.head,
            "commits_scanned": self.scanned,
            "tasks": len(self.tasks),
            "skipped": dict(self.skipped.most_common()),
            "oldest": dates[0] if dates else None,
            "newest": dates[-1] if dates else None,
        }


def mine(
    repo: str, git_dir: Path, rev: str = "HEAD", limit: int = 60, *, held_out: bool = False
) -> MinedRepo:
    """The ``limit`` newest qualifying commits of ``repo`` reachable from ``rev``.

    ``held_out`` mines the independent check: only the reserved owners' repositories, which
    the tuning set never holds."""
    owner = repo.split("/", 1)[0].lower()
    if held_out and owner not in RESERVED_OWNERS:
        raise SystemExit(
            f"{repo}: the held-out check mines only {', '.join(sorted(RESERVED_OWNERS))}/* "
            "repositories; mine others without --held-out"
        )
    if not held_out and owner in RESERVED_OWNERS:
        raise SystemExit(
            f"{repo}: {owner}/* repositories are reserved for an independent check; "
            "mine other repositories (or these with --held-out, into their own folder)"
        )
    head = subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    mined = MinedRepo(repo, str(git_dir), rev, head)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for commit in commits(git_dir, head):
        mined.scanned += 1
        outcome = select(repo, commit)
        if isinstance(outcome, str):
            mined.skipped[outcome] += 1
        elif (outcome.query, outcome.answers) in seen:
            mined.skipped["duplicate (cherry-pick)"] += 1
        else:
            seen.add((outcome.query, outcome.answers))
            mined.tasks.append(outcome)
            if len(mined.tasks) >= limit:
                break
    return mined


def write_tasks(out: Path, mined: list[MinedRepo], rules: dict[str, Any]) -> Path:
    """``out/tasks.jsonl`` (one task a line) and ``out/manifest.json`` (what was mined how)."""
    out.mkdir(parents=True, exist_ok=True)
    tasks_file = out / "tasks.jsonl"
    with tasks_file.open("w", encoding="utf-8") as handle:
        for repo in mined:
            for task in repo.tasks:
                handle.write(json.dumps(asdict(task)) + "\n")
    manifest = {"rules": rules, "repos": [repo.summary() for repo in mined]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return tasks_file


def read_tasks(folder: Path) -> tuple[list[Task], dict[str, Any]]:
    """The tasks and manifest ``write_tasks`` wrote."""
    tasks_file = folder / "tasks.jsonl"
    if not tasks_file.is_file():
        raise SystemExit(f"--tasks: {tasks_file} does not exist; run `mine --out {folder}` first")
    with tasks_file.open(encoding="utf-8") as handle:
        tasks = [Task.from_dict(json.loads(line)) for line in handle if line.strip()]
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    return tasks, manifest
