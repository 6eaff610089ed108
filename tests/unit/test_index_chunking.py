"""Chunking (tree-sitter definitions, line windows), identifier sub-tokens, query rewriting
and file classification."""

from __future__ import annotations

import pytest

from devfactory.server.index.chunker import chunk_file, module_name
from devfactory.server.index.discovery import looks_like_test, skip_by_content, skip_by_name
from devfactory.server.index.ranking import QueryTraits, fts_expression
from devfactory.server.index.subtokens import camel_subtokens, split_identifier, symbol_tokens

PYTHON = '''import os

LIMIT = 10


@cached
def load(path):
    """Read it."""
    return open(path).read()


class Store(Base):
    kind = "x"

    def get(self, key):
        return self.data[key]

    class Meta:
        def deep(self):
            pass
'''


def outline(path: str, language: str, text: str) -> list[tuple[str | None, str | None, int, int]]:
    return [(c.symbol, c.kind, c.start_line, c.end_line) for c in chunk_file(path, language, text)]


def test_python_definitions_become_chunks_with_symbol_paths():
    assert outline("pkg/store.py", "python", PYTHON) == [
        ("pkg.store", "module", 1, 5),
        ("pkg.store.load", "function", 6, 9),
        ("pkg.store.Store", "class", 12, 14),
        ("pkg.store.Store.get", "method", 15, 16),
        ("pkg.store.Store.Meta", "class", 18, 18),
        ("pkg.store.Store.Meta.deep", "method", 19, 20),
    ]


def test_decorators_belong_to_their_definition():
    load = chunk_file("pkg/store.py", "python", PYTHON)[1]
    assert load.content.startswith("@cached\ndef load(path):")
    assert load.name == "load"


@pytest.mark.parametrize(
    ("path", "language", "text", "expected"),
    [
        (
            "web/api.ts",
            "typescript",
            "export interface User { id: number }\n"
            "export class Api {\n  fetchUser(id: number) { return id }\n}\n"
            "export const parseUrl = (raw: string) => new URL(raw)\n",
            [
                ("web.api.User", "interface", 1, 1),
                ("web.api.Api", "class", 2, 2),
                ("web.api.Api.fetchUser", "method", 3, 3),
                ("web.api.parseUrl", "function", 5, 5),
            ],
        ),
        (
            "app/Http/Controllers/UserController.php",
            "php",
            "<?php\nclass UserController {\n  public function index() { return 1; }\n}\n",
            [
                ("app.Http.Controllers.UserController", "module", 1, 1),
                ("app.Http.Controllers.UserController.UserController", "class", 2, 2),
                ("app.Http.Controllers.UserController.UserController.index", "method", 3, 3),
            ],
        ),
        (
            "Sources/App/Model.swift",
            "swift",
            "struct Item {\n  func total() -> Int { 1 }\n}\nprotocol Store {}\n",
            [
                ("Sources.App.Model.Item", "struct", 1, 1),
                ("Sources.App.Model.Item.total", "method", 2, 2),
                ("Sources.App.Model.Store", "interface", 4, 4),
            ],
        ),
        (
            "cmd/main.go",
            "go",
            "package main\n\ntype Server struct{}\n\nfunc (s *Server) Run() {}\n",
            [
                ("cmd.main", "module", 1, 2),
                ("cmd.main.Server", "type", 3, 3),
                ("cmd.main.Run", "method", 5, 5),
            ],
        ),
        (
            "src/lib.rs",
            "rust",
            "struct Cache;\nimpl Cache {\n    fn get(&self) {}\n}\n",
            [
                ("lib.Cache", "struct", 1, 1),
                ("lib.Cache", "impl", 2, 2),
                ("lib.Cache.get", "method", 3, 3),
            ],
        ),
        (
            "src/main/java/App.java",
            "java",
            "class App {\n  void run() {}\n}\n",
            [
                ("main.java.App.App", "class", 1, 1),
                ("main.java.App.App.run", "method", 2, 2),
            ],
        ),
    ],
)
def test_each_grammar_finds_its_definitions(path, language, text, expected):
    assert outline(path, language, text) == expected


def test_long_definitions_are_cut_into_overlapping_windows():
    body = "".join(f"    x{i} = {i}\n" for i in range(300))
    chunks = chunk_file("big.py", "python", f"def big():\n{body}")
    assert [(c.start_line, c.end_line) for c in chunks] == [
        (1, 100),
        (86, 185),
        (171, 270),
        (256, 301),
    ]
    assert {c.symbol for c in chunks} == {"big.big"}


def test_text_falls_back_to_windows_named_after_markdown_headings():
    text = "# Guide\n" + "intro\n" * 60 + "## Install\n" + "pip install\n" * 10
    chunks = chunk_file("docs/guide.md", "markdown", text)
    assert [(c.symbol, c.kind, c.start_line, c.end_line) for c in chunks] == [
        ("Guide", "section", 1, 50),
        ("Guide", "section", 41, 72),
    ]
    assert chunk_file("notes.txt", "text", "\n\n  \n") == []


def test_chunks_carry_hash_and_lexical_extras():
    chunk = chunk_file(
        "web/a.js", "javascript", "function parseUrl(s) { return buildHTTPRequest(s) }\n"
    )[0]
    assert chunk.subtokens == "parse url build http request"
    assert chunk.symbol_terms == "web a parseUrl web a parse url"
    assert len(chunk.content_hash) == 64


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("parse_url", ("parse", "url")),
        ("parseUrl", ("parse", "url")),
        ("ParseURL", ("parse", "url")),
        ("HTTPServer", ("http", "server")),
        ("parseURLFast_v2", ("parse", "url", "fast", "v", "2")),
    ],
)
def test_identifiers_split_into_parts(word, parts):
    assert split_identifier(word) == parts


def test_camel_subtokens_and_symbol_tokens():
    assert camel_subtokens("x = getUserName(); getUserName; plain_snake") == "get user name"
    # A word's later marks are its own; a non-ASCII letter ends the parts, not the word.
    assert camel_subtokens("my_getHTTPById aBcDe") == "get http by id a bc de"
    assert camel_subtokens("fooBarébazQux") == "foo bar foo bar baz qux"
    assert (
        symbol_tokens("app.models.UserProfile") == "app models UserProfile app models user profile"
    )
    assert symbol_tokens(None) == ""


@pytest.mark.parametrize(
    ("query", "expression"),
    [
        ("parse_url", '"parse_url"'),
        ("parseUrl", '("parseurl" OR "parse url")'),
        ("how to parse the url", '"parse" OR "url"'),
        ("the of", None),
        ("!!!", None),
    ],
)
def test_queries_become_fts_expressions(query, expression):
    assert fts_expression(query) == expression


def test_query_traits_name_symbols_and_notice_tests():
    traits = QueryTraits("parse url for tests")
    assert traits.names_symbol("parseUrl") and traits.names_symbol("parse_url")
    assert not traits.names_symbol("parser")
    assert not traits.names_symbol("parse_fast_url")
    assert traits.wants_tests
    assert not QueryTraits("parse url").wants_tests
    sentence = QueryTraits("return the parse url of the request after the redirect")
    assert not sentence.names_symbol("parse_url")  # long queries: whole identifiers only
    assert QueryTraits("why does parse_url fail on ports").names_symbol("parseUrl")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("node_modules/react/index.js", "vendored"),
        ("vendor/laravel/framework/src/Foo.php", "vendored"),
        ("static/app.min.js", "minified"),
        ("assets/logo.png", "binary"),
        ("package-lock.json", "generated"),
        ("PROJECT_MAP.md", "generated"),
        ("src/app.py", None),
        ("docs/build.md", None),
    ],
)
def test_skip_by_name(path, reason):
    assert skip_by_name(path) == reason


def test_skip_by_content():
    assert skip_by_content(b"abc\0def") == "binary"
    assert skip_by_content(b"x" * 9000) == "minified"
    assert skip_by_content(b"short\nlines\n" * 1000) is None


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("tests/test_api.py", True),
        ("app/test_api.py", True),
        ("src/api.spec.ts", True),
        ("src/UserTest.php", True),
        ("src/__tests__/a.js", True),
        ("src/latest.py", False),
        ("src/contest.py", False),
    ],
)
def test_looks_like_test(path, is_test):
    assert looks_like_test(path) is is_test


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("src/app/models/user.py", "app.models.user"),
        ("pkg/__init__.py", "pkg"),
        ("web/components/index.tsx", "web.components"),
        ("src/mod.rs", "mod"),
        ("src/net/mod.rs", "net"),
        ("mod.py", "mod"),
    ],
)
def test_module_names(path, module):
    assert module_name(path) == module
