"""Change review: ``devfactory/changes/*`` (``resolve`` closes a conflict settled by hand),
``devfactory/reviews/submit``, diagnostics, ``textDocument/codeAction`` and the
``devfactory.*`` executeCommand commands.

Works in any LSP editor with no plugin: proposed hunks are diagnostics, code actions approve
or reject them, and approved edits arrive through ``workspace/applyEdit``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from devfactory.protocol.changes import (
    Change,
    ChangeCommentParams,
    ChangeDecisionParams,
    ChangeDecisionResult,
    ChangeDiff,
    ChangeDiffParams,
    ChangeList,
    ChangeResolveParams,
    ChangesListParams,
    CommentList,
    CommentListParams,
    CommentResolveParams,
    RequestChangesParams,
    ReviewComment,
    ReviewSubmitParams,
    RunReview,
)
from devfactory.protocol.enums import ChangeStatus
from devfactory.protocol.methods import Commands, Requests
from devfactory.protocol.runs import Run

from .. import rpc
from ..app import DevFactoryServer
from ..documents import DocumentEvent, DocumentEventKind
from ..errors import InvalidParams
from ..review.diagnostics import code_actions
from ..review.editor import LspEditor
from ..review.service import ReviewService
from ..review.texts import ChangeTexts
from ..runs.ownership import pid_alive
from ..safefs import SafeTree
from ..services import Services

log = logging.getLogger(__name__)

DIAGNOSTICS_DEBOUNCE_S = 0.15


def _int_argument(args: tuple[Any, ...], position: int, name: str) -> int:
    try:
        value = args[position]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        return int(value)
    except (IndexError, TypeError, ValueError):
        raise InvalidParams(f"argument {position + 1} ({name}) must be an integer id") from None


def setup(server: DevFactoryServer) -> None:
    pending_refresh: dict[str, asyncio.TimerHandle] = {}

    async def start(services: Services) -> None:
        assert services.snapshots is not None, "the runs feature must start first"
        services.review = ReviewService(
            server=server,
            services=services,
            texts=ChangeTexts(services.snapshots.repo, services.paths.diffs),
            editor=LspEditor(server),
        )

    async def publish_all(services: Services) -> None:
        review = services.review
        if review is None:
            return
        changed = await services.store.changes.paths(services.project.id)
        tree = SafeTree(services.root)
        if removed := await asyncio.to_thread(tree.remove_stale_temps, changed, pid_alive):
            log.info("removed %d temp files of writes a killed daemon left", removed)
        proposed = await services.store.changes.list(
            services.project.id, status=ChangeStatus.PROPOSED
        )
        for path in dict.fromkeys(change.path for change in proposed):
            await review.refresh_diagnostics(path)

    server.on_initialize.append(start)
    server.on_initialized.append(publish_all)

    def review() -> ReviewService:
        service = server.services.review
        assert service is not None
        return service

    async def on_document(event: DocumentEvent) -> None:
        """Follow the user's text (an undone hunk is proposed again) and re-map diagnostics as
        the user edits (debounced)."""
        services = server.services_or_none
        service = services.review if services is not None else None
        if service is None or event.path is None or event.kind is DocumentEventKind.CLOSED:
            return
        try:
            rel = event.path.relative_to(service.root).as_posix()
        except ValueError:
            return
        if event.kind is DocumentEventKind.CHANGED:
            if (handle := pending_refresh.pop(rel, None)) is not None:
                handle.cancel()
            loop = asyncio.get_running_loop()
            pending_refresh[rel] = loop.call_later(
                DIAGNOSTICS_DEBOUNCE_S,
                lambda: server.run_task(service.document_changed(rel), name=f"diagnostics {rel}"),
            )
            return
        await service.document_changed(rel)

    server.document_listeners.append(on_document)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    async def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        services = server.services_or_none
        if services is None or services.review is None:
            return None
        from ..documents import path_of

        path = path_of(params.text_document.uri)
        if path is None:
            return None
        try:
            rel = path.relative_to(services.root).as_posix()
        except ValueError:
            return None
        return await code_actions(services.review, rel, params.range) or None

    @server.command(Commands.APPROVE)
    async def approve_command(*args: Any) -> ChangeDecisionResult:
        change_id = _int_argument(args, 0, "changeId")
        hunks = (
            [_int_argument(args, 1, "hunkIndex")] if len(args) > 1 and args[1] is not None else None
        )
        return await review().approve(ChangeDecisionParams(change_ids=[change_id], hunks=hunks))

    @server.command(Commands.REJECT)
    async def reject_command(*args: Any) -> ChangeDecisionResult:
        change_id = _int_argument(args, 0, "changeId")
        hunks = (
            [_int_argument(args, 1, "hunkIndex")] if len(args) > 1 and args[1] is not None else None
        )
        return await review().reject(ChangeDecisionParams(change_ids=[change_id], hunks=hunks))

    @server.command(Commands.APPROVE_RUN)
    async def approve_run_command(*args: Any) -> ChangeDecisionResult:
        return await review().approve(ChangeDecisionParams(run_id=_int_argument(args, 0, "runId")))

    @server.command(Commands.REJECT_RUN)
    async def reject_run_command(*args: Any) -> ChangeDecisionResult:
        return await review().reject(ChangeDecisionParams(run_id=_int_argument(args, 0, "runId")))

    @server.command(Commands.SHOW_DIFF)
    async def show_diff_command(*args: Any) -> bool:
        change = await review().get(_int_argument(args, 0, "changeId"))
        diff_file = review().texts.diff_file(change.id)
        result = await server.window_show_document_async(
            types.ShowDocumentParams(uri=diff_file.as_uri(), take_focus=True)
        )
        return bool(result.success)

    @rpc.request(server, Requests.CHANGES_LIST)
    async def list_changes(params: ChangesListParams) -> ChangeList:
        return ChangeList(changes=await review().list_changes(params))

    @rpc.request(server, Requests.CHANGES_DIFF)
    async def diff(params: ChangeDiffParams) -> ChangeDiff:
        return await review().diff(params.change_id)

    @rpc.request(server, Requests.CHANGES_APPROVE)
    async def approve(params: ChangeDecisionParams) -> ChangeDecisionResult:
        return await review().approve(params)

    @rpc.request(server, Requests.CHANGES_REJECT)
    async def reject(params: ChangeDecisionParams) -> ChangeDecisionResult:
        return await review().reject(params)

    @rpc.request(server, Requests.CHANGES_RESOLVE)
    async def resolve(params: ChangeResolveParams) -> Change:
        return await review().following.resolve(params.change_id)

    @rpc.request(server, Requests.CHANGES_COMMENT)
    async def comment(params: ChangeCommentParams) -> ReviewComment:
        return await review().feedback.comment(params)

    @rpc.request(server, Requests.CHANGES_COMMENTS)
    async def comments(params: CommentListParams) -> CommentList:
        return CommentList(comments=await review().feedback.comments(params))

    @rpc.request(server, Requests.CHANGES_RESOLVE_COMMENT)
    async def resolve_comment(params: CommentResolveParams) -> ReviewComment:
        return await review().feedback.resolve(params)

    @rpc.request(server, Requests.CHANGES_REQUEST_CHANGES)
    async def request_changes(params: RequestChangesParams) -> Run:
        return await review().feedback.request_changes(params)

    @rpc.request(server, Requests.REVIEWS_SUBMIT)
    async def submit_review(params: ReviewSubmitParams) -> RunReview:
        return await review().feedback.submit(params)
