"""Test commands: recognise them from their argv and read their counts afterwards.

Counts come from a JUnit XML report when the command wrote one (``--junitxml``,
``--log-junit``, ``--xunit-output``, or the policy entry's ``junit_xml``), else from the
runner's own summary at the end of its output: pytest, jest, vitest, mocha, PHPUnit, Pest
(``artisan test``), XCTest and swift-testing (``swift test``), ``cargo test`` and ``go test -v``.
"""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

from devfactory.protocol.events import TestCounts

from ..safefs import FileTooLarge, PathRefused, SafeTree

MAX_JUNIT_BYTES = 50 * 1024 * 1024
_PYTHON = re.compile(r"^python[0-9.]*$")
_RUNNER_PREFIXES = {"uv": "run", "poetry": "run", "pipenv": "run", "pdm": "run", "hatch": "run"}
_JS_RUNNERS = ("jest", "vitest", "mocha")


def _name(word: str) -> str:
    return os.path.basename(word)


def recognise(argv: Sequence[str]) -> str | None:
    """The test framework ``argv`` runs, or None when it is not a test command."""
    if not argv:
        return None
    name, rest = _name(argv[0]), list(argv[1:])
    if _RUNNER_PREFIXES.get(name) is not None and rest[:1] == [_RUNNER_PREFIXES[name]]:
        return recognise(rest[1:])
    if name in ("pytest", "py.test") or (_PYTHON.match(name) and rest[:2] == ["-m", "pytest"]):
        return "pytest"
    if name in _JS_RUNNERS:
        return name
    if name in ("npx", "bunx") and rest:
        return recognise(rest)
    if name in ("npm", "yarn", "pnpm", "bun") and rest:
        script = rest[1] if rest[0] in ("run", "run-script") and len(rest) > 1 else rest[0]
        return "npm" if script in ("test", "t") or script.startswith("test:") else None
    if name == "php" and rest[:2] == ["artisan", "test"]:
        return "artisan"
    if name in ("phpunit", "pest"):
        return name
    if name in ("swift", "go", "cargo") and rest[:1] == ["test"]:
        return name
    return None


def junit_report(argv: Sequence[str]) -> str | None:
    """The JUnit XML path a test command was asked to write, if any."""
    flags = ("--junitxml", "--junit-xml", "--log-junit", "--xunit-output", "--outputFile")
    for i, word in enumerate(argv):
        for flag in flags:
            if word.startswith(flag + "=") or word.startswith(flag + ".junit="):
                return word.split("=", 1)[1]
            if word == flag and i + 1 < len(argv):
                return argv[i + 1]
    return None


def read_junit(worktree: str, declared: str, since: float) -> TestCounts | None:
    """Counts from the JUnit report at ``declared`` (in ``worktree``) if it changed since
    ``since``; None otherwise. The command that wrote it is untrusted: the report is read
    through :class:`SafeTree`, so a link out of the worktree, a FIFO (whose open() would block
    the daemon) or a file over the size limit is never read."""
    tree = SafeTree(Path(worktree))
    rel = os.path.relpath(os.path.join(worktree, declared), worktree)
    try:
        clean = tree.resolve(rel)
        info = tree.lstat(clean)
        if info is None or info.st_mtime < since:
            return None
        data = tree.read(clean, MAX_JUNIT_BYTES)
    except (OSError, PathRefused, FileTooLarge):
        return None
    return parse_junit(data) if data is not None else None


def parse_junit(data: bytes) -> TestCounts | None:
    """Counts from a JUnit XML report: one per ``<testcase>``; None if it does not parse."""
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        return None  # no entity expansion from a file a command wrote
    counts = TestCounts()
    try:
        for _, element in ET.iterparse(io.BytesIO(data), events=("end",)):
            if element.tag != "testcase":
                continue
            outcomes = {child.tag for child in element}
            if "error" in outcomes:
                counts.errors += 1
            elif "failure" in outcomes:
                counts.failed += 1
            elif "skipped" in outcomes:
                counts.skipped += 1
            else:
                counts.passed += 1
            element.clear()
    except ET.ParseError:
        return None
    return counts


def _words(body: str, mapping: dict[str, str]) -> TestCounts:
    """``3 passed, 1 failed`` -> counts, through ``mapping`` (runner word -> our field)."""
    counts = TestCounts()
    for number, word in re.findall(r"(\d+) ([a-z]+)", body.lower()):
        field = mapping.get(word)
        if field is not None:
            setattr(counts, field, getattr(counts, field) + int(number))
    return counts


_PYTEST_WORDS = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "error": "errors",
    "errors": "errors",
    "skipped": "skipped",
    "xfailed": "skipped",
}
_JS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "skipped": "skipped",
    "todo": "skipped",
    "pending": "skipped",
    "incomplete": "skipped",
    "risky": "passed",
}


def _pytest(text: str) -> TestCounts | None:
    found = re.findall(
        r"^=*\s*((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)"
        r"(?:, )?)+|no tests ran) in [\d.]+s",
        text,
        re.M,
    )
    return _words(found[-1], _PYTEST_WORDS) if found else None


def _tests_line(text: str) -> TestCounts | None:
    """jest ``Tests: 1 failed, 2 passed, 3 total`` and Pest ``Tests: 1 failed, 2 passed (3 ...``."""
    found = re.findall(r"^\s*Tests:\s+((?:\d+ [a-z]+,?\s*)+)", text, re.M)
    return _words(found[-1], _JS_WORDS) if found else None


def _vitest(text: str) -> TestCounts | None:
    found = re.findall(r"^\s*Tests\s+((?:\d+ [a-z]+\s*\|?\s*)+)\(\d+\)", text, re.M)
    return _words(found[-1], _JS_WORDS) if found else None


def _mocha(text: str) -> TestCounts | None:
    passing = re.findall(r"^\s*(\d+) passing", text, re.M)
    if not passing:
        return None
    failing = re.findall(r"^\s*(\d+) failing", text, re.M)
    pending = re.findall(r"^\s*(\d+) pending", text, re.M)
    return TestCounts(
        passed=int(passing[-1]),
        failed=int(failing[-1]) if failing else 0,
        skipped=int(pending[-1]) if pending else 0,
    )


def _phpunit(text: str) -> TestCounts | None:
    if ok := re.findall(r"^OK \((\d+) tests?, \d+ assertions?\)", text, re.M):
        return TestCounts(passed=int(ok[-1]))
    found = re.findall(r"^Tests: (\d+), Assertions: \d+((?:, [A-Za-z]+: \d+)*)\.", text, re.M)
    if not found:
        return None
    total, rest = found[-1]
    extra = {k.lower(): int(v) for k, v in re.findall(r"([A-Za-z]+): (\d+)", rest)}
    counts = TestCounts(
        failed=extra.get("failures", 0),
        errors=extra.get("errors", 0),
        skipped=extra.get("skipped", 0) + extra.get("incomplete", 0),
    )
    counts.passed = max(0, int(total) - counts.failed - counts.errors - counts.skipped)
    return counts


def _swift(text: str) -> TestCounts | None:
    counts: TestCounts | None = None
    xctest = re.findall(
        r"Executed (\d+) tests?, with (?:(\d+) tests? skipped and )?(\d+) failures?", text
    )
    if xctest:
        total, skipped, failed = (int(x or 0) for x in xctest[-1])
        counts = TestCounts(passed=total - skipped - failed, failed=failed, skipped=skipped)
    runs = re.findall(r"Test run with (\d+) tests?(?: in \d+ suites?)? (passed|failed)", text)
    if runs:
        failed = len(re.findall(r"^\S+ Test (?!run ).* failed after", text, re.M))
        total = int(runs[-1][0])
        counts = counts or TestCounts()
        counts.passed += max(0, total - failed)
        counts.failed += failed
    return counts


def _cargo(text: str) -> TestCounts | None:
    found = re.findall(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", text)
    if not found:
        return None
    return TestCounts(
        passed=sum(int(p) for p, _, _ in found),
        failed=sum(int(f) for _, f, _ in found),
        skipped=sum(int(i) for _, _, i in found),
    )


def _go(text: str) -> TestCounts | None:
    found = re.findall(r"^\s*--- (PASS|FAIL|SKIP):", text, re.M)
    if not found:
        return None
    return TestCounts(
        passed=found.count("PASS"), failed=found.count("FAIL"), skipped=found.count("SKIP")
    )


Parser = Callable[[str], TestCounts | None]
_ALL: tuple[Parser, ...] = (_pytest, _tests_line, _vitest, _mocha, _phpunit, _swift, _cargo, _go)
_FIRST: dict[str, Parser] = {
    "pytest": _pytest,
    "jest": _tests_line,
    "vitest": _vitest,
    "mocha": _mocha,
    "artisan": _tests_line,
    "pest": _tests_line,
    "phpunit": _phpunit,
    "swift": _swift,
    "cargo": _cargo,
    "go": _go,
}


def parse_summary(framework: str, text: str) -> TestCounts | None:
    """Counts from the runner's summary in ``text`` (the end of its output)."""
    first = _FIRST.get(framework)
    for parser in (first, *(p for p in _ALL if p is not first)):
        if parser is not None and (counts := parser(text)) is not None:
            return counts
    return None
