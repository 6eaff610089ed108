"""Which runs an ACP session is made of, kept across restarts so ``session/load`` can replay it.

A session is a run: its first prompt creates the run, later prompts send it back to work (a
new iteration on the same worktree), and a prompt after a failed or cancelled run starts a
new run in the same session. The daemon knows runs, not ACP sessions, so the adapter keeps
the mapping itself, in ``.devfactory/acp/sessions.json`` of the workspace (written atomically).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from devfactory.protocol.enums import ExecutionMode

from ...safefs import SafeTree


class Turn(msgspec.Struct, kw_only=True, rename="camel"):
    """One prompt of a session: the run it went to, and that run's iteration it started."""

    run_id: int
    iteration: int = 1
    prompt: str


class SessionRecord(msgspec.Struct, kw_only=True, rename="camel"):
    mode: ExecutionMode = ExecutionMode.REVIEW
    turns: list[Turn] = []

    @property
    def run_id(self) -> int | None:
        """The run the next prompt goes to."""
        return self.turns[-1].run_id if self.turns else None

    def prompt_of(self, run_id: int, iteration: int) -> str | None:
        """What the user typed for that iteration of the run (None: not through ACP)."""
        for turn in self.turns:
            if turn.run_id == run_id and turn.iteration == iteration:
                return turn.prompt
        return None


class SessionStore:
    """The sessions of one workspace, on disk."""

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / ".devfactory" / "acp" / "sessions.json"

    def _read(self) -> dict[str, SessionRecord]:
        try:
            return msgspec.json.decode(self.path.read_bytes(), type=dict[str, SessionRecord])
        except FileNotFoundError:
            return {}
        except (msgspec.ValidationError, msgspec.DecodeError):  # damaged: start afresh
            return {}

    def get(self, session_id: str) -> SessionRecord | None:
        return self._read().get(session_id)

    def save(self, session_id: str, record: SessionRecord) -> None:
        """Write the record, atomically (the one atomic write: ``SafeTree``)."""
        sessions = self._read()
        sessions[session_id] = record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        SafeTree(self.path.parent).write(self.path.name, msgspec.json.encode(sessions))
