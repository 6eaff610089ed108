"""Context-window compaction: tool outputs first, then older turns; user messages never."""

from __future__ import annotations

from devfactory.server.agents.compaction import (
    CompactionStep,
    compact,
    estimate_tokens,
    shorten,
)
from devfactory.server.agents.providers.base import Message, ToolCall

SYSTEM = Message(role="system", content="You are an agent.")
TASK = Message(role="user", content="Fix the bug in calc.py. " * 20)


def turn(index: int, output: str) -> list[Message]:
    call = ToolCall(id=f"c{index}", name="read_file", arguments={"path": f"f{index}.py"})
    return [
        Message(role="assistant", content=f"Reading f{index}.py", tool_calls=[call]),
        Message(role="tool", content=output, tool_call_id=f"c{index}", name="read_file"),
    ]


def conversation(
    turns: int, output_chars: int, *, directive_at: int | None = None
) -> list[Message]:
    messages = [SYSTEM, TASK]
    for index in range(turns):
        if index == directive_at:
            messages.append(Message(role="user", content="Message from the user: use pathlib"))
        messages += turn(index, f"line one of f{index}\n" + "x" * output_chars)
    return messages


def user_texts(messages: list[Message]) -> list[str]:
    return [m.content for m in messages if m.role == "user" and not m.summarized_turns]


def test_a_conversation_that_fits_is_left_alone() -> None:
    messages = conversation(3, 100)
    assert compact(messages, limit=10_000) == (messages, [])


def test_old_tool_outputs_are_shortened_first_and_recent_turns_kept() -> None:
    messages = conversation(12, 4000)
    before = estimate_tokens(messages)
    compacted, steps = compact(messages, limit=before - 1000, keep_turns=4)
    assert [s.stage for s in steps] == ["tool_outputs"]
    assert steps[0].tokens_before == before and steps[0].tokens_after < (before - 1000) * 0.7
    tools = [m for m in compacted if m.role == "tool"]
    assert "characters of this output were cut by DevFactory" in tools[0].content
    assert tools[-4:] == [m for m in messages if m.role == "tool"][-4:]  # the recent ones, whole
    assert len(compacted) == len(messages) and user_texts(compacted) == user_texts(messages)


def test_older_turns_are_summarized_when_shortening_is_not_enough() -> None:
    messages = conversation(30, 200, directive_at=10)
    before = estimate_tokens(messages)
    compacted, steps = compact(messages, limit=before // 3, keep_turns=4)
    assert [s.stage for s in steps] == ["summary"]  # the outputs were short already
    assert steps[0] == CompactionStep("summary", before, estimate_tokens(compacted), 52)
    # The user's messages are all there, whole and in order; the directive splits the summary.
    assert user_texts(compacted) == user_texts(messages)
    summaries = [m for m in compacted if m.summarized_turns]
    assert [s.summarized_turns for s in summaries] == [10, 16]
    assert compacted[2] is summaries[0] and compacted[4] is summaries[1]
    assert '- You called read_file {"path": "f0.py"} -> line one of f0' in summaries[0].content
    assert compacted[-8:] == messages[-8:]
    # Every tool result still follows the call that asked for it.
    calls = {c.id for m in compacted for c in m.tool_calls}
    assert all(m.tool_call_id in calls for m in compacted if m.role == "tool")


def test_a_second_compaction_folds_the_first_summary_in() -> None:
    first, _ = compact(conversation(30, 200), limit=estimate_tokens(conversation(30, 200)) // 3)
    longer = first + [m for i in range(30, 40) for m in turn(i, "y" * 200)]
    second, steps = compact(longer, limit=estimate_tokens(longer) // 2)
    assert [s.stage for s in steps] == ["summary"]
    summaries = [m for m in second if m.summarized_turns]
    assert len(summaries) == 1 and summaries[0].summarized_turns == 36  # 30 - 4, then 10 more
    assert "f0.py" in summaries[0].content and "f33.py" in summaries[0].content


def test_user_messages_are_never_cut_even_when_nothing_else_is_left() -> None:
    huge = Message(role="user", content="z" * 40_000)
    compacted, _ = compact([SYSTEM, huge, *turn(0, "x" * 2000)], limit=100)
    assert huge in compacted


def test_shorten_keeps_both_ends() -> None:
    text = "head" + "m" * 5000 + "tail"
    short = shorten(text)
    assert short.startswith("head") and short.endswith("tail") and "4108 characters" in short
