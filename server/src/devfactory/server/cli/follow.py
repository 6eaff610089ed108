"""Following a run from the terminal: live through our daemon's notifications, or by polling
``devfactory/events`` for a run another daemon drives; answering its questions at the prompt.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import EventType, HitlAction, RunStatus
from devfactory.protocol.events import Event, EventList, EventsParams
from devfactory.protocol.hitl import HitlRequest, HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunIdParams

from .timeline import Timeline

POLL_S = 0.25
Answer = tuple[HitlAction, str | None]
Answerer = Callable[[HitlRequest], Awaitable[Answer]]
BudgetDecider = Callable[[str], Awaitable[bool]]
"""Given why the run paused at its budget: whether it may go on past it."""


async def replay(client: DaemonClient, run_id: int, since: int = 0) -> list[Event]:
    """Every persisted event of the run after ``since``, page by page."""
    events: list[Event] = []
    while True:
        page: EventList = await client.call(
            Requests.EVENTS, EventsParams(run_id=run_id, since=since, limit=1000)
        )
        events += page.events
        since = page.last_id
        if not page.has_more:
            return events


class LiveRun:
    """Shows a run this daemon drives, from its notifications, and answers its questions.

    Subscribe before the run exists: notifications that arrive before ``follow(run_id)`` are
    kept and shown once the id is known, so the run's first events are never missed.
    """

    def __init__(
        self,
        client: DaemonClient,
        timeline: Timeline,
        answer: Answerer,
        over_budget: BudgetDecider | None = None,
    ) -> None:
        self.client = client
        self.timeline = timeline
        self.answer = answer
        self.over_budget = over_budget
        self._budget_reason: str | None = None
        """Why the run is pausing at its budget, until it has paused."""
        self.run_id: int | None = None
        self.last_id = 0
        self._early: list[tuple[str, Any]] = []
        self._finished: asyncio.Future[Run] = asyncio.get_running_loop().create_future()
        self._questions: set[asyncio.Task[None]] = set()
        self.failure: BaseException | None = None
        self._unsubscribe = client.on_notification(self._on_notification)

    def follow(self, run_id: int) -> None:
        self.run_id = run_id
        early, self._early = self._early, []
        for method, params in early:
            self._on_notification(method, params)

    async def finished(self) -> Run:
        """The run once it completed, failed or was cancelled; then anything left is shown."""
        try:
            run = await self._finished
        finally:
            self._unsubscribe()
        assert self.run_id is not None
        for event in await replay(self.client, self.run_id, self.last_id):
            self._show(event)
        return run

    def _on_notification(self, method: str, params: Any) -> None:
        if self.run_id is None:
            self._early.append((method, params))
            return
        if method == Notifications.EVENT and params.event.run_id == self.run_id:
            self._show(params.event)
            if params.event.type is EventType.BUDGET_REACHED and self.over_budget is not None:
                self._budget_reason = params.event.message  # asked once the run has paused
        elif method == Notifications.STREAM and params.run_id == self.run_id:
            self.timeline.stream(params.delta)
        elif method == Notifications.QUESTION and params.request.run_id == self.run_id:
            self._spawn(self._respond(params.request))
        elif (
            method == Notifications.RUN_CHANGED
            and params.run.id == self.run_id
            and params.run.status is RunStatus.PAUSED
            and self._budget_reason is not None
        ):
            reason, self._budget_reason = self._budget_reason, None
            self._spawn(self._budget(reason))
        elif (
            method == Notifications.RUN_CHANGED
            and params.run.id == self.run_id
            and params.run.status.is_terminal
            and not self._finished.done()
        ):
            self._finished.set_result(params.run)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._questions.add(task)
        task.add_done_callback(self._questions.discard)

    async def _budget(self, reason: str) -> None:
        """The run paused at its budget: go on past it, or stop it (this daemon ends with
        the command, so a paused run could not wait for a later resume)."""
        assert self.over_budget is not None and self.run_id is not None
        try:
            go_on = await self.over_budget(reason)
            method = Requests.RUNS_RESUME if go_on else Requests.RUNS_CANCEL
            await self.client.call(method, RunIdParams(run_id=self.run_id))
        except BaseException as exc:
            if not self._finished.done():
                self._finished.set_exception(exc)

    def _show(self, event: Event) -> None:
        if event.id > self.last_id:
            self.last_id = event.id
            self.timeline.event(event)

    async def _respond(self, request: HitlRequest) -> None:
        try:
            action, text = await self.answer(request)
            await self.client.call(
                Requests.HITL_RESPOND,
                HitlRespondParams(request_id=request.id, action=action, text=text),
            )
        except BaseException as exc:  # stop following: the caller cancels the run
            if not self._finished.done():
                self._finished.set_exception(exc)


def answerer(console: Console, *, automatic: bool) -> Answerer:
    """Answers at the prompt, or (``--yes``) with the first choice, else "yes"; a plan is
    approved, edited (in $EDITOR) or rejected (``--yes``: approved)."""

    async def answer(request: HitlRequest) -> Answer:
        if request.kind == "plan":
            return await decide_plan(console, request, automatic=automatic)
        choices = request.choices
        console.print(f"\n[bold magenta]?[/] [bold]{escape(request.question)}[/]")
        for number, choice in enumerate(choices, start=1):
            console.print(f"  {number}. {escape(choice)}")
        if automatic:
            text = choices[0] if choices else "yes"
            console.print(f"  [dim]answered automatically:[/] {escape(text)}")
            return HitlAction.ANSWER, text
        reply = await read_reply(console, "Your answer", choices[0] if choices else None)
        if reply.isdigit() and 1 <= int(reply) <= len(choices):
            return HitlAction.ANSWER, choices[int(reply) - 1]
        return HitlAction.ANSWER, reply

    return answer


def budget_decider(console: Console, *, automatic: bool) -> BudgetDecider:
    """Asks whether to go on past the budget (``--yes`` never does: a budget is a limit)."""

    async def decide(reason: str) -> bool:
        console.print(f"\n[bold magenta]?[/] [bold]Budget reached:[/] {escape(reason)}")
        if automatic:
            console.print("  [dim]stopping the run at its budget[/]")
            return False
        reply = await read_reply(console, "Go on past the budget? (yes/no)", "no")
        return reply.lower().startswith("y")

    return decide


async def decide_plan(console: Console, request: HitlRequest, *, automatic: bool) -> Answer:
    """Show the plan; approve it, edit it in $EDITOR, or reject it with feedback."""
    console.print(f"\n[bold magenta]?[/] [bold]Run {request.run_id} proposes a plan:[/]")
    console.print(escape(request.question))
    if automatic:
        console.print("  [dim]approved automatically[/]")
        return HitlAction.APPROVE, None
    choice = await read_reply(console, "approve, edit or reject", "approve")
    if choice.startswith("e"):
        edited = await asyncio.to_thread(click.edit, request.question, extension=".md")
        if edited is not None and edited.strip() != request.question.strip():
            return HitlAction.AMEND, edited.strip()
        return HitlAction.APPROVE, None
    if choice.startswith("r"):
        feedback = await read_reply(console, "What should change? (empty: stop the run)", "")
        return HitlAction.REJECT, feedback or None
    return HitlAction.APPROVE, None


async def read_reply(console: Console, text: str, default: str | None) -> str:
    """A line typed at the prompt (echoed when piped); a closed stdin is a clear error."""
    try:
        reply = (await prompt(text, default)).strip()
    except click.Abort:
        raise click.ClickException(
            "the run asked a question and there is no answer (stdin is closed); "
            "pass --yes to answer with the first choice"
        ) from None
    if not sys.stdin.isatty():
        console.print(escape(reply))  # piped input is not echoed
    return reply


async def prompt(text: str, default: str | None) -> str:
    """``click.prompt`` on a daemon thread: Ctrl+C must not wait for a line of input."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value or "")

    def read() -> None:
        try:
            value = str(click.prompt(text, default=default))
        except BaseException as exc:  # click.Abort on end of input
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=read, name="devfactory-prompt", daemon=True).start()
    return await future


async def poll_run(client: DaemonClient, run_id: int, timeline: Timeline, since: int) -> Run:
    """Follow a run driven by another daemon: poll its events until it is finished."""
    while True:
        run: Run = await client.call(Requests.RUNS_GET, RunIdParams(run_id=run_id))
        events = await replay(client, run_id, since)
        for event in events:
            timeline.event(event)
            since = event.id
        if run.status.is_terminal and not events:
            return run
        if not events:
            await asyncio.sleep(POLL_S)
