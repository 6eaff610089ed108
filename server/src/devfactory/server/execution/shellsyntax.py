"""Read a command line the way a POSIX shell would, without running one.

Two questions need this before anything runs: does the command use shell syntax (``;``,
``&&``, ``|``, redirections, ``$(...)``, backticks, ``$VAR``), which a no-shell policy entry
must refuse because the words would reach the program literally; and which simple commands
does it contain, including those hidden in substitutions, so the blocklist and the policy can
look at every one of them. Quoting follows POSIX ``sh``: nothing is special inside single
quotes; ``$``, backticks and ``\\`` stay live inside double quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Operators, longest first so ``&&`` wins over ``&``.
_SEPARATORS = ("&&", "||", ";;", "|&", ";", "&", "|", "(", ")", "\n")
_REDIRECTS = frozenset({"<<<", "<<", ">>", "&>>", "&>", "<&", ">&", "<>", ">|", "<", ">"})
_OPERATORS = sorted(
    [*_SEPARATORS, *_REDIRECTS, "<(", ">("],
    key=len,
    reverse=True,
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_PARAMETERS = frozenset("@*#?$!-0123456789")
_PATTERN = frozenset("*?[{")
"""Unquoted, these make the shell expand a word: globs and (bash) brace expansion."""


class ShellSyntaxError(ValueError):
    """The command cannot be read: an unterminated quote or substitution."""


@dataclass(frozen=True)
class Syntax:
    """One piece of shell syntax, where it appears (1-based column)."""

    token: str
    column: int


@dataclass
class CommandLine:
    """What a shell would see in a command string."""

    segments: list[list[str]] = field(default_factory=list)
    """Simple commands, words after quote removal; substitutions become segments of their own."""
    syntax: list[Syntax] = field(default_factory=list)
    """Shell syntax outside single quotes; empty means the words are a plain argv."""
    redirect_targets: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    """Names of the parameters it expands (``$HOME``, ``${OPENAI_API_KEY:-x}``)."""
    expanded: list[str] = field(default_factory=list)
    """Words (arguments, redirection targets) only the shell can spell out: with an unquoted
    or double-quoted expansion, or an unquoted glob or brace (``$HOME/x``, ``l*/x``)."""

    def merge(self, nested: CommandLine) -> None:
        self.segments.extend(nested.segments)
        self.syntax.extend(nested.syntax)
        self.redirect_targets.extend(nested.redirect_targets)
        self.variables.extend(nested.variables)
        self.expanded.extend(nested.expanded)


def parse_command_line(text: str) -> CommandLine:
    """Scan ``text``; raise ShellSyntaxError when a quote or substitution is not closed."""
    return _Scanner(text, 0).scan()


def _closing_paren(text: str, start: int) -> int:
    """Index of the ``)`` closing the ``(`` just before ``start`` (quotes respected)."""
    depth, i = 1, start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                break
            i = end + 1
            continue
        if c == '"':
            i = _closing_double_quote(text, i + 1) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSyntaxError(f"unterminated ( opened at column {start}")


def _closing_double_quote(text: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    raise ShellSyntaxError(f'unterminated " quote opened at column {start}')


def _closing_backtick(text: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "`":
            return i
        i += 1
    raise ShellSyntaxError(f"unterminated ` opened at column {start}")


class _Scanner:
    """One pass over a command string (or a substitution body at ``base``)."""

    def __init__(self, text: str, base: int) -> None:
        self.text = text
        self.base = base
        self.out = CommandLine()
        self.words: list[str] = []
        self.word: list[str] | None = None
        self.word_expands = False
        self.redirect_pending = False

    def scan(self) -> CommandLine:
        text, i = self.text, 0
        while i < len(text):
            c = text[i]
            if c in " \t\r":
                self._end_word()
                i += 1
            elif c == "\\":
                if text[i + 1 : i + 2] == "\n":
                    i += 2
                else:
                    self._add(text[i + 1 : i + 2] or "\\")
                    i += 2
            elif c == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    raise ShellSyntaxError(f"unterminated ' quote opened at column {self._col(i)}")
                self._add(text[i + 1 : end])
                i = end + 1
            elif c == '"':
                i = self._double_quoted(i)
            elif c == "$":
                i = self._dollar(i)
            elif c == "`":
                i = self._backtick(i)
            elif c == "#" and self.word is None:
                self._syntax("#", i)
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
            else:
                i = self._operator_or_char(i)
        self._end_segment()
        return self.out

    # --- words and segments --------------------------------------------------------------

    def _col(self, i: int) -> int:
        return self.base + i + 1

    def _syntax(self, token: str, i: int) -> None:
        self.out.syntax.append(Syntax(token, self._col(i)))

    def _add(self, chars: str) -> None:
        if self.word is None:
            self.word = []
        self.word.append(chars)

    def _expansion(self, chars: str) -> None:
        self._add(chars)
        self.word_expands = True

    def _end_word(self) -> None:
        if self.word is None:
            return
        word = "".join(self.word)
        self.word = None
        if self.word_expands:
            self.out.expanded.append(word)
            self.word_expands = False
        if self.redirect_pending:
            self.out.redirect_targets.append(word)
            self.redirect_pending = False
        else:
            self.words.append(word)

    def _end_segment(self) -> None:
        self._end_word()
        if self.words:
            self.out.segments.append(self.words)
            self.words = []

    def _nested(self, body: str, offset: int) -> None:
        self.out.merge(_Scanner(body, self.base + offset).scan())

    # --- quoting and expansions ----------------------------------------------------------

    def _double_quoted(self, i: int) -> int:
        text, j = self.text, i + 1
        self._add("")
        while True:
            if j >= len(text):
                raise ShellSyntaxError(f'unterminated " quote opened at column {self._col(i)}')
            c = text[j]
            if c == '"':
                return j + 1
            if c == "\\" and text[j + 1 : j + 2] in ('"', "\\", "$", "`", "\n"):
                if text[j + 1] != "\n":
                    self._add(text[j + 1])
                j += 2
            elif c == "$":
                j = self._dollar(j)
            elif c == "`":
                j = self._backtick(j)
            else:
                self._add(c)
                j += 1

    def _dollar(self, i: int) -> int:
        text = self.text
        nxt = text[i + 1 : i + 2]
        if nxt == "(":
            end = _closing_paren(text, i + 2)
            self._syntax("$(", i)
            self._nested(text[i + 2 : end], i + 2)
            self._expansion(text[i : end + 1])
            return end + 1
        if nxt == "{":
            end = text.find("}", i + 2)
            if end < 0:
                raise ShellSyntaxError(f"unterminated ${{ opened at column {self._col(i)}")
            self._syntax("${", i)
            name_start = i + 3 if text[i + 2 : i + 3] in ("#", "!") else i + 2
            if match := _NAME.match(text, name_start):
                self.out.variables.append(match.group())
            self._expansion(text[i : end + 1])
            return end + 1
        if match := _NAME.match(text, i + 1):
            self._syntax("$" + match.group(), i)
            self.out.variables.append(match.group())
            self._expansion("$" + match.group())
            return match.end()
        if nxt and nxt in _SPECIAL_PARAMETERS:
            self._syntax("$" + nxt, i)
            self._expansion("$" + nxt)
            return i + 2
        if nxt in ("'", '"'):
            self._syntax("$" + nxt, i)
            self._expansion("$")
            return i + 1
        self._add("$")
        return i + 1

    def _backtick(self, i: int) -> int:
        end = _closing_backtick(self.text, i + 1)
        self._syntax("`", i)
        self._nested(self.text[i + 1 : end], i + 1)
        self._expansion(self.text[i : end + 1])
        return end + 1

    def _operator_or_char(self, i: int) -> int:
        text = self.text
        op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if op is None:
            (self._expansion if text[i] in _PATTERN else self._add)(text[i])
            return i + 1
        self._syntax("newline" if op == "\n" else op, i)
        if op in ("<(", ">("):
            end = _closing_paren(text, i + 2)
            self._nested(text[i + 2 : end], i + 2)
            self._expansion(text[i : end + 1])
            return end + 1
        if op in _REDIRECTS:
            # ``2>`` : digits glued to the operator name a file descriptor, not an argument.
            if self.word is not None and "".join(self.word).isdigit():
                self.word = None
            else:
                self._end_word()
            self.redirect_pending = True
        else:
            self._end_segment()
        return i + len(op)
