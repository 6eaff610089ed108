"""Shared test helpers: real git repositories and a typed client for the real daemon."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Union

import msgspec
from lsprotocol import types
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    default_converter,
)
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from devfactory.protocol.methods import NOTIFICATIONS, REQUESTS

SERVER_COMMAND = [sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio"]
CLIENT_PROFILES = ["visual-studio-code", "neovim"]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return stdout; fail the test loudly on error."""
    completed = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {completed.stderr}")
    return completed.stdout


class LoopWatch:
    """How long the event loop stood still while the ``async with`` block ran (it ticks every
    20 ms): a blocking call on the loop stops every run and request with it."""

    async def __aenter__(self) -> LoopWatch:
        loop = asyncio.get_running_loop()
        self._ticks = [loop.time()]
        self._ticking = asyncio.ensure_future(self._tick(loop))
        return self

    async def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            await asyncio.sleep(0.02)
            self._ticks.append(loop.time())

    async def __aexit__(self, *exc: object) -> None:
        self._ticking.cancel()
        self._ticks.append(asyncio.get_running_loop().time())

    @property
    def longest_stall(self) -> float:
        return max(b - a for a, b in zip(self._ticks, self._ticks[1:], strict=False))


def trust_workspace(root: Path) -> Path:
    """Trust the workspace's devfactory.toml as its user would (``devfactory trust``), in this
    test run's own config folder (conftest)."""
    from devfactory.server import trust
    from devfactory.server.config import trusted_sources

    trust.record(root, trusted_sources(root))
    return root


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def make_git_repo(root: Path, files: Mapping[str, str | bytes] | None = None) -> Path:
    """A real repository at ``root`` (created by this test, so git trusts it)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.invalid")
    write_files(root, files or {"README.md": "# sample\n"})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def _keep_raw(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(**obj)


def raw_converter() -> Any:
    """pygls' converter, but custom params/results stay plain JSON (for msgspec to decode).

    Also: lsprotocol structures a ``Command | CodeAction`` by trying Command first, which
    turns every CodeAction with a command into a Command; tell them apart as editors do.
    """
    converter = default_converter()
    for message_type in (JsonRPCRequestMessage, JsonRPCNotification, JsonRPCResponseMessage):
        converter.register_structure_hook(message_type, _keep_raw)

    def command_or_action(obj: dict[str, Any], _: Any) -> Any:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)

    converter.register_structure_hook(types.Command | types.CodeAction, command_or_action)
    converter.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007
    return converter


class Notifications:
    """Custom notifications received from the daemon, decoded into protocol Structs."""

    def __init__(self) -> None:
        self.received: dict[str, list[Any]] = {method: [] for method in NOTIFICATIONS}
        self._changed = asyncio.Condition()

    async def add(self, method: str, params: Any) -> None:
        self.received[method].append(msgspec.convert(params, NOTIFICATIONS[method]))
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Any], bool] = lambda _: True,
        timeout: float = 20,
        start: int = 0,
    ) -> Any:
        """The first notification of ``method`` that satisfies ``predicate`` (waits for it);
        ``start`` skips the ones received before (``len(received[method])`` taken earlier)."""

        async def find() -> Any:
            async with self._changed:
                while True:
                    for item in self.received[method][start:]:
                        if predicate(item):
                            return item
                    await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP TextEdits (positions in UTF-16 code units) to ``text``, as an editor would."""
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        before = sum(len(line) for line in lines[: position.line])
        if position.line >= len(lines):
            return len(text)
        line = lines[position.line]
        return before + len(line.encode("utf-16-le")[: position.character * 2].decode("utf-16-le"))

    spans = sorted(
        ((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


class DaemonClient(LanguageClient):
    """pytest-lsp's client plus typed ``devfactory/*`` calls, notification capture, and an
    editor-like document model that applies ``workspace/applyEdit`` to open documents."""

    def __init__(self, apply_edits: bool = True) -> None:
        super().__init__(converter_factory=raw_converter)
        register_lsp_features(self)
        self.notes = Notifications()
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.documents: dict[str, tuple[int, str]] = {}
        """Open documents: uri -> (version, text)."""
        self.history: dict[str, list[str]] = {}
        """Each open document's earlier texts, so a test can "undo"."""
        for method in NOTIFICATIONS:
            self.feature(method)(self._recorder(method))
        if apply_edits:

            async def apply_edit(
                params: types.ApplyWorkspaceEditParams,
            ) -> types.ApplyWorkspaceEditResult:
                return await self._apply_edit(params)

            self.feature(types.WORKSPACE_APPLY_EDIT)(apply_edit)

    def open_document(self, path: Path, language_id: str = "python") -> str:
        uri = path.as_uri()
        text = path.read_text()
        self.documents[uri] = (1, text)
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language_id, version=1, text=text
                )
            )
        )
        return uri

    def change_document(self, uri: str, text: str) -> None:
        version, old = self.documents[uri]
        self.history.setdefault(uri, []).append(old)
        self.documents[uri] = (version + 1, text)
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def undo(self, uri: str) -> str:
        """Go back to the text before the last change (what Ctrl+Z / u would do)."""
        previous = self.history[uri].pop()
        version, _ = self.documents[uri]
        self.documents[uri] = (version + 1, previous)
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=previous)],
            )
        )
        return previous

    async def _apply_edit(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        self.applied_edits.append(params)
        edit = params.edit
        for uri, edits in (edit.changes or {}).items():
            if uri not in self.documents:
                return types.ApplyWorkspaceEditResult(
                    applied=False, failure_reason=f"{uri} is not open"
                )
            self.change_document(uri, apply_text_edits(self.documents[uri][1], list(edits)))
        for change in edit.document_changes or []:
            if isinstance(change, types.TextDocumentEdit):
                uri = change.text_document.uri
                if uri in self.documents:
                    self.change_document(
                        uri, apply_text_edits(self.documents[uri][1], list(change.edits))
                    )
                else:
                    path = Path(uri.removeprefix("file://"))
                    path.write_text(
                        apply_text_edits(
                            path.read_text() if path.exists() else "", list(change.edits)
                        )
                    )
            elif isinstance(change, types.CreateFile):
                path = Path(change.uri.removeprefix("file://"))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            elif isinstance(change, types.DeleteFile):
                Path(change.uri.removeprefix("file://")).unlink(missing_ok=True)
        return types.ApplyWorkspaceEditResult(applied=True)

    def _recorder(self, method: str) -> Callable[[Any], Any]:
        async def record(params: Any) -> None:
            await self.notes.add(method, params)

        return record

    async def call(self, method: str, params: Any = None) -> Any:
        """A ``devfactory/*`` request; the result decoded into its protocol type."""
        payload = {} if params is None else msgspec.to_builtins(params)
        raw = await self.protocol.send_request_async(method, payload)
        return msgspec.convert(raw, REQUESTS[method].result)


def make_client() -> DaemonClient:
    return DaemonClient()


async def wait_for_run(
    client: DaemonClient, run_id: int, statuses: set[str], timeout: float = 30
) -> Any:
    """Poll until the run reaches one of ``statuses``; returns the run."""
    from devfactory.protocol.methods import Requests

    async def poll() -> Any:
        while True:
            run = await client.call(Requests.RUNS_GET, {"runId": run_id})
            if run.status.value in statuses:
                return run
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)


def write_script(root: Path, turns: list[dict[str, Any]], name: str = "script.json") -> str:
    """A scripted-provider script in the workspace; returns its workspace-relative path."""
    import json

    (root / name).write_text(json.dumps({"turns": turns}))
    return name


def initialize_params(
    root: Path, profile: str = "visual-studio-code", options: Any = None
) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities(profile),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options=options,
    )
