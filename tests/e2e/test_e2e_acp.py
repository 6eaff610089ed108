"""``devfactory acp`` driven by the ``agent-client-protocol`` SDK's client, as Zed would.

A fake editor (tests/fakes/acp_editor.py) spawns the adapter over stdio; the adapter drives a
real daemon running scripted runs in real git worktrees. A full turn streams the plan,
thoughts, tool calls and their diffs, asks a question through ``session/request_permission``,
offers the change with its diff and applies it through the daemon's approve path; cancel
stops a run mid-turn; a session is loaded again by a fresh adapter; bad input gets errors
that name the field, and the adapter keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError, spawn_agent_process, text_block
from acp.client.connection import ClientSideConnection
from acp.schema import FileEditToolCallContent, Implementation, ResourceContentBlock

from fakes.acp_editor import FakeEditor
from runs_support import call, finish, turn, until, write_script
from support import git, make_git_repo, trust_workspace

ACP_COMMAND = [sys.executable, "-P", "-m", "devfactory.server", "acp"]
CALC = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
FIX = call("edit_file", path="calc.py", search="a - b", replace="a + b")


def workspace_with(tmp_path: Path, turns: Iterable[dict[str, object]], calc: str = CALC) -> Path:
    """A git project (``calc.py`` holding ``calc``) whose scripted provider plays ``turns``."""
    script = write_script(tmp_path / "scripts", "model", turns)
    root = make_git_repo(tmp_path / "project", {"calc.py": calc})
    (root / "devfactory.toml").write_text(
        'default_provider = "scripted"\n[index]\nenabled = false\n'
        f"[providers.scripted]\nscript = {json.dumps(str(script))}\n"
    )
    git(root, "add", "devfactory.toml")
    git(root, "commit", "-qm", "settings")
    return trust_workspace(root)


@asynccontextmanager
async def acp_agent(editor: FakeEditor, root: Path) -> AsyncIterator[ClientSideConnection]:
    # The SDK's default environment is a few variables: the run's own config folder (conftest)
    # must reach the agent, as an editor's environment reaches it.
    env = dict(os.environ)
    async with spawn_agent_process(editor, *ACP_COMMAND, cwd=root, env=env) as (conn, _process):
        await conn.initialize(
            protocol_version=1,
            client_capabilities=editor.capabilities,
            client_info=Implementation(name="fake-editor", version="1"),
        )
        yield conn


def tool_calls(editor: FakeEditor) -> dict[str, dict[str, Any]]:
    """Each tool call's latest state, from its start and its updates."""
    calls: dict[str, dict[str, Any]] = {}
    for update in editor.updates:
        if update.session_update in ("tool_call", "tool_call_update"):
            state = calls.setdefault(update.tool_call_id, {})
            state.update({k: v for k, v in update.model_dump().items() if v is not None})
    return calls


async def test_a_full_turn_streams_asks_and_applies_the_kept_change(tmp_path: Path) -> None:
    root = workspace_with(
        tmp_path,
        [
            turn("1. Read calc.py\n2. Fix add()\n3. Ask about subtract"),
            turn("Reading it.", call("read_file", path="calc.py")),
            turn("", FIX),
            turn("", call("ask_user", question="Add subtract() too?", choices=["Yes", "No"])),
            turn("Answer:", quote_last=True),
            finish("Fixed add()."),
        ],
    )
    editor = FakeEditor(answers=["No", "Apply", "Reject"])
    async with acp_agent(editor, root) as conn:
        session = await conn.new_session(cwd=str(root), mcp_servers=[])
        assert session.modes is not None
        assert session.modes.current_mode_id == "review"
        assert [mode.id for mode in session.modes.available_modes] == ["review", "yolo"]
        attached = ResourceContentBlock(
            type="resource_link", name="calc.py", uri=(root / "calc.py").as_uri()
        )
        editor.buffers[str(root / "calc.py")] = CALC  # open in the editor, saved
        response = await conn.prompt(
            session_id=session.session_id, prompt=[text_block("Fix add()"), attached]
        )

    assert response.stop_reason == "end_turn"
    assert str(root / "calc.py") in editor.reads  # the attachment, from the editor
    assert editor.text("agent_thought_chunk").startswith("1. Read calc.py")
    plans = editor.of_kind("plan")
    assert [entry.content for entry in plans[0].entries] == [
        "Read calc.py",
        "Fix add()",
        "Ask about subtract",
    ]
    assert {entry.status for entry in plans[-1].entries} == {"completed"}
    message = editor.text("agent_message_chunk")
    assert "Reading it." in message and "Answer:\n> No" in message
    assert message.rstrip().endswith("Fixed add().")

    calls = tool_calls(editor)
    read = next(c for c in calls.values() if c["kind"] == "read")
    assert read["status"] == "completed"
    assert read["locations"][0]["path"] == str(root / "calc.py")
    edit = next(c for i, c in calls.items() if i.startswith("change-"))
    assert edit["title"] == "Applied: calc.py"
    assert edit["status"] == "completed"
    assert edit["kind"] == "edit"

    question, change, changelog = editor.permissions
    assert question[0].title == "Add subtract() too?"
    assert [(o.name, o.kind) for o in question[1]] == [
        ("Yes", "allow_once"),
        ("No", "reject_once"),
    ]
    assert change[0].title == "Apply the change to calc.py?"
    (diff,) = change[0].content or []
    assert isinstance(diff, FileEditToolCallContent)
    assert (diff.path, diff.old_text, diff.new_text) == (str(root / "calc.py"), CALC, FIXED)
    assert [o.kind for o in change[1]] == ["allow_once", "allow_always", "reject_once"]
    assert changelog[0].title == "Apply the change to CHANGELOG_AI.md?"
    assert calls["change-2"]["title"] == "Rejected: CHANGELOG_AI.md"
    assert not (root / "CHANGELOG_AI.md").exists()

    assert (root / "calc.py").read_text() == FIXED  # applied through devfactory/changes/approve
    assert editor.writes == {str(root / "calc.py"): FIXED}  # and shown in the editor's buffer

    # A fresh adapter (and daemon) loads the session: its history is replayed.
    replayed = FakeEditor()
    async with acp_agent(replayed, root) as conn:
        loaded = await conn.load_session(
            cwd=str(root), session_id=session.session_id, mcp_servers=[]
        )
    assert loaded is not None and loaded.modes is not None
    assert loaded.modes.current_mode_id == "review"
    assert replayed.text("user_message_chunk").startswith("Fix add()")
    assert replayed.text("agent_thought_chunk").startswith("1. Read calc.py")
    assert "Fixed add()." in replayed.text("agent_message_chunk")
    again = tool_calls(replayed)
    assert again[next(i for i in again if i.startswith("change-"))]["title"] == "Applied: calc.py"
    assert any(c["kind"] == "read" for c in again.values())
    question_call = next(c for i, c in again.items() if i.startswith("question-"))
    assert question_call["content"][0]["content"]["text"] == "No"
    assert replayed.permissions == []  # a replay asks nothing


async def test_yolo_mode_applies_without_asking(tmp_path: Path) -> None:
    root = workspace_with(tmp_path, [turn("1. Fix add()"), turn("", FIX), finish("Fixed.")])
    editor = FakeEditor(fs=False)
    async with acp_agent(editor, root) as conn:
        session = await conn.new_session(cwd=str(root), mcp_servers=[])
        await conn.set_session_mode(session_id=session.session_id, mode_id="yolo")
        response = await conn.prompt(session_id=session.session_id, prompt=[text_block("Fix")])
    assert response.stop_reason == "end_turn"
    assert editor.permissions == []
    assert (root / "calc.py").read_text() == FIXED
    assert editor.writes == {}  # no fs capability: the daemon's apply alone
    applied = tool_calls(editor)
    assert any(c.get("title") == "Applied: calc.py" for c in applied.values())


async def test_the_editor_gets_the_file_as_applied_with_the_users_saved_edits(
    tmp_path: Path,
) -> None:
    calc = "import math\n\n\n" + CALC
    root = workspace_with(
        tmp_path,
        [
            turn("1. Fix add()"),
            turn("", FIX),
            turn("", call("ask_user", question="Done?", choices=["Yes", "No"])),
            finish("Fixed."),
        ],
        calc,
    )

    def save_an_edit_then_answer() -> str:  # saved while the run works
        (root / "calc.py").write_text(calc.replace("import math", "import math  # for later"))
        return "Yes"

    editor = FakeEditor(answers=[save_an_edit_then_answer, "Apply"])
    async with acp_agent(editor, root) as conn:
        session = await conn.new_session(cwd=str(root), mcp_servers=[])
        await conn.prompt(session_id=session.session_id, prompt=[text_block("Fix")])
    merged = "import math  # for later\n\n\n" + FIXED
    assert (root / "calc.py").read_text() == merged
    assert editor.writes == {str(root / "calc.py"): merged}  # not the run's text alone


async def test_unsaved_edits_in_the_editor_are_not_overwritten(tmp_path: Path) -> None:
    root = workspace_with(tmp_path, [turn("1. Fix add()"), turn("", FIX), finish("Fixed.")])
    editor = FakeEditor(answers=["Apply"])
    editor.buffers[str(root / "calc.py")] = CALC + "# typing...\n"
    async with acp_agent(editor, root) as conn:
        session = await conn.new_session(cwd=str(root), mcp_servers=[])
        await conn.prompt(session_id=session.session_id, prompt=[text_block("Fix")])
    assert (root / "calc.py").read_text() == CALC
    change = next(c for i, c in tool_calls(editor).items() if i.startswith("change-"))
    assert change["title"] == "Not applied: calc.py has unsaved edits in the editor"
    assert change["status"] == "failed"


THREE = (
    "def add(a, b):\n    return a - b  # add\n\n\n"
    "def sub(a, b):\n    return a + b  # sub\n\n\n"
    "def mul(a, b):\n    return a / b  # mul\n"
)
"""Three functions, three bugs: a run fixing them proposes one change of three hunks."""
ONLY_ADD_FIXED = THREE.replace("a - b  # add", "a + b  # add")


async def test_a_change_is_decided_hunk_by_hunk(tmp_path: Path) -> None:
    fixes = [
        call("edit_file", path="calc.py", search=f"{old}  # {name}", replace=f"{new}  # {name}")
        for old, new, name in (
            ("a - b", "a + b", "add"),
            ("a + b", "a - b", "sub"),
            ("a / b", "a * b", "mul"),
        )
    ]
    root = workspace_with(
        tmp_path,
        [turn("1. Fix all three"), *(turn("", fix) for fix in fixes), finish("Fixed.")],
        THREE,
    )
    # Hunk by hunk: apply the first, reject the second, dismiss the third; then the changelog.
    editor = FakeEditor(
        answers=["Review each hunk", "Apply this hunk", "Reject this hunk", None, "Reject"]
    )
    async with acp_agent(editor, root) as conn:
        session = await conn.new_session(cwd=str(root), mcp_servers=[])
        response = await conn.prompt(session_id=session.session_id, prompt=[text_block("Fix")])

    assert response.stop_reason == "end_turn"
    assert (root / "calc.py").read_text() == ONLY_ADD_FIXED
    assert editor.writes == {str(root / "calc.py"): ONLY_ADD_FIXED}  # the file as applied
    change, first, second, third = editor.permissions[:4]
    assert [(o.name, o.kind) for o in change[1]] == [
        ("Apply", "allow_once"),
        ("Always apply (yolo mode for this session)", "allow_always"),
        ("Review each hunk", "allow_once"),
        ("Reject", "reject_once"),
    ]
    assert [p[0].title for p in (first, second, third)] == [
        "Apply hunk 1 of 3 to calc.py (line 2)?",
        "Apply hunk 2 of 3 to calc.py (line 6)?",
        "Apply hunk 3 of 3 to calc.py (line 10)?",
    ]
    (diff,) = first[0].content or []
    assert isinstance(diff, FileEditToolCallContent)
    assert (diff.old_text, diff.new_text) == (THREE, ONLY_ADD_FIXED)  # that hunk alone
    assert [(o.name, o.kind) for o in first[1]] == [
        ("Apply this hunk", "allow_once"),
        ("Reject this hunk", "reject_once"),
    ]
    calls = tool_calls(editor)
    summary = "Applied hunk 1; rejected hunk 2; hunk 3 left for review: calc.py"
    assert calls["change-1"]["title"] == summary
    assert calls["change-1"]["status"] == "completed"
    assert "devfactory approve" in calls["change-1"]["content"][-1]["content"]["text"]
    assert [calls[f"change-1-hunk-{i}"]["title"] for i in range(3)] == [
        "Applied hunk 1: calc.py",
        "Rejected hunk 2: calc.py",
        "Hunk 3 left for review: calc.py",
    ]

    # The third hunk is still open for the editor or `devfactory approve`; a replay of the
    # session tells the same story from the daemon's events.
    replayed = FakeEditor()
    async with acp_agent(replayed, root) as conn:
        await conn.load_session(cwd=str(root), session_id=session.session_id, mcp_servers=[])
    assert tool_calls(replayed)["change-1"]["title"] == summary


async def test_cancel_stops_the_run_mid_turn(tmp_path: Path) -> None:
    root = workspace_with(
        tmp_path,
        [turn("1. Think hard"), turn("", call("read_file", path="calc.py")), turn(delay_s=60)],
    )
    editor = FakeEditor()
    async with acp_agent(editor, root) as conn:
        session = await conn.new_session(cwd=str(root), mcp_servers=[])
        prompt = asyncio.create_task(
            conn.prompt(session_id=session.session_id, prompt=[text_block("Think")])
        )
        await until(lambda: any(c.get("kind") == "read" for c in tool_calls(editor).values()))
        await conn.cancel(session_id=session.session_id)
        response = await asyncio.wait_for(prompt, 30)
        assert response.stop_reason == "cancelled"
        # Still serving: the session takes a mode, a new one starts.
        await conn.set_session_mode(session_id=session.session_id, mode_id="yolo")
        assert (await conn.new_session(cwd=str(root), mcp_servers=[])).session_id
    assert (root / "calc.py").read_text() == CALC


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("session/prompt", {"sessionId": "nope", "prompt": []}, "unknown session 'nope'"),
        ("session/set_mode", {"sessionId": "nope", "modeId": "yolo"}, "unknown session"),
        ("session/load", {"sessionId": "nope", "cwd": "{root}", "mcpServers": []}, "nothing to"),
        ("session/new", {"cwd": "relative/path", "mcpServers": []}, "absolute path"),
        ("session/prompt", {"sessionId": 5, "prompt": "not a list"}, "Invalid params"),
        ("session/set_mode", {"sessionId": "{session}", "modeId": "plan"}, "unknown mode 'plan'"),
    ],
)
async def test_bad_input_gets_a_clear_error_and_the_agent_keeps_serving(
    tmp_path: Path, method: str, params: dict[str, Any], message: str
) -> None:
    root = workspace_with(tmp_path, [finish()])
    editor = FakeEditor()
    async with acp_agent(editor, root) as conn:
        session = await conn.new_session(cwd=str(root), mcp_servers=[])
        filled = {
            key: value.format(root=root, session=session.session_id)
            if isinstance(value, str)
            else value
            for key, value in params.items()
        }
        with pytest.raises(RequestError) as raised:
            await conn._conn.send_request(method, filled)
        assert raised.value.code == -32602
        assert message in f"{raised.value} {raised.value.data}"
        response = await conn.prompt(session_id=session.session_id, prompt=[text_block("Go")])
        assert response.stop_reason == "end_turn"
