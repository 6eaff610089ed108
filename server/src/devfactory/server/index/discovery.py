"""Which workspace files the index reads, and how it classifies them.

The file list itself comes from :func:`devfactory.server.project.files.list_workspace_files`
(git ls-files or a .gitignore-aware walk, plus .devfactoryignore). On top of it the index skips
vendored folders and binary, minified or oversized files: they would flood search with noise.
"""

from __future__ import annotations

import functools
from pathlib import PurePosixPath

from devfactory.protocol.enums import SourceType

from ..project.languages import language_of

VENDORED_DIRS = frozenset(
    {
        "node_modules",
        "vendor",
        "bower_components",
        "jspm_packages",
        "third_party",
        "Pods",
        "Carthage",
        ".venv",
        "venv",
        "site-packages",
        "__pycache__",
        ".tox",
        ".next",
        ".nuxt",
        ".svelte-kit",
        "dist",
        "build",
        "target",
        ".build",
        "DerivedData",
        ".gradle",
        ".idea",
        "coverage",
    }
)

BINARY_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".icns",
        ".webp",
        ".tif",
        ".tiff",
        ".psd",
        ".svgz",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".rar",
        ".jar",
        ".war",
        ".whl",
        ".egg",
        ".so",
        ".dylib",
        ".dll",
        ".exe",
        ".bin",
        ".o",
        ".a",
        ".lib",
        ".class",
        ".pyc",
        ".pyo",
        ".mo",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".m4a",
        ".wav",
        ".ogg",
        ".flac",
        ".mov",
        ".avi",
        ".mkv",
        ".webm",
        ".sqlite",
        ".sqlite3",
        ".db",
        ".dbf",
        ".shp",
        ".shx",
        ".prj",
        ".wasm",
        ".pickle",
        ".pkl",
        ".npy",
        ".npz",
        ".parquet",
        ".keystore",
        ".p12",
        ".der",
        ".dat",
    ]
)

MINIFIED_SUFFIXES = (".min.js", ".min.css", ".min.mjs", ".bundle.js", ".map")
LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "composer.lock",
        "Cargo.lock",
        "poetry.lock",
        "uv.lock",
        "Gemfile.lock",
        "Podfile.lock",
        "Package.resolved",
    }
)

CONFIG_LANGUAGES = frozenset({"json", "toml", "yaml", "xml", "dockerfile", "makefile"})
DOC_LANGUAGES = frozenset({"markdown", "rst", "text"})
CONFIG_SUFFIXES = frozenset({".ini", ".cfg", ".conf", ".env", ".properties", ".lock"})

#: A line longer than this in the first bytes of a file marks it as generated or minified.
MINIFIED_LINE = 2_000
SNIFF_BYTES = 8_192


#: Written by DevFactory itself (the project map): indexing it would echo every symbol twice.
GENERATED_BY_US = frozenset({"PROJECT_MAP.md"})


def skip_by_name(path: str) -> str | None:
    """Why ``path`` is not indexed, judging by its name alone (``None``: read it)."""
    if path in GENERATED_BY_US:
        return "generated"
    pure = PurePosixPath(path)
    if any(part in VENDORED_DIRS for part in pure.parts[:-1]):
        return "vendored"
    name = pure.name
    if name in LOCK_FILES:
        return "generated"
    lowered = name.lower()
    if lowered.endswith(MINIFIED_SUFFIXES):
        return "minified"
    if pure.suffix.lower() in BINARY_SUFFIXES:
        return "binary"
    return None


def skip_by_content(data: bytes) -> str | None:
    """Why a file's bytes are not indexed: binary (NUL bytes) or minified (huge lines)."""
    head = data[:SNIFF_BYTES]
    if b"\0" in head:
        return "binary"
    if len(head) >= SNIFF_BYTES and max(len(line) for line in head.split(b"\n")) > MINIFIED_LINE:
        return "minified"
    return None


def source_type_of(path: str, language: str | None) -> SourceType:
    if language in DOC_LANGUAGES:
        return SourceType.DOC
    if language in CONFIG_LANGUAGES or PurePosixPath(path).suffix.lower() in CONFIG_SUFFIXES:
        return SourceType.CONFIG
    if language is None:
        return SourceType.DOC
    return SourceType.CODE


def classify(path: str) -> tuple[str | None, SourceType]:
    """(language, source type) of a workspace file."""
    language = language_of(path)
    return language, source_type_of(path, language)


@functools.lru_cache(maxsize=65_536)
def looks_like_test(path: str) -> bool:
    """Tests and their data, which search ranks lower unless the query asks for them."""
    pure = PurePosixPath(path)
    if any(part.lower() in _TEST_DIRS for part in pure.parts[:-1]):
        return True
    stem = pure.stem
    return (
        pure.name == "conftest.py"
        or stem.lower().startswith("test_")
        or stem.endswith(_TEST_STEM_ENDINGS)
    )


_TEST_DIRS = frozenset(
    {
        "test",
        "tests",
        "__tests__",
        "spec",
        "specs",
        "testing",
        "test-data",
        "test_data",
        "testdata",
        "fixtures",
        "__fixtures__",
        "__snapshots__",
        "__mocks__",
    }
)
_TEST_STEM_ENDINGS = ("_test", "_tests", ".test", ".spec", "Test", "Tests", "Spec")


@functools.lru_cache(maxsize=65_536)
def looks_like_changelog(path: str) -> bool:
    """A changelog, release notes or a news fragment: prose about changes, which reads like
    the very request that asks for one but is rarely where the change is made."""
    pure = PurePosixPath(path)
    if any(part.lower() in _CHANGELOG_DIRS for part in pure.parts[:-1]):
        return True
    return pure.stem.lower().replace("-", "_") in _CHANGELOG_NAMES


_CHANGELOG_NAMES = frozenset(
    {"changelog", "changes", "history", "news", "releases", "release_notes", "whatsnew"}
)
_CHANGELOG_DIRS = frozenset(
    {
        "changelog",
        "changelogs",
        "changelog.d",
        "newsfragments",
        "release-notes",
        "release_notes",
        "releasenotes",
        "whatsnew",
    }
)


@functools.lru_cache(maxsize=65_536)
def looks_vendored(path: str) -> bool:
    """Third-party code kept under a name that says so (``_vendor/``, ``typeshed/``): indexed,
    as it is read and sometimes patched, but ranked lower, since its dense runs of names match
    any request that mentions them."""
    return any(part.lower() in _SOFT_VENDORED_DIRS for part in PurePosixPath(path).parts[:-1])


_SOFT_VENDORED_DIRS = frozenset(
    {"_vendor", "vendored", "third-party", "3rdparty", "external", "extern", "typeshed"}
)
