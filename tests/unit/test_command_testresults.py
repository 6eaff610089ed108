"""Test commands: which argv is a test run, and the counts read from each runner's summary or a
JUnit XML report."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from command_support import Harness, close_harness, open_harness
from devfactory.protocol.events import TestCounts as Counts
from devfactory.protocol.settings import CommandSettings
from devfactory.server.execution.testresults import (
    MAX_JUNIT_BYTES,
    junit_report,
    parse_junit,
    parse_summary,
    read_junit,
    recognise,
)
from support import LoopWatch


def counts(passed: int = 0, failed: int = 0, errors: int = 0, skipped: int = 0) -> Counts:
    return Counts(passed=passed, failed=failed, errors=errors, skipped=skipped)


@pytest.mark.parametrize(
    ("command", "framework"),
    [
        ("pytest -q", "pytest"),
        ("py.test tests", "pytest"),
        ("python -m pytest -x", "pytest"),
        ("python3.11 -m pytest", "pytest"),
        ("uv run pytest", "pytest"),
        ("poetry run python -m pytest", "pytest"),
        ("npm test", "npm"),
        ("npm t", "npm"),
        ("npm run test:unit", "npm"),
        ("yarn test --watch=false", "npm"),
        ("pnpm run test", "npm"),
        ("npx jest src", "jest"),
        ("npx vitest run", "vitest"),
        ("mocha", "mocha"),
        ("php artisan test --parallel", "artisan"),
        ("vendor/bin/phpunit", "phpunit"),
        ("./vendor/bin/pest", "pest"),
        ("swift test", "swift"),
        ("go test ./...", "go"),
        ("cargo test", "cargo"),
        ("npm run build", None),
        ("python -m mypy", None),
        ("swift build", None),
        ("php artisan migrate", None),
        ("git status", None),
    ],
)
def test_recognise(command: str, framework: str | None) -> None:
    assert recognise(command.split()) == framework


SUMMARIES = [
    (
        "pytest",
        "F.s.\n====== 1 failed, 2 passed, 1 skipped, 1 warning in 0.12s ======\n",
        counts(passed=2, failed=1, skipped=1),
    ),
    ("pytest", "..\n2 passed in 0.01s\n", counts(passed=2)),
    (
        "pytest",
        "!!!! Interrupted: 1 error during collection !!!!\n1 error in 0.05s\n",
        counts(errors=1),
    ),
    ("pytest", "===== no tests ran in 0.01s =====\n", counts()),
    ("pytest", "1 xfailed, 1 xpassed, 3 deselected in 0.02s\n", counts(passed=1, skipped=1)),
    (
        "npm",
        "Test Suites: 1 failed, 1 passed, 2 total\n"
        "Tests:       1 failed, 1 skipped, 3 passed, 5 total\nSnapshots:   0 total\n",
        counts(passed=3, failed=1, skipped=1),
    ),
    (
        "vitest",
        " Test Files  1 failed | 1 passed (2)\n      Tests  1 failed | 2 passed | 1 skipped (4)\n"
        "   Duration  300ms\n",
        counts(passed=2, failed=1, skipped=1),
    ),
    (
        "npm",
        "\n  3 passing (12ms)\n  1 pending\n  1 failing\n",
        counts(passed=3, failed=1, skipped=1),
    ),
    (
        "phpunit",
        "FAILURES!\nTests: 5, Assertions: 7, Failures: 1, Errors: 1, Skipped: 1.\n",
        counts(passed=2, failed=1, errors=1, skipped=1),
    ),
    ("phpunit", "OK (3 tests, 5 assertions)\n", counts(passed=3)),
    (
        "artisan",
        "   FAIL  Tests\\Feature\\ExampleTest\n  Tests:    1 failed, 1 skipped, 2 passed"
        " (3 assertions)\n  Duration: 0.12s\n",
        counts(passed=2, failed=1, skipped=1),
    ),
    (
        "swift",
        "Test Suite 'All tests' failed at 2024-01-01 10:00:00.000.\n\t Executed 4 tests, with 1"
        " test skipped and 1 failure (0 unexpected) in 0.005 (0.006) seconds\n",
        counts(passed=2, failed=1, skipped=1),
    ),
    (
        "swift",
        "◇ Test run started.\n✘ Test divides() recorded an issue at Math.swift:10:5: Expectation"
        " failed\n✘ Test divides() failed after 0.001 seconds with 1 issue.\n✔ Test adds() passed"
        " after 0.001 seconds.\n✘ Test run with 3 tests failed after 0.002 seconds with 1 issue.\n",
        counts(passed=2, failed=1),
    ),
    (
        "cargo",
        "test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out\n"
        "test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n",
        counts(passed=5, failed=1, skipped=1),
    ),
    (
        "go",
        "=== RUN   TestA\n--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.00s)\n"
        "--- SKIP: TestC (0.00s)\nFAIL\n",
        counts(passed=1, failed=1, skipped=1),
    ),
]


@pytest.mark.parametrize(("framework", "text", "expected"), SUMMARIES)
def test_parse_summary(framework: str, text: str, expected: Counts) -> None:
    assert parse_summary(framework, text) == expected


def test_a_run_without_a_summary_has_no_counts() -> None:
    assert parse_summary("pytest", "Traceback (most recent call last):\nImportError\n") is None


@pytest.mark.parametrize(
    ("command", "path"),
    [
        ("pytest --junitxml=out/report.xml", "out/report.xml"),
        ("pytest --junit-xml report.xml", "report.xml"),
        ("vendor/bin/phpunit --log-junit build/junit.xml", "build/junit.xml"),
        ("swift test --xunit-output xunit.xml", "xunit.xml"),
        ("npx vitest run --reporter=junit --outputFile.junit=junit.xml", "junit.xml"),
        ("pytest -q", None),
    ],
)
def test_junit_report_flags(command: str, path: str | None) -> None:
    assert junit_report(command.split()) == path


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="5">
  <testcase classname="t" name="a"/>
  <testcase classname="t" name="b"><failure message="x">boom</failure></testcase>
  <testcase classname="t" name="c"><error message="y"/></testcase>
  <testcase classname="t" name="d"><skipped/></testcase>
  <testsuite name="nested"><testcase classname="n" name="e"/></testsuite>
</testsuite></testsuites>
"""


def test_parse_junit_counts_each_testcase() -> None:
    assert parse_junit(JUNIT.encode()) == counts(passed=2, failed=1, errors=1, skipped=1)


@pytest.mark.parametrize(
    "content",
    [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>',
        "<testsuite><testcase",
    ],
    ids=["entities refused", "malformed"],
)
def test_parse_junit_refuses_what_it_should_not_parse(content: str) -> None:
    assert parse_junit(content.encode()) is None


REPORTS: dict[str, Callable[[Path, Path], object]] = {
    "a report": lambda report, outside: report.write_text(JUNIT),
    "a link inside": lambda report, outside: (
        (report.parent / "real.xml").write_text(JUNIT),
        report.symlink_to("real.xml"),
    ),
    "a FIFO": lambda report, outside: os.mkfifo(report),
    "a link out": lambda report, outside: report.symlink_to(outside),
    "a link to a FIFO": lambda report, outside: (
        os.mkfifo(report.parent / "pipe"),
        report.symlink_to("pipe"),
    ),
    "a report over the limit": lambda report, outside: report.write_bytes(
        JUNIT.encode().ljust(MAX_JUNIT_BYTES + 1)
    ),
    "nothing": lambda report, outside: None,
}


@pytest.mark.parametrize(
    ("kind", "declared", "read"),
    [
        ("a report", "report.xml", True),
        ("a report", "{worktree}/report.xml", True),
        ("a report", "../worktree/report.xml", True),
        ("a link inside", "report.xml", True),
        ("a FIFO", "report.xml", False),
        ("a link out", "report.xml", False),
        ("a link to a FIFO", "report.xml", False),
        ("a report over the limit", "report.xml", False),
        ("nothing", "report.xml", False),
        ("a report", "{outside}", False),
    ],
)
def test_read_junit_reads_only_a_regular_report_in_the_worktree(
    tmp_path: Path, kind: str, declared: str, read: bool
) -> None:
    """What the command left at the report path is untrusted: it is read only when it is a
    regular file of a sane size inside the worktree, and never blocks (a FIFO)."""
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    outside = tmp_path / "outside.xml"
    outside.write_text(JUNIT)
    REPORTS[kind](worktree / "report.xml", outside)
    path = declared.format(worktree=worktree, outside=outside)
    found: list[Counts | None] = []
    reader = threading.Thread(
        target=lambda: found.append(read_junit(str(worktree), path, 0)), daemon=True
    )
    reader.start()
    reader.join(5)
    assert found == [counts(passed=2, failed=1, errors=1, skipped=1) if read else None]


def test_read_junit_skips_a_report_older_than_the_command(tmp_path: Path) -> None:
    (tmp_path / "report.xml").write_text(JUNIT)
    assert read_junit(str(tmp_path), "report.xml", since=time.time() + 60) is None


CONFTEST = """import os, pathlib

def pytest_unconfigure(config):
    # After pytest wrote report.xml: put {kind} in its place.
    report = pathlib.Path("report.xml")
    report.unlink()
    {plant}
"""
PLANTS = {
    "a FIFO": "os.mkfifo(report)",
    "a link out": "report.symlink_to({outside!r})",
}


@pytest_asyncio.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, {"test_one.py": "def test_one():\n    assert True\n"})
    yield h
    await close_harness(h)


def free_the_fifo(path: Path, stop: threading.Event) -> None:
    """Three seconds after the FIFO appears, open it for writing whenever a reader waits on it,
    so a daemon blocked in open() comes back (and the test fails instead of hanging)."""
    while not path.is_fifo():
        if stop.wait(0.05):
            return
    if stop.wait(3):
        return
    while not stop.wait(0.05):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # not a FIFO yet, or no reader waiting
            continue


@pytest.mark.parametrize("kind", PLANTS)
async def test_a_hostile_report_neither_blocks_the_daemon_nor_is_read(
    harness: Harness, kind: str
) -> None:
    """A test run (a conftest.py the agent wrote) leaves a FIFO or a link out where its JUnit
    report goes: opening the FIFO blocked the event loop, and every run and request with it."""
    outside = harness.outside / "report.xml"
    outside.write_text(JUNIT)
    plant = PLANTS[kind].format(outside=str(outside))
    (harness.worktree / "conftest.py").write_text(CONFTEST.format(kind=kind, plant=plant))
    service = harness.service(CommandSettings(allow_unsandboxed=True))
    stop = threading.Event()
    freer = threading.Thread(
        target=free_the_fifo, args=(harness.worktree / "report.xml", stop), daemon=True
    )
    freer.start()
    try:
        async with LoopWatch() as watch:
            outcome = await service.execute(
                harness.run, "python3 -m pytest -q -p no:cacheprovider --junitxml=report.xml"
            )
    finally:
        stop.set()
        freer.join()
    assert outcome.execution.exit_code == 0, outcome.tool_result
    longest = watch.longest_stall
    assert longest < 1.0, f"the event loop stood still for {longest:.1f}s"
    # Counted from pytest's own summary, not from the report outside (2 passed there).
    assert outcome.execution.test_counts == counts(passed=1)
