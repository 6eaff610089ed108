"""The scripted provider: one script plays several agents, each run its own conversation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from devfactory.server.agents.providers.base import Message, ProviderUnavailable
from devfactory.server.agents.providers.scripted import Script, ScriptedProvider

SCRIPT = msgspec.convert(
    {
        "conversations": [
            {"match": "Task 2: API", "turns": [{"text": "api plan"}]},
            {"match": "Specify:", "turns": [{"text": "spec plan"}, {"text": "spec step"}]},
        ]
    },
    Script,
)


def prompt(text: str) -> list[Message]:
    return [Message(role="system", content="You are..."), Message(role="user", content=text)]


async def replies(provider: ScriptedProvider, first: str, turns: int) -> list[str]:
    """The provider's answers as the conversation grows (it finds its turn there)."""
    said, conversation = [], prompt(first)
    for _ in range(turns):
        turn = await provider.complete(conversation, [], lambda _: None)
        said.append(turn.text or turn.tool_calls[0].name)
        conversation.append(Message(role="assistant", content=turn.text))
    return said


async def test_each_run_follows_the_conversation_its_prompt_matches() -> None:
    spec = ScriptedProvider(SCRIPT, "factory.json")
    api = ScriptedProvider(SCRIPT, "factory.json")
    assert await replies(spec, "# Task\nSpecify: todo app", 3) == [
        "spec plan",
        "spec step",
        "finish",
    ]
    assert await replies(api, "# Task\nTask 2: API\n# Initiative", 2) == ["api plan", "finish"]


async def test_a_run_no_conversation_matches_fails_naming_its_prompt() -> None:
    provider = ScriptedProvider(SCRIPT, "factory.json")
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.complete(prompt("Task 9: UI\nmore"), [], lambda _: None)
    assert str(caught.value) == (
        "scripted provider: no conversation of factory.json matches this run "
        "(it begins 'Task 9: UI')"
    )


async def test_a_turn_that_waits_for_a_file_answers_once_it_exists(tmp_path: Path) -> None:
    gate = tmp_path / "go"
    script = msgspec.convert({"turns": [{"text": "done", "waitForFile": str(gate)}]}, Script)
    answer = asyncio.create_task(
        ScriptedProvider(script).complete(prompt("go"), [], lambda _: None)
    )
    await asyncio.sleep(0.2)
    assert not answer.done(), "the model is still thinking"
    gate.touch()
    assert (await asyncio.wait_for(answer, 10)).text == "done"
