"""A run's timeline as Markdown: the ``devfactory://runs/{run_id}/timeline`` resource."""

from __future__ import annotations

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import EventType
from devfactory.protocol.events import Event
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunIdParams

from ...cli.follow import replay

MAX_MESSAGE = 2000
"""Characters of an event's message shown (command output can be long)."""


def event_line(event: Event) -> str:
    message = event.message.strip()
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + " …"
    head = f"- `{event.created_at}` **{event.type.value}** ({event.severity.value}): {event.title}"
    if not message or message == event.title:
        return head
    if "\n" in message:
        body = "\n".join(f"  {line}" for line in message.splitlines())
        return f"{head}\n\n  ```\n{body}\n  ```"
    return f"{head} — {message}"


async def timeline_markdown(client: DaemonClient, run_id: int) -> str:
    """The run's header and every persisted event, oldest first (the conversation's messages
    aside: the model's text is there as ai_message, tool results as the tools' events)."""
    run: Run = await client.call(Requests.RUNS_GET, RunIdParams(run_id=run_id))
    events = await replay(client, run_id)
    header = [
        f"# Run {run.id}: {run.title}",
        "",
        f"- Status: {run.status.value}" + (f" ({run.failed_reason})" if run.failed_reason else ""),
        f"- Agent: {run.agent.value}, provider {run.provider}"
        + (f", model {run.model}" if run.model else ""),
        f"- Mode: {run.mode.value}; branch {run.branch_name or '-'}",
        f"- Created {run.created_at}"
        + (f", completed {run.completed_at}" if run.completed_at else ""),
        "",
        "## Prompt",
        "",
        run.prompt,
        "",
        "## Timeline",
        "",
    ]
    shown = [e for e in events if e.type is not EventType.CONVERSATION_MESSAGE_ADDED]
    return "\n".join(header + [event_line(event) for event in shown]) + "\n"
