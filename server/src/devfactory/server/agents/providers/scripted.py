"""``scripted``: replays a JSON script of model turns, deterministically.

Used by ``devfactory demo`` and the tests: the agent loop, tools, events, review and editors
all run for real; only the model's answers are fixed. A script is a file::

    {"turns": [
        {"text": "Plan: read calc.py, fix add(), run the tests."},
        {"toolCalls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
        {"toolCalls": [{"name": "finish", "arguments": {"summary": "Fixed add()."}}]}
    ]}

The first turn answers the planning request. Each later turn answers one step of the tool
loop, whatever the conversation says; text streams out in a few chunks as a real model's
would. Which turn comes next is read from the conversation (the assistant turns it already
holds, summarized ones included), so a follow-up, a rewind or a restarted daemon goes on
from the right place. When the script runs out, the provider finishes the run.

One script can play several agents (an initiative's analyst, architect and coders): its
``conversations`` each have a ``match`` text, and a run follows the first conversation whose
text occurs in what the run tells the model first (its task prompt)::

    {"conversations": [
        {"match": "Task 3: Add the API", "turns": [...]},
        {"match": "Specify:", "turns": [...]}
    ]}
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from pathlib import Path

import msgspec

from .base import Message, ProviderUnavailable, TextCallback, ToolCall, ToolSpec, Turn, Usage
from .request import Provider, ProviderRequest

MAX_SCRIPT_BYTES = 16 * 1024 * 1024
"""Far beyond any script a test or the demo writes; a bigger file is not one."""


class ScriptedCall(msgspec.Struct, kw_only=True, rename="camel"):
    name: str
    arguments: dict[str, object] = {}


class ScriptedTurn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    text: str = ""
    tool_calls: list[ScriptedCall] = []
    delay_s: float = 0.0
    """Think this long before answering (lets tests pause or cancel mid-turn)."""
    wait_for_file: str | None = None
    """Answer only once this file exists (lets tests hold a run mid-turn, e.g. to kill the
    worker running it, then let the one that takes it over go on)."""
    quote_last: bool = False
    """Append the last message the model received (a user message or a tool result) to
    ``text``, so the recorded answer shows what reached the model: tests use it to see a
    directive or an answer to ask_user arrive in the next turn."""


class ScriptedConversation(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    match: str
    """Text the run's first messages contain (a task's title, a role's prompt)."""
    turns: list[ScriptedTurn]


class Script(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    turns: list[ScriptedTurn] = []
    conversations: list[ScriptedConversation] = []


def load_script(path: Path) -> Script:
    """Read and validate a script file (blocking: call it in a thread); errors name the file
    and what is wrong with it, never what it holds."""
    try:
        data = _read_regular_file(path)
    except FileNotFoundError:
        raise ProviderUnavailable(f"scripted provider: script {path} does not exist") from None
    except OSError as exc:
        raise ProviderUnavailable(
            f"scripted provider: cannot read script {path}: {exc.strerror or exc}"
        ) from None
    try:
        return msgspec.json.decode(data, type=Script)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ProviderUnavailable(
            f"scripted provider: {path} is not a valid script: {_why(exc)}"
        ) from None


def _read_regular_file(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most MAX_SCRIPT_BYTES.

    A FIFO would block the read until something writes to it, a device may never end
    (``/dev/zero``): both are refused before they are read, checked on the descriptor itself
    (opened without blocking) so that nothing swapped in after the first look gets read.
    """
    _check_kind(path, os.stat(path))  # before opening: opening some devices does something
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _check_kind(path, os.fstat(fd))
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > MAX_SCRIPT_BYTES:
                raise ProviderUnavailable(_too_big(path))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _check_kind(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a directory" if stat.S_ISDIR(info.st_mode)
            else "a FIFO" if stat.S_ISFIFO(info.st_mode)
            else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket" if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )  # fmt: skip
        raise ProviderUnavailable(
            f"scripted provider: script {path} is {kind}; a script is a regular JSON file"
        )
    if info.st_size > MAX_SCRIPT_BYTES:
        raise ProviderUnavailable(_too_big(path))


def _too_big(path: Path) -> str:
    return (
        f"scripted provider: script {path} is larger than {MAX_SCRIPT_BYTES // (1 << 20)} MiB;"
        " a script is a short JSON file"
    )


_LOCATION = re.compile(r" - at `(\$(?:\.\w+|\[\d+\]|\[\.\.\.\])*)`$")
"""msgspec's location of a validation error, when it is made of field names and indexes."""
_SAFE_PROBLEMS = (
    re.compile(r"Expected `[\w |,\[\]]+`, got `\w+`"),
    re.compile(r"Object missing required field `\w+`"),
)
"""msgspec's problems that name only types and the script's own fields (the ones of an
unknown field, an unknown value or malformed JSON may quote the file)."""


def _why(exc: msgspec.MsgspecError) -> str:
    """What is wrong with a script and where (its JSON path), without quoting the file: it
    may be any file the daemon can read, and the message reaches the run's events."""
    text = str(exc)
    if not isinstance(exc, msgspec.ValidationError):  # malformed (ValidationError is one too)
        if (byte := re.search(r"\(byte \d+\)$", text)) is not None:
            return f"malformed JSON {byte.group(0)}"
        return "not valid JSON"
    found = _LOCATION.search(text)
    location = found.group(1) if found else "$"
    problem = text[: found.start()] if found else text
    if "unknown field" in problem:
        said = "an object has a field scripts do not have"
    elif any(safe.fullmatch(problem) for safe in _SAFE_PROBLEMS):
        said = problem
    else:
        said = "a value scripts do not have"
    return f"{said} - at `{location}`"


class ScriptedProvider:
    """A ChatProvider whose answers come from a script."""

    name = "scripted"

    def __init__(self, script: Script | Path, model: str | None = None) -> None:
        self.model = model
        self._source = script
        """The script, or its file: read on the first turn, in a thread (a file on a slow
        disk must not stop the event loop, nor must a building run wait for it)."""
        self._turns: list[ScriptedTurn] | None = None

    async def _script(self) -> Script:
        if isinstance(self._source, Path):
            self._source = await asyncio.to_thread(load_script, self._source)
        return self._source

    async def _pick(self, messages: list[Message]) -> list[ScriptedTurn]:
        """The turns of the conversation this run plays (chosen on its first turn)."""
        script = await self._script()
        if not script.conversations:
            return script.turns
        said = "\n".join(m.content for m in messages if m.role == "user")
        for conversation in script.conversations:
            if conversation.match in said:
                return conversation.turns
        if script.turns:
            return script.turns
        first = said.strip().splitlines()[:1] or [""]
        raise ProviderUnavailable(
            f"scripted provider: no conversation of {self.model} matches this run "
            f"(it begins {first[0][:120]!r})"
        )

    async def complete(
        self, messages: list[Message], tools: list[ToolSpec], on_text: TextCallback
    ) -> Turn:
        if self._turns is None:
            self._turns = await self._pick(messages)
        position = sum(
            (m.role == "assistant") + m.summarized_turns for m in messages
        )  # the turns answered so far
        if position >= len(self._turns):
            finish = ToolCall(
                id=f"call_{position}",
                name="finish",
                arguments={"summary": "The script has no more turns."},
            )
            return Turn(tool_calls=[finish], stop_reason="end_of_script")
        turn = self._turns[position]
        if turn.delay_s:
            await asyncio.sleep(turn.delay_s)
        while turn.wait_for_file is not None:  # made by another process: no event to wait on
            if Path(turn.wait_for_file).exists():
                break
            await asyncio.sleep(0.05)
        text = turn.text
        if turn.quote_last and messages:
            text = f"{text}\n> {messages[-1].content}".strip()
        for chunk in _chunks(text):
            on_text(chunk)
            await asyncio.sleep(0)
        calls = [
            ToolCall(id=f"call_{position + 1}_{i}", name=c.name, arguments=dict(c.arguments))
            for i, c in enumerate(turn.tool_calls)
        ]
        usage = Usage(
            input_tokens=sum(len(m.content) for m in messages) // 4,
            output_tokens=len(text) // 4,
        )
        return Turn(text=text, tool_calls=calls, usage=usage, stop_reason="scripted")


def _chunks(text: str, size: int = 24) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def build(request: ProviderRequest) -> Provider:
    """The script is the model argument (a path relative to the workspace) or the setting;
    the file is read on the first turn (a missing or broken one fails the run then).

    Only the local user may name a script (``team.callers``): it may be any file the daemon
    can read, and it chooses the model's tool calls."""
    script = request.model or request.config.script
    if not script:
        raise ProviderUnavailable(
            "scripted: no script; pass its path as the model or set providers.scripted.script"
        )
    return ScriptedProvider(request.workspace / script, model=script)
