"""Keeping a conversation inside the model's context window.

Pure functions over the message list. When a conversation nears the window, it is compacted
in two stages, each only if the one before was not enough:

1. tool outputs are shortened to their beginning and end, with a note saying how much was
   cut, oldest first (the last ones only if the old ones were not enough);
2. older turns (the assistant's messages and their tool results) are replaced by one summary
   of what was said and done: the calls made and the first line of each result.

The system prompt and every user message are never touched: the user's words always reach
the model whole; the last few turns are never summarized. Tool calls and their results are
summarized together, so the conversation stays valid for every API (no result without its
call).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .providers.base import Message, ToolSpec

CHARS_PER_TOKEN = 4
"""A conservative estimate for English and code; providers' counts are used when known."""
KEEP_RECENT_TURNS = 4
"""The last assistant turns (and their tool results) are kept as they are."""
SHORTENED_HEAD = 600
SHORTENED_TAIL = 300
SUMMARY_TEXT = 300
SUMMARY_RESULT = 160
TARGET = 0.7
"""Compaction aims below this share of its trigger, so it does not run again next turn."""


@dataclass(frozen=True)
class CompactionStep:
    stage: str
    """``tool_outputs`` or ``summary``."""
    tokens_before: int
    tokens_after: int
    messages: int
    """Tool outputs shortened, or messages summarized."""


def estimate_tokens(messages: list[Message], tools: Sequence[ToolSpec] = ()) -> int:
    """About how many tokens the request takes (characters over CHARS_PER_TOKEN)."""
    chars = sum(
        len(m.content) + sum(len(c.name) + len(json.dumps(c.arguments)) for c in m.tool_calls) + 16
        for m in messages
    )
    chars += sum(len(t.description) + len(json.dumps(t.parameters)) for t in tools)
    return chars // CHARS_PER_TOKEN


def compact(
    messages: list[Message], limit: int, keep_turns: int = KEEP_RECENT_TURNS
) -> tuple[list[Message], list[CompactionStep]]:
    """``messages`` brought under ``limit`` tokens as far as the rules allow, and the stages
    that ran (none when it already fits)."""
    steps: list[CompactionStep] = []
    before = estimate_tokens(messages)
    if before <= limit:
        return messages, steps
    target = int(limit * TARGET)
    shortened, count = _shorten_tool_outputs(messages, target)
    after = estimate_tokens(shortened)
    if count:
        steps.append(CompactionStep("tool_outputs", before, after, count))
    if after <= target:
        return shortened, steps
    summarized, count = _summarize(shortened, _recent_start(shortened, keep_turns))
    smaller = estimate_tokens(summarized)
    if count and smaller < after:
        steps.append(CompactionStep("summary", after, smaller, count))
        return summarized, steps
    return shortened, steps


def _recent_start(messages: list[Message], keep_turns: int) -> int:
    """Index of the first message of the last ``keep_turns`` assistant turns."""
    assistants = [i for i, m in enumerate(messages) if m.role == "assistant"]
    if len(assistants) <= keep_turns:
        return assistants[0] if assistants else len(messages)
    return assistants[-keep_turns]


def _shorten_tool_outputs(messages: list[Message], target: int) -> tuple[list[Message], int]:
    """Shorten tool outputs, oldest first, until the conversation fits ``target``."""
    result = list(messages)
    total = estimate_tokens(result)
    count = 0
    for index in range(len(result)):
        message = result[index]
        if message.role != "tool" or len(message.content) <= SHORTENED_HEAD + SHORTENED_TAIL:
            continue
        short = shorten(message.content)
        result[index] = Message(
            role="tool", content=short, tool_call_id=message.tool_call_id, name=message.name
        )
        total -= (len(message.content) - len(short)) // CHARS_PER_TOKEN
        count += 1
        if total <= target:
            break
    return result, count


def shorten(text: str) -> str:
    """The beginning and end of a long tool output, with a note of what was cut."""
    cut = len(text) - SHORTENED_HEAD - SHORTENED_TAIL
    return (
        f"{text[:SHORTENED_HEAD]}\n[... {cut} characters of this output were cut by DevFactory "
        f"to fit the context window; run the tool again if you need them ...]\n"
        f"{text[-SHORTENED_TAIL:]}"
    )


def _summarize(messages: list[Message], recent: int) -> tuple[list[Message], int]:
    """Replace the assistant turns and tool results before ``recent`` by summaries, one per
    stretch between two user messages; system and user messages stay where they are."""
    result: list[Message] = []
    stretch: list[Message] = []
    count = 0

    def flush() -> None:
        nonlocal count
        if stretch:
            turns = sum(m.role == "assistant" for m in stretch)
            turns += sum(m.summarized_turns for m in stretch)
            result.append(Message(role="user", content=summary(stretch), summarized_turns=turns))
            count += len(stretch)
            stretch.clear()

    for message in messages[:recent]:
        if message.role in ("assistant", "tool") or message.summarized_turns:
            stretch.append(message)
        else:
            flush()
            result.append(message)
    flush()
    return result + messages[recent:], count


def summary(messages: list[Message]) -> str:
    """What the model said and did in ``messages``, in a few lines."""
    results = {m.tool_call_id: m.content for m in messages if m.role == "tool"}
    lines = ["[DevFactory summarized these earlier turns to fit the context window]"]
    for message in messages:
        if message.summarized_turns:
            lines += message.content.splitlines()[1:]
            continue
        if message.role != "assistant":
            continue
        if text := " ".join(message.content.split()):
            lines.append(f"- You said: {_clip(text, SUMMARY_TEXT)}")
        for call in message.tool_calls:
            arguments = _clip(json.dumps(call.arguments, ensure_ascii=False), SUMMARY_TEXT)
            outcome = (results.get(call.id) or "").strip().split("\n", 1)[0]
            lines.append(
                f"- You called {call.name} {arguments} -> {_clip(outcome, SUMMARY_RESULT)}"
            )
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
