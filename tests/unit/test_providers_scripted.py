"""The scripted provider: one script plays several agents, each run its own conversation; its
file is read off the event loop, only when it is a regular file of a script's size, and an
error about it never quotes it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest

from devfactory.protocol.settings import ProviderSettings
from devfactory.server.agents.providers.base import Message, ProviderUnavailable
from devfactory.server.agents.providers.request import ProviderRequest
from devfactory.server.agents.providers.scripted import (
    MAX_SCRIPT_BYTES,
    Script,
    ScriptedProvider,
    build,
)
from devfactory.storage import Store
from support import LoopWatch

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


def script_request(workspace: Path, model: str) -> ProviderRequest:
    return ProviderRequest("scripted", ProviderSettings(), model, workspace, cast(Store, None))


async def first_turn_of(workspace: Path, model: str) -> ProviderUnavailable:
    """The error of a scripted run's start (building it, then its first turn)."""

    async def start() -> None:
        provider: Any = build(script_request(workspace, model))
        await provider.complete(prompt("go"), [], lambda _: None)

    with pytest.raises(ProviderUnavailable) as caught:
        await start()
    return caught.value


def open_for_writing_then_close(fifo: Path) -> None:
    """What frees a reader blocked on ``fifo`` (nothing to free when none is)."""
    with contextlib.suppress(OSError):  # ENXIO: no reader has it open
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


async def test_a_fifo_script_fails_at_once_and_the_event_loop_never_stands_still(
    tmp_path: Path,
) -> None:
    """Read on the event loop, a FIFO stopped every run and request (through the gateway:
    every client's) until something wrote to it; here a thread frees it after 2 s."""
    fifo = tmp_path / "script.json"
    os.mkfifo(fifo)
    freer = threading.Timer(2.0, open_for_writing_then_close, args=(fifo,))
    loop = asyncio.get_running_loop()
    freer.start()
    started = loop.time()
    try:
        async with LoopWatch() as watch:
            await asyncio.sleep(0.1)
            error = await asyncio.wait_for(first_turn_of(tmp_path, str(fifo)), 10)
            took = loop.time() - started
            await asyncio.sleep(0.1)
    finally:
        freer.cancel()
        freer.join()
    longest = watch.longest_stall
    assert longest < 0.5, f"the event loop stood still for {longest:.1f}s"
    assert took < 1.0, f"the run waited {took:.1f}s for the FIFO"
    assert str(error) == (
        f"scripted provider: script {fifo} is a FIFO; a script is a regular JSON file"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(
            '{"AWS_SECRET=wJalrXUtnFEMI/K7MDENG": 1}',
            "an object has a field scripts do not have - at `$`",
            id="a-secret-key",
        ),
        pytest.param(
            '{"turns": [{"text": "x", "GITHUB_TOKEN=ghp_0123456789abcdef": 1}]}',
            "an object has a field scripts do not have - at `$.turns[0]`",
            id="a-secret-key-deeper",
        ),
        pytest.param(
            '{"turns": "ghp_0123456789abcdef"}',
            "Expected `array`, got `str` - at `$.turns`",
            id="a-secret-value",
        ),
        pytest.param("ghp_0123456789abcdef\n", "malformed JSON (byte 0)", id="not-json"),
    ],
)
async def test_a_file_that_is_not_a_script_is_named_without_quoting_it(
    tmp_path: Path, content: str, problem: str
) -> None:
    """The error becomes the run's failed reason, which its events carry to every reader:
    it says where the file goes wrong (its JSON path), never what the file holds."""
    (tmp_path / "secrets.json").write_text(content)
    error = await first_turn_of(tmp_path, "secrets.json")
    assert str(error) == (
        f"scripted provider: {tmp_path / 'secrets.json'} is not a valid script: {problem}"
    )
    assert "SECRET=" not in str(error) and "ghp_" not in str(error)


async def test_a_device_or_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as sparse:
        sparse.truncate(MAX_SCRIPT_BYTES + 1)
    device = await first_turn_of(tmp_path, "/dev/zero")
    oversized = await first_turn_of(tmp_path, "big.json")
    folder = await first_turn_of(tmp_path, ".")
    assert str(device) == (
        "scripted provider: script /dev/zero is a device; a script is a regular JSON file"
    )
    assert str(oversized) == (
        f"scripted provider: script {big} is larger than 16 MiB; a script is a short JSON file"
    )
    assert "is a directory" in str(folder)
