"""The Python outline: definitions read from lines must be the ones tree-sitter parses, and
whatever the outline cannot be sure of goes to tree-sitter."""

from __future__ import annotations

import pytest

from devfactory.server.index import chunker
from devfactory.server.index.chunker import Spanned, _parsed_definitions, chunk_file
from devfactory.server.index.grammars import grammar_for
from devfactory.server.index.python_outline import (
    FoundDefinition,
    python_definitions,
    statement_rows,
)


def outline(text: str) -> list[FoundDefinition] | None:
    return python_definitions(text, text.split("\n"))


def parsed(text: str) -> list[FoundDefinition]:
    grammar = grammar_for("python")
    assert grammar is not None
    found = _parsed_definitions(text, grammar)
    return [spanned.definition for spanned in sorted(found, key=lambda s: (s.start, -s.end))]


COMMENTS = """class A:
    def f(self):
        x = 1
        # still f's: as deep as its body

    # the class's, not f's

    def g(self):
        pass
# the module's
    # the module's too: the class ended at the comment above

def h():
    return (1,
2)
    # h's

x = 1
"""


def test_trailing_comments_belong_to_a_block_while_they_are_indented_like_its_body():
    assert outline(COMMENTS) == [
        FoundDefinition(0, 8, "A", "class"),
        FoundDefinition(1, 3, "f", "function"),
        FoundDefinition(7, 8, "g", "function"),
        FoundDefinition(12, 15, "h", "function"),
    ]


TRICKY = {
    "comments": COMMENTS,
    "decorators": "@first\n# between\n@second(\n    arg,\n)\nasync def run():\n    pass\n",
    "code in a docstring": 'def f():\n    """\ndef fake():\n    pass\n"""\n    return 1\n\nclass B: pass\n',
    "dedented brackets": "def f():\n    call(\n1,\n    )\n    return [\n]\n\ndef g(): return 2\n",
    "backslashes": "def f():\n    x = 1 + \\\n2\n    # a path: C:\\\n    return x\nclass C:\n    pass\n",
    "empty strings beside strings": "def f():\n    return \"a\"\"\" + ''\ndef g():\n    '''x''''' \n",
    "quotes inside strings": 'def f():\n    s = "it\'s" + \'"\' + "\\""\n    return s\ndef g():\n    pass\n',
    "nested in blocks": (
        "try:\n    import x\nexcept ImportError:\n    def x():\n        pass\n"
        "if TYPE_CHECKING:\n    class T:\n        def m(self): ...\n"
    ),
    "one-liners": "def f(): return 1\n    # deeper, after a one-line body\nclass E(Exception): pass\n",
    "crlf": "class A:\r\n    def f(self):\r\n        pass\r\n    # c\r\n\r\nx = 1\r\n",
    "no final newline": "def f():\n    pass\n    # last",
    "byte-order mark": "\ufeffclass A:\n    def m(self):\n        pass\n",
    "comment at the end of the file": "class A:\n    def f(self):\n        pass\n        # f\n    # A\n",
}


@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
def test_the_outline_finds_what_tree_sitter_parses(text: str):
    assert outline(text) is not None
    assert outline(text) == parsed(text)


def test_code_inside_strings_and_brackets_is_not_a_statement():
    assert outline(TRICKY["code in a docstring"]) == [
        FoundDefinition(0, 5, "f", "function"),
        FoundDefinition(7, 7, "B", "class"),
    ]
    assert statement_rows("x = (1,\n2)\ny = '''\n'''\n") == [0, 2, 4]


UNSURE = {
    "tab indentation": "def f():\n\treturn 1\n",
    "form feed": "def f():\n    pass\n\fdef g():\n    pass\n",
    "an open string": "def f():\n    s = 'open\n    return s\n",
    "an open triple-quoted string": 'def f():\n    """never closed\n',
    "an unopened bracket": "def f():\n    return 1)\n",
    "an open bracket": "def f(:\n    return 1\n",
}


@pytest.mark.parametrize("text", UNSURE.values(), ids=UNSURE.keys())
def test_what_the_outline_cannot_be_sure_of_goes_to_tree_sitter(
    text: str, monkeypatch: pytest.MonkeyPatch
):
    assert outline(text) is None
    parses: list[str] = []
    real = chunker._parsed_definitions

    def counted(source: str, grammar: object) -> list[Spanned]:
        parses.append(source)
        return real(source, grammar)  # type: ignore[arg-type]

    monkeypatch.setattr(chunker, "_parsed_definitions", counted)
    chunk_file("m.py", "python", text)
    assert parses == [text]


def test_python_the_outline_reads_is_never_parsed(monkeypatch: pytest.MonkeyPatch):
    def refuse(source: str, grammar: object) -> list[Spanned]:
        raise AssertionError("parsed")

    monkeypatch.setattr(chunker, "_parsed_definitions", refuse)
    chunks = chunk_file("pkg/m.py", "python", TRICKY["decorators"])
    assert [(c.symbol, c.start_line, c.end_line) for c in chunks] == [("pkg.m.run", 1, 7)]
