"""``DevFactoryProtocol.notify``: Struct notifications take msgspec's fast path and arrive as a
well-framed LSP message (Content-Length counts bytes, not characters)."""

from __future__ import annotations

import json

from lsprotocol import types

from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import Event, EventNotification
from devfactory.protocol.methods import Notifications
from devfactory.server.features import create_server


class Capture:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def frames(data: bytes) -> list[dict]:
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        found.append(json.loads(rest[:length]))
        data = rest[length:]
    return found


def test_struct_and_lsp_notifications_are_framed_alike():
    server = create_server()
    capture = Capture()
    server.protocol.set_writer(capture)
    event = Event(
        id=7,
        project_id=1,
        run_id=2,
        type=EventType.AI_MESSAGE,
        severity=Severity.INFO,
        title="Assistant",
        message="déjà vu — ✓",
        payload={"text": "déjà vu — ✓"},
        created_at="2026-01-01T00:00:00.000Z",
    )
    server.send(Notifications.EVENT, EventNotification(event=event))
    server.protocol.notify(
        types.WINDOW_LOG_MESSAGE,
        types.LogMessageParams(type=types.MessageType.Info, message="plain"),
    )
    assert frames(b"".join(capture.written)) == [
        {
            "jsonrpc": "2.0",
            "method": "devfactory/event",
            "params": {
                "event": {
                    "id": 7,
                    "projectId": 1,
                    "runId": 2,
                    "type": "ai_message",
                    "severity": "info",
                    "title": "Assistant",
                    "message": "déjà vu — ✓",
                    "payload": {"text": "déjà vu — ✓"},
                    "createdAt": "2026-01-01T00:00:00.000Z",
                }
            },
        },
        {
            "jsonrpc": "2.0",
            "method": "window/logMessage",
            "params": {"type": 3, "message": "plain"},
        },
    ]
