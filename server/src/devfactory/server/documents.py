"""One place that receives the editor's document notifications and fans them out.

pygls allows one handler per LSP method, and several features care about documents (the
index keeps unsaved buffers searchable, review re-maps diagnostics as the user types), so
the core feature registers ``textDocument/didOpen|didChange|didSave|didClose`` once and
calls every listener in the server's ``document_listeners``; a failing listener is logged and
the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

log = logging.getLogger(__name__)


class DocumentEventKind(StrEnum):
    OPENED = "opened"
    CHANGED = "changed"
    SAVED = "saved"
    CLOSED = "closed"


@dataclass(frozen=True)
class DocumentEvent:
    kind: DocumentEventKind
    uri: str
    path: Path | None
    """Local file path of the document (None for untitled or remote documents)."""
    text: str | None
    """The document's full text after the event (None once closed)."""


DocumentListener = Callable[[DocumentEvent], Awaitable[None]]


def path_of(uri: str) -> Path | None:
    fs = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(fs) if fs else None


async def dispatch(listeners: list[DocumentListener], event: DocumentEvent) -> None:
    for listener in list(listeners):
        try:
            await listener(event)
        except Exception:
            log.exception("document listener %s failed on %s", listener, event.kind)


def register(server: LanguageServer, listeners: list[DocumentListener]) -> None:
    """Register the four document notifications on ``server``, calling ``listeners``."""

    def text(uri: str) -> str | None:
        document = server.workspace.text_documents.get(uri)
        return None if document is None else document.source

    async def fire(kind: DocumentEventKind, uri: str) -> None:
        event = DocumentEvent(
            kind, uri, path_of(uri), None if kind is DocumentEventKind.CLOSED else text(uri)
        )
        await dispatch(listeners, event)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: types.DidOpenTextDocumentParams) -> None:
        await fire(DocumentEventKind.OPENED, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: types.DidChangeTextDocumentParams) -> None:
        await fire(DocumentEventKind.CHANGED, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    async def did_save(params: types.DidSaveTextDocumentParams) -> None:
        await fire(DocumentEventKind.SAVED, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: types.DidCloseTextDocumentParams) -> None:
        await fire(DocumentEventKind.CLOSED, params.text_document.uri)
