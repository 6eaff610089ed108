"""The retrieval benchmark's pieces that could go wrong without anyone noticing: how commit
messages become queries, which commits become tasks, how rankings are tokenized and scored."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[2]))  # the repository root, home of bench/

from bench.retrieval.baselines import WholeFileBM25, query_terms, term_count_rank, tokenize
from bench.retrieval.corpus import Checkout
from bench.retrieval.devfactory_index import CachedEmbedder, DevFactoryIndex
from bench.retrieval.files import is_source, is_test
from bench.retrieval.messages import MAX_QUERY_CHARS, clean_message, clean_subject
from bench.retrieval.metrics import aggregate, score, summarize
from bench.retrieval.mining import Task, mine, read_tasks, write_tasks

from support import git, make_git_repo, write_files

# -- messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "query"),
    [
        (
            "Fixed #36000 -- Deprecated the Meta.index_together option.\n\n"
            "Thanks Jane Doe for the report.\n\nCo-authored-by: A B <a@b.example>",
            "Deprecated the Meta.index_together option.",
        ),
        (
            "[5.0.x] Refs #1234, #1235 -- Fixed crash in QuerySet.update() (#17000)\n\n"
            "Backport of 0123abcd from main",
            "Fixed crash in QuerySet.update()",
        ),
        (
            "fix(jsx): handle null children (#4321)\n\n* keep the order\n\n---------\n\n"
            "Signed-off-by: Someone <s@o.example>",
            "fix(jsx): handle null children\n\n* keep the order",
        ),
        (
            "Fix #12: Sphinx crashes on empty toctree\n\nCloses #12\n"
            "See https://github.com/org/repo/issues/3\nFixes: handle None values in the parser",
            "Sphinx crashes on empty toctree\n\nFixes: handle None values in the parser",
        ),
        (
            "printer: fix --count with context\n\nThe count ignored gh-77 context lines.\n\n"
            "Fixes #2000, fixes #2001",
            "printer: fix --count with context\n\nThe count ignored context lines.",
        ),
        (
            "docs: explain any_()\n\n<!-- template -->\n### Description\nExplain any_().\n"
            "- [x] tests\n### Checklist\nThis pull request is: whatever",
            "docs: explain any_()\n\n### Description\nExplain any_().",
        ),
    ],
)
def test_messages_lose_bookkeeping_and_keep_their_meaning(message: str, query: str):
    assert clean_message(message) == query


def test_subjects_lose_tags_and_ticket_prefixes_only():
    assert clean_subject("[4.2.x] Fixed #1 -- Made x faster.") == "Made x faster."
    assert clean_subject("[mypyc] Fix crash on tuples (#19000)") == "[mypyc] Fix crash on tuples"
    assert clean_subject("Fix 2 bugs in the lexer") == "Fix 2 bugs in the lexer"


def test_long_messages_are_cut_at_a_word():
    query = clean_message("Subject line here\n\n" + "word " * 400)
    assert len(query) <= MAX_QUERY_CHARS
    assert query.endswith("word")


# -- which files are sources ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("django/db/models/query.py", True),
        ("src/router/trie.ts", True),
        ("crates/core/flags/defs.rs", True),
        ("args.go", True),
        ("args_test.go", False),
        ("src/request.test.ts", False),
        ("tests/test_api.py", False),
        ("lib/sqlalchemy/testing/fixtures/base.py", False),
        ("mypyc/test-data/run-classes.test", False),
        ("conftest.py", False),
        ("docs/index.md", False),
        ("pyproject.toml", False),
        ("node_modules/x/index.js", False),
    ],
)
def test_source_files_are_non_test_code(path: str, source: bool):
    assert is_source(path) is source


def test_test_data_counts_as_tests():
    assert is_test("tests/fixtures/data.py")
    assert is_test("pkg/testdata/input.go")
    assert not is_test("pkg/latest.py")


# -- mining --------------------------------------------------------------------------------------


def commit(repo: Path, message: str, files: dict[str, str], *, author: str | None = None) -> str:
    write_files(repo, files)
    git(repo, "add", "-A")
    extra = [f"--author={author}"] if author else []
    git(repo, "commit", "-q", "-m", message, *extra)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A small history with one commit per rule, oldest first (read-only for the tests)."""
    repo = make_git_repo(
        tmp_path_factory.mktemp("history") / "repo",
        {
            "pkg/app.py": "def app():\n    return 1\n",
            "pkg/util.py": "def util():\n    return 1\n",
            "pkg/db.py": "x = 1\n",
            "pkg/web.py": "x = 1\n",
            "pkg/cli.py": "x = 1\n",
            "tests/test_app.py": "def test_app():\n    assert True\n",
            "docs/index.md": "# Docs\n",
        },
    )
    shas = {"root": git(repo, "rev-parse", "HEAD").strip()}
    shas["good"] = commit(
        repo,
        "Fixed #12 -- Handle empty invoices in the parser\n\nSigned-off-by: A <a@b.example>",
        {"pkg/app.py": "def app():\n    return 2\n", "tests/test_app.py": "# more\n"},
    )
    shas["tests only"] = commit(
        repo, "Cover the empty invoice case", {"tests/test_app.py": "# again\n"}
    )
    shas["four files"] = commit(
        repo,
        "Rename the settings everywhere at once",
        {f"pkg/{name}.py": "y = 2\n" for name in ("app", "util", "db", "web")},
    )
    shas["adds a file"] = commit(
        repo,
        "Move helpers into their own module",
        {"pkg/helpers.py": "z = 1\n", "pkg/util.py": "z = 2\n"},
    )
    shas["short"] = commit(repo, "Fix typo", {"pkg/util.py": "z = 3\n"})
    shas["bot"] = commit(
        repo,
        "Bump the dependency to the next version",
        {"pkg/db.py": "x = 3\n"},
        author="dependabot[bot] <bot@example.invalid>",
    )
    git(repo, "checkout", "-q", "-b", "side", shas["root"])
    shas["side"] = commit(
        repo,
        "Speed up the command line parser",
        {"pkg/cli.py": "x = 4\n", "docs/index.md": "# D\n"},
    )
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge the parser speed-up", "side")
    shas["merge"] = git(repo, "rev-parse", "HEAD").strip()
    shas["revert"] = commit(
        repo, 'Revert "Handle empty invoices in the parser"', {"pkg/app.py": "def app(): 1\n"}
    )
    return repo, shas


def test_mining_applies_every_rule(history: tuple[Path, dict[str, str]]):
    repo, shas = history
    mined = mine("acme/billing", repo / ".git", limit=10)
    assert {task.commit: task.answers for task in mined.tasks} == {
        shas["good"]: ("pkg/app.py",),
        shas["side"]: ("pkg/cli.py",),
    }
    assert mined.skipped == Counter(
        {
            "merge": 1,
            "root": 1,
            "revert or release": 1,
            "bot": 1,
            "message too short": 1,
            "adds, deletes or renames source files": 1,
            "more than 3 source files": 1,
            "no source file modified": 1,
        }
    )
    good = next(task for task in mined.tasks if task.commit == shas["good"])
    assert good == Task(
        id=f"acme/billing@{shas['good'][:12]}",
        repo="acme/billing",
        commit=shas["good"],
        parent=shas["root"],
        date=good.date,
        subject="Handle empty invoices in the parser",
        query="Handle empty invoices in the parser",
        answers=("pkg/app.py",),
        other_files=("tests/test_app.py",),
    )


def test_mining_takes_the_newest_commits_up_to_the_cap(history: tuple[Path, dict[str, str]]):
    repo, shas = history
    mined = mine("acme/billing", repo / ".git", limit=1)
    assert [task.commit for task in mined.tasks] == [shas["side"]]
    pinned = mine("acme/billing", repo / ".git", rev=shas["short"], limit=10)
    assert [task.commit for task in pinned.tasks] == [shas["good"]]


def test_reserved_repositories_are_refused(history: tuple[Path, dict[str, str]]):
    repo, _ = history
    with pytest.raises(SystemExit, match="reserved"):
        mine("pallets/flask", repo / ".git")


def test_the_held_out_check_mines_only_reserved_repositories(history: tuple[Path, dict[str, str]]):
    repo, shas = history
    held_out = mine("pallets/flask", repo / ".git", limit=1, held_out=True)
    assert [task.commit for task in held_out.tasks] == [shas["side"]]
    with pytest.raises(SystemExit, match="only pallets, psf, pytest-dev"):
        mine("acme/billing", repo / ".git", held_out=True)


def test_tasks_round_trip_through_their_files(history: tuple[Path, dict[str, str]], tmp_path):
    repo, _ = history
    mined = mine("acme/billing", repo / ".git", limit=10)
    write_tasks(tmp_path / "out", [mined], {"per_repo": 10})
    tasks, manifest = read_tasks(tmp_path / "out")
    assert tasks == mined.tasks
    assert manifest["repos"][0]["tasks"] == 2


def test_a_checkout_holds_exactly_the_parent_tree(history: tuple[Path, dict[str, str]], tmp_path):
    repo, shas = history
    checkout = Checkout(repo / ".git", tmp_path / "checkout")
    checkout.prepare()
    checkout.switch(shas["four files"])
    (checkout.root / "stray.py").write_text("left behind\n")
    checkout.switch(shas["root"])
    tree = checkout.tree(shas["root"])
    on_disk = {
        p.relative_to(checkout.root).as_posix()
        for p in checkout.root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }
    assert on_disk == set(tree)
    assert (checkout.root / "pkg/app.py").read_text() == "def app():\n    return 1\n"


# -- DevFactory's side ---------------------------------------------------------------------------


class CountingEmbedder:
    """A stand-in for the model: one fixed unit vector per text, and a log of what it saw."""

    name = "counting:256"
    dimensions = 256

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def embed(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row, hash(text) % self.dimensions] = 1.0
        return vectors


async def test_the_embedding_cache_embeds_each_text_once_and_keeps_the_order():
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner)
    first = await cached.embed(["a", "b", "a"])
    second = await cached.embed(["b", "c"])
    assert inner.seen == ["a", "b", "c"]
    assert (first[0] == first[2]).all() and (first[1] == second[0]).all()
    assert (second[1] == (await inner.embed(["c"]))[0]).all()


async def test_the_index_is_checked_against_the_tree(
    history: tuple[Path, dict[str, str]], tmp_path: Path
):
    repo, shas = history
    checkout = Checkout(repo / ".git", tmp_path / "checkout")
    checkout.prepare()
    checkout.switch(shas["good"])
    tree = checkout.tree(shas["good"])
    index = await DevFactoryIndex.open(
        checkout.root, tmp_path / "state", tmp_path / "cache", CachedEmbedder(CountingEmbedder())
    )
    try:
        await index.update()
        await index.verify(tree)
        found = await index.search("empty invoices app", "hybrid")
        assert "pkg/app.py" in found.files
        with pytest.raises(RuntimeError, match="missing"):
            await index.verify({**tree, "pkg/new.py": tree["pkg/app.py"]})
        (checkout.root / "pkg/app.py").write_text("def app():\n    return 3\n")
        with pytest.raises(RuntimeError, match="stale content for pkg/app.py"):
            await index.verify(tree)
    finally:
        await index.close()


# -- baselines and metrics -----------------------------------------------------------------------


def test_tokens_split_identifiers_and_drop_stopwords():
    assert tokenize("The parseURL of get_object_or_404 is a HTTPServer x") == [
        "parse",
        "url",
        "get",
        "object",
        "404",
        "http",
        "server",
    ]
    assert query_terms("parse the url, parse_url") == ["parse", "url"]


def test_baselines_rank_the_file_that_talks_about_the_query():
    files = {
        "billing/invoice.py": Counter(tokenize("class Invoice: def total(self): invoice total")),
        "billing/payment.py": Counter(tokenize("class Payment: def refund(self): pass")),
        "billing/report.py": Counter(tokenize("def render(): return invoice")),
    }
    assert WholeFileBM25(files).rank("invoice totals are wrong")[0] == "billing/invoice.py"
    assert term_count_rank(files, "invoice total") == ["billing/invoice.py", "billing/report.py"]
    assert WholeFileBM25(files).rank("nothing matches") == []


def test_file_level_metrics_on_a_fixed_example():
    ranking = ["a.py", "b.py", "c.py", "d.py", "e.py", "f.py"]
    assert score(ranking, ["b.py", "f.py"]) == {
        "recall@1": 0.0,
        "recall@5": 0.5,
        "recall@10": 1.0,
        "acc@5": 1.0,
        "mrr": 0.5,
    }
    assert score(ranking, ["z.py"]) == {
        "recall@1": 0.0,
        "recall@5": 0.0,
        "recall@10": 0.0,
        "acc@5": 0.0,
        "mrr": 0.0,
    }
    summary = aggregate([score(ranking, ["a.py"]), score(ranking, ["z.py"])], [0.1, 0.3, 0.2])
    assert summary == {
        "recall@1": 0.5,
        "recall@5": 0.5,
        "recall@10": 0.5,
        "acc@5": 0.5,
        "mrr": 0.5,
        "seconds": 0.2,
        "tasks": 2,
    }


def test_summaries_are_per_repository_and_overall():
    results = [
        {"repo": "a/x", "answers": ["m.py"], "rankings": {"bm25": ["m.py"]}, "seconds": {}},
        {"repo": "b/y", "answers": ["n.py"], "rankings": {"bm25": ["o.py", "n.py"]}, "seconds": {}},
    ]
    summary = summarize(results, ["bm25"])["bm25"]
    assert summary["a/x"]["mrr"] == 1.0
    assert summary["b/y"]["mrr"] == 0.5
    assert summary["overall"]["mrr"] == 0.75
