"""Pytest fixtures for the fakes; load them with ``pytest_plugins = ["fakes.fixtures"]``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devfactory.storage import Store, open_store

from .anthropic_server import FakeAnthropic
from .claude_cli import install_fake_claude
from .openai_server import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fake OpenAI API on 127.0.0.1; script it with ``fake_openai.add(Reply(...))``."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A fake Anthropic API on 127.0.0.1; script it with ``fake_anthropic.add(Reply(...))``."""
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake ``claude`` executable, first on PATH for this test."""
    bin_dir = tmp_path / "fake-bin"
    executable = install_fake_claude(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return executable


@pytest.fixture
async def accounts_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real workspace database, for the provider_accounts rows."""
    store = await open_store(tmp_path / "state.db")
    yield store
    await store.close()
