"""Shared test helpers: real git repositories and a typed client for the real daemon."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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

SERVER_COMMAND = [sys.executable, "-m", "devfactory.server", "serve", "--stdio"]
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
    """pygls' converter, but custom params/results stay plain JSON (for msgspec to decode)."""
    converter = default_converter()
    for message_type in (JsonRPCRequestMessage, JsonRPCNotification, JsonRPCResponseMessage):
        converter.register_structure_hook(message_type, _keep_raw)
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


class DaemonClient(LanguageClient):
    """pytest-lsp's client plus typed ``devfactory/*`` calls and notification capture."""

    def __init__(self) -> None:
        super().__init__(converter_factory=raw_converter)
        register_lsp_features(self)
        self.notes = Notifications()
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        for method in NOTIFICATIONS:
            self.feature(method)(self._recorder(method))

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


def initialize_params(
    root: Path, profile: str = "visual-studio-code", options: Any = None
) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities(profile),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options=options,
    )
