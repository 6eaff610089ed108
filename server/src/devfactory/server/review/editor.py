"""What the review service needs from the connected editor, behind a small interface.

``LspEditor`` implements it over the pygls server: open documents and their unsaved text,
``workspace/applyEdit`` (so an approved hunk lands in the buffer with its undo history) when
the client supports it, and diagnostics.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

log = logging.getLogger(__name__)


class Editor(Protocol):
    def open_text(self, path: Path) -> str | None:
        """The text of ``path`` if it is open in the editor (unsaved edits included)."""
        ...

    def open_paths(self) -> list[Path]: ...

    def can_apply_edits(self) -> bool: ...

    def supports_resource_operation(self, kind: types.ResourceOperationKind) -> bool: ...

    async def apply_edit(self, label: str, edit: types.WorkspaceEdit) -> tuple[bool, str | None]:
        """(applied, failure reason)."""
        ...

    def publish(self, path: Path, diagnostics: list[types.Diagnostic]) -> None: ...


def uri_of(path: Path) -> str:
    uri: str | None = from_fs_path(str(path))
    assert uri is not None
    return uri


class LspEditor:
    def __init__(self, server: LanguageServer) -> None:
        self.server = server

    def _capabilities(self) -> types.WorkspaceClientCapabilities | None:
        try:
            return self.server.client_capabilities.workspace
        except Exception:
            return None

    def open_text(self, path: Path) -> str | None:
        document = self.server.workspace.text_documents.get(uri_of(path))
        return None if document is None else str(document.source)

    def open_paths(self) -> list[Path]:
        paths = []
        for uri in self.server.workspace.text_documents:
            fs = to_fs_path(uri)
            if fs:
                paths.append(Path(fs))
        return paths

    def can_apply_edits(self) -> bool:
        workspace = self._capabilities()
        return bool(workspace and workspace.apply_edit)

    def supports_resource_operation(self, kind: types.ResourceOperationKind) -> bool:
        workspace = self._capabilities()
        edit = workspace.workspace_edit if workspace else None
        return bool(edit and edit.document_changes and kind in (edit.resource_operations or []))

    async def apply_edit(self, label: str, edit: types.WorkspaceEdit) -> tuple[bool, str | None]:
        result = await self.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
        return bool(result.applied), result.failure_reason

    def publish(self, path: Path, diagnostics: list[types.Diagnostic]) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri_of(path), diagnostics=diagnostics)
        )
