"""Change review: ``devfactory/changes/*`` (``resolve`` closes a conflict settled by hand),
``devfactory/reviews/submit``, diagnostics, ``textDocument/codeAction`` and the
``devfactory.*`` executeCommand commands.

Works in any LSP editor with no plugin: proposed hunks are diagnostics, code actions approve
or reject them, and approved edits arrive through ``workspace/applyEdit``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

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

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace
from ..documents import DocumentEvent, DocumentEventKind, path_of
from ..errors import InvalidParams

if TYPE_CHECKING:
    from ..review.feedback import Feedback
    from ..review.following import TextFollower

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


def _hunk_decision(args: tuple[Any, ...]) -> ChangeDecisionParams:
    """(changeId[, hunkIndex]) of the approve/reject commands code actions carry."""
    change_id = _int_argument(args, 0, "changeId")
    hunks = [_int_argument(args, 1, "hunkIndex")] if len(args) > 1 and args[1] is not None else None
    return ChangeDecisionParams(change_ids=[change_id], hunks=hunks)


def _run_decision(args: tuple[Any, ...]) -> ChangeDecisionParams:
    return ChangeDecisionParams(run_id=_int_argument(args, 0, "runId"))


async def start(
    server: DevFactoryServer,
    workspace: Workspace,
    events: services.EventBus,
    snapshots: services.SnapshotService,
) -> AsyncIterator[services.ReviewService]:
    from ..review.editor import LspEditor
    from ..review.texts import ChangeTexts
    from ..safefs import protected_files

    review = services.ReviewService(
        store=workspace.store,
        project_id=workspace.project.id,
        root=workspace.root,
        protected=protected_files(workspace.root, workspace.settings),
        settings=workspace.settings.review,
        events=events,
        snapshots=snapshots,
        texts=ChangeTexts(snapshots.repo, workspace.paths.diffs, workspace.store.patches),
        editor=LspEditor(server),
        notify=server.send,
    )
    server.run_task(publish_all(review), name="review-diagnostics")
    yield review


async def publish_all(review: services.ReviewService) -> None:
    """A new daemon: clear what a killed one left half-applied, show the open proposals."""
    from ..runs.ownership import pid_alive
    from ..safefs import SafeTree

    changed = await review.store.changes.paths(review.project_id)
    tree = SafeTree(review.root)
    if removed := await asyncio.to_thread(tree.remove_stale_temps, changed, pid_alive):
        log.info("removed %d temp files of writes a killed daemon left", removed)
    proposed = await review.store.changes.list(review.project_id, status=ChangeStatus.PROPOSED)
    for path in dict.fromkeys(change.path for change in proposed):
        await review.refresh_diagnostics(path)


def setup(server: DevFactoryServer) -> None:
    pending_refresh: dict[str, asyncio.TimerHandle] = {}

    async def feedback() -> Feedback:
        from ..review.feedback import Feedback

        return Feedback(await server.need(services.ReviewService))

    async def text_follower() -> TextFollower:
        from ..review.following import TextFollower

        return TextFollower(await server.need(services.ReviewService))

    async def on_document(event: DocumentEvent) -> None:
        """Follow the user's text (an undone hunk is proposed again) and re-map diagnostics as
        the user edits (debounced)."""
        if event.path is None or event.kind is DocumentEventKind.CLOSED:
            return
        if (service := await server.find(services.ReviewService)) is None:
            return
        try:
            rel = event.path.relative_to(service.root).as_posix()
        except ValueError:
            return
        following = await text_follower()
        if event.kind is DocumentEventKind.CHANGED:
            if (handle := pending_refresh.pop(rel, None)) is not None:
                handle.cancel()
            loop = asyncio.get_running_loop()
            pending_refresh[rel] = loop.call_later(
                DIAGNOSTICS_DEBOUNCE_S,
                lambda: server.run_task(following.document_changed(rel), name=f"diagnostics {rel}"),
            )
            return
        await following.document_changed(rel)

    server.document_listeners.append(on_document)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    async def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        path = path_of(params.text_document.uri)
        if path is None or (service := await server.find(services.ReviewService)) is None:
            return None
        try:
            rel = path.relative_to(service.root).as_posix()
        except ValueError:
            return None
        return await service.code_actions(rel, params.range) or None

    @server.command(Commands.APPROVE)
    async def approve_command(*args: Any) -> ChangeDecisionResult:
        review = await server.need(services.ReviewService)
        return await review.approve(_hunk_decision(args))

    @server.command(Commands.REJECT)
    async def reject_command(*args: Any) -> ChangeDecisionResult:
        review = await server.need(services.ReviewService)
        return await review.reject(_hunk_decision(args))

    @server.command(Commands.APPROVE_RUN)
    async def approve_run_command(*args: Any) -> ChangeDecisionResult:
        review = await server.need(services.ReviewService)
        return await review.approve(_run_decision(args))

    @server.command(Commands.REJECT_RUN)
    async def reject_run_command(*args: Any) -> ChangeDecisionResult:
        review = await server.need(services.ReviewService)
        return await review.reject(_run_decision(args))

    @server.command(Commands.SHOW_DIFF)
    async def show_diff_command(*args: Any) -> bool:
        service = await server.need(services.ReviewService)
        change = await service.get(_int_argument(args, 0, "changeId"))
        diff_file = await service.texts.local_diff_file(change.id)
        result = await server.window_show_document_async(
            types.ShowDocumentParams(uri=diff_file.as_uri(), take_focus=True)
        )
        return bool(result.success)

    @rpc.request(server, Requests.CHANGES_LIST)
    async def list_changes(params: ChangesListParams) -> ChangeList:
        review = await server.need(services.ReviewService)
        return ChangeList(changes=await review.list_changes(params))

    @rpc.request(server, Requests.CHANGES_DIFF)
    async def diff(params: ChangeDiffParams) -> ChangeDiff:
        review = await server.need(services.ReviewService)
        return await review.diff(params.change_id)

    @rpc.request(server, Requests.CHANGES_APPROVE)
    async def approve(params: ChangeDecisionParams) -> ChangeDecisionResult:
        review = await server.need(services.ReviewService)
        return await review.approve(params)

    @rpc.request(server, Requests.CHANGES_REJECT)
    async def reject(params: ChangeDecisionParams) -> ChangeDecisionResult:
        review = await server.need(services.ReviewService)
        return await review.reject(params)

    @rpc.request(server, Requests.CHANGES_RESOLVE)
    async def resolve(params: ChangeResolveParams) -> Change:
        return await (await text_follower()).resolve(params.change_id)

    @rpc.request(server, Requests.CHANGES_COMMENT)
    async def comment(params: ChangeCommentParams) -> ReviewComment:
        return await (await feedback()).comment(params)

    @rpc.request(server, Requests.CHANGES_COMMENTS)
    async def comments(params: CommentListParams) -> CommentList:
        return CommentList(comments=await (await feedback()).comments(params))

    @rpc.request(server, Requests.CHANGES_RESOLVE_COMMENT)
    async def resolve_comment(params: CommentResolveParams) -> ReviewComment:
        return await (await feedback()).resolve(params)

    @rpc.request(server, Requests.CHANGES_REQUEST_CHANGES)
    async def request_changes(params: RequestChangesParams) -> Run:
        review = await feedback()
        return await review.request_changes(params, await server.need(services.RunManager))

    @rpc.request(server, Requests.REVIEWS_SUBMIT)
    async def submit_review(params: ReviewSubmitParams) -> RunReview:
        return await (await feedback()).submit(params)
