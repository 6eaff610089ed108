"""Which files are "source": the answers a task may have and the candidates the baselines rank.

One definition for the miner, the baselines and the source-only variants of DevFactory's
rankings: code by DevFactory's own classification (not docs, not config), not vendored or
generated, and not a test, a fixture or test data.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from devfactory.protocol.enums import SourceType
from devfactory.server.index.discovery import classify, looks_like_test, skip_by_name

#: Folders holding test inputs rather than tests (which ``looks_like_test`` already finds).
TEST_DATA_DIRS = frozenset(
    {"test-data", "test_data", "testdata", "fixtures", "__fixtures__", "__snapshots__", "__mocks__"}
)
TEST_FILE_NAMES = frozenset({"conftest.py"})


def is_test(path: str) -> bool:
    """Tests and their data: never an answer, never a baseline candidate."""
    pure = PurePosixPath(path)
    if pure.name in TEST_FILE_NAMES:
        return True
    if any(part.lower() in TEST_DATA_DIRS for part in pure.parts[:-1]):
        return True
    return looks_like_test(path)


def is_source(path: str) -> bool:
    """Non-test code that DevFactory would index as code."""
    if skip_by_name(path) is not None or is_test(path):
        return False
    return classify(path)[1] is SourceType.CODE
