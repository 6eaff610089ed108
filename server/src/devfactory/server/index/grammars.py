"""Tree-sitter grammars (the per-language wheels, which bundle their parsers) and the query
that finds definitions in each language.

Grammars load lazily, once per process: a worker that only sees Python never loads Swift.
Each query captures a definition as ``@def`` and its name as ``@name``.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Any

import tree_sitter


@dataclass(frozen=True)
class GrammarSpec:
    module: str
    function: str
    query: str
    kinds: dict[str, str]
    """Node type -> chunk kind; a function nested in a class-like kind becomes a method."""
    wrappers: frozenset[str] = field(default_factory=frozenset)
    """Parent node types that belong to the definition (decorators, ``export``)."""


_JS_QUERY = """
(function_declaration name: (_) @name) @def
(generator_function_declaration name: (_) @name) @def
(class_declaration name: (_) @name) @def
(method_definition name: (_) @name) @def
(lexical_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression)])) @def
"""
_TS_QUERY = (
    _JS_QUERY
    + """
(abstract_class_declaration name: (_) @name) @def
(interface_declaration name: (_) @name) @def
(type_alias_declaration name: (_) @name) @def
(enum_declaration name: (_) @name) @def
"""
)
_JS_KINDS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "lexical_declaration": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "method_definition": "method",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
}

SPECS: dict[str, GrammarSpec] = {
    "python": GrammarSpec(
        "tree_sitter_python",
        "language",
        """
        (function_definition name: (identifier) @name) @def
        (class_definition name: (identifier) @name) @def
        """,
        {"function_definition": "function", "class_definition": "class"},
        frozenset({"decorated_definition"}),
    ),
    "javascript": GrammarSpec(
        "tree_sitter_javascript", "language", _JS_QUERY, _JS_KINDS, frozenset({"export_statement"})
    ),
    "typescript": GrammarSpec(
        "tree_sitter_typescript",
        "language_typescript",
        _TS_QUERY,
        _JS_KINDS,
        frozenset({"export_statement"}),
    ),
    "tsx": GrammarSpec(
        "tree_sitter_typescript",
        "language_tsx",
        _TS_QUERY,
        _JS_KINDS,
        frozenset({"export_statement"}),
    ),
    "php": GrammarSpec(
        "tree_sitter_php",
        "language_php",
        """
        (function_definition name: (name) @name) @def
        (class_declaration name: (name) @name) @def
        (interface_declaration name: (name) @name) @def
        (trait_declaration name: (name) @name) @def
        (enum_declaration name: (name) @name) @def
        (method_declaration name: (name) @name) @def
        """,
        {
            "function_definition": "function",
            "class_declaration": "class",
            "interface_declaration": "interface",
            "trait_declaration": "trait",
            "enum_declaration": "enum",
            "method_declaration": "method",
        },
    ),
    "swift": GrammarSpec(
        "tree_sitter_swift",
        "language",
        """
        (class_declaration name: (_) @name) @def
        (protocol_declaration name: (_) @name) @def
        (function_declaration name: (_) @name) @def
        """,
        {
            "class_declaration": "class",
            "protocol_declaration": "interface",
            "function_declaration": "function",
        },
    ),
    "go": GrammarSpec(
        "tree_sitter_go",
        "language",
        """
        (function_declaration name: (_) @name) @def
        (method_declaration name: (_) @name) @def
        (type_declaration (type_spec name: (_) @name)) @def
        """,
        {
            "function_declaration": "function",
            "method_declaration": "method",
            "type_declaration": "type",
        },
    ),
    "rust": GrammarSpec(
        "tree_sitter_rust",
        "language",
        """
        (function_item name: (_) @name) @def
        (struct_item name: (_) @name) @def
        (enum_item name: (_) @name) @def
        (trait_item name: (_) @name) @def
        (impl_item type: (_) @name) @def
        (mod_item name: (_) @name) @def
        """,
        {
            "function_item": "function",
            "struct_item": "struct",
            "enum_item": "enum",
            "trait_item": "trait",
            "impl_item": "impl",
            "mod_item": "module",
        },
    ),
    "java": GrammarSpec(
        "tree_sitter_java",
        "language",
        """
        (class_declaration name: (_) @name) @def
        (interface_declaration name: (_) @name) @def
        (enum_declaration name: (_) @name) @def
        (record_declaration name: (_) @name) @def
        (method_declaration name: (_) @name) @def
        (constructor_declaration name: (_) @name) @def
        """,
        {
            "class_declaration": "class",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "record_declaration": "class",
            "method_declaration": "method",
            "constructor_declaration": "method",
        },
    ),
}

#: Kinds whose nested functions are methods.
CONTAINER_KINDS = frozenset({"class", "interface", "trait", "impl", "struct", "enum"})


@dataclass
class Grammar:
    spec: GrammarSpec
    parser: tree_sitter.Parser
    query: tree_sitter.Query


_local = threading.local()
_languages: dict[str, tuple[tree_sitter.Language, tree_sitter.Query]] = {}
_load_lock = threading.Lock()


def grammar_for(language: str | None) -> Grammar | None:
    """The grammar of ``language`` for this thread (parsers are not shared across threads)."""
    if language not in SPECS:
        return None
    cache: dict[str, Grammar] = _local.__dict__.setdefault("grammars", {})
    grammar = cache.get(language)
    if grammar is None:
        spec = SPECS[language]
        with _load_lock:
            if language not in _languages:
                module: Any = importlib.import_module(spec.module)
                ts_language = tree_sitter.Language(getattr(module, spec.function)())
                _languages[language] = (ts_language, tree_sitter.Query(ts_language, spec.query))
        ts_language, query = _languages[language]
        grammar = cache[language] = Grammar(spec, tree_sitter.Parser(ts_language), query)
    return grammar
