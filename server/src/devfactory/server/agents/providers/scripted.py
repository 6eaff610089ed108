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
from pathlib import Path

import msgspec

from .base import Message, ProviderUnavailable, TextCallback, ToolCall, ToolSpec, Turn, Usage
from .request import Provider, ProviderRequest


class ScriptedCall(msgspec.Struct, kw_only=True, rename="camel"):
    name: str
    arguments: dict[str, object] = {}


class ScriptedTurn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    text: str = ""
    tool_calls: list[ScriptedCall] = []
    delay_s: float = 0.0
    """Think this long before answering (lets tests pause or cancel mid-turn)."""
    wait_for: str | None = None
    """Think until this file exists, then answer: a test that must act while the model is
    thinking creates it when it has acted (a delay would race a loaded machine)."""
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
    """Read and validate a script file; errors name the file and the bad field."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=Script)
    except FileNotFoundError:
        raise ProviderUnavailable(f"scripted provider: script {path} does not exist") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ProviderUnavailable(
            f"scripted provider: {path} is not a valid script: {exc}"
        ) from None


class ScriptedProvider:
    """A ChatProvider whose answers come from a script."""

    name = "scripted"

    def __init__(self, script: Script, model: str | None = None) -> None:
        self.model = model
        self._script = script
        self._turns: list[ScriptedTurn] | None = None if script.conversations else script.turns

    def _pick(self, messages: list[Message]) -> list[ScriptedTurn]:
        """The turns of the conversation this run plays (chosen on its first turn)."""
        said = "\n".join(m.content for m in messages if m.role == "user")
        for conversation in self._script.conversations:
            if conversation.match in said:
                return conversation.turns
        if self._script.turns:
            return self._script.turns
        first = said.strip().splitlines()[:1] or [""]
        raise ProviderUnavailable(
            f"scripted provider: no conversation of {self.model} matches this run "
            f"(it begins {first[0][:120]!r})"
        )

    async def complete(
        self, messages: list[Message], tools: list[ToolSpec], on_text: TextCallback
    ) -> Turn:
        if self._turns is None:
            self._turns = self._pick(messages)
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
        if turn.wait_for is not None:
            await _until_exists(Path(turn.wait_for))
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


async def _until_exists(path: Path) -> None:
    """Return once ``path`` exists (polled: the file comes from another process)."""
    while not path.exists():
        await asyncio.sleep(0.02)


def _chunks(text: str, size: int = 24) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def build(request: ProviderRequest) -> Provider:
    """The script is the model argument (a path relative to the workspace) or the setting."""
    script = request.model or request.config.script
    if not script:
        raise ProviderUnavailable(
            "scripted: no script; pass its path as the model or set providers.scripted.script"
        )
    return ScriptedProvider(load_script(request.workspace / script), model=script)
