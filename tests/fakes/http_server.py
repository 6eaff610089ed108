"""A scripted HTTP server on 127.0.0.1 that the model-API fakes build on.

It runs in its own thread, so it serves a real SDK in the test's event loop, a daemon
subprocess, or a blocking CLI call alike. Each POST takes the next entry of the script and
records the request; streamed answers go out as chunked server-sent events, flushed one by
one like a real API's. Subclasses only say how a reply looks on their wire.
"""

from __future__ import annotations

import abc
import contextlib
import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from .replies import ErrorReply, RecordedRequest, Reply, Scripted


class FakeModelServer(abc.ABC):
    """Serves ``script`` in order; ``requests`` records everything received."""

    api_path: str = "/"
    """The one POST path the fake answers; anything else is a 404 like the real API's."""
    url_suffix: str = ""
    """Appended to ``http://127.0.0.1:<port>`` to form the base URL an SDK is given."""

    def __init__(self, script: Iterable[Scripted] = ()) -> None:
        self.script: deque[Scripted] = deque(script)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- wire format, per API -------------------------------------------------------------

    @abc.abstractmethod
    def render(self, reply: Reply, request: RecordedRequest) -> Iterator[dict[str, Any]]:
        """The SSE events of a streamed reply, each ``{"event": name | None, "data": obj}``."""

    @abc.abstractmethod
    def error_body(self, error: ErrorReply) -> dict[str, Any]:
        """The JSON body of an error answer, in the API's own shape."""

    def end_of_stream(self) -> bytes:
        """Bytes after the last event (OpenAI sends ``data: [DONE]``)."""
        return b""

    # -- scripting --------------------------------------------------------------------------

    def add(self, *entries: Scripted) -> None:
        """Append answers to the script (thread-safe; fine while a client is connected)."""
        with self._lock:
            self.script.extend(entries)

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fake server is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{self.url_suffix}"

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` requests arrived (from async code: ``asyncio.to_thread``)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived")

    @property
    def api_keys(self) -> list[str | None]:
        """The key each request carried, in order."""
        return [request.api_key for request in self.requests]

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},  # how long stop() waits for the serving loop
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ----------------------------------------------------------------------------

    def _next_answer(self, request: RecordedRequest) -> Reply | ErrorReply:
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()
            entry = self.script.popleft() if self.script else None
        if entry is None:
            number = len(self.requests)
            return ErrorReply(500, f"fake server: no scripted reply left for request #{number}")
        return entry if isinstance(entry, Reply | ErrorReply) else entry(request)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=json.loads(raw) if raw else None,
        )
        if handler.path.split("?")[0] != self.api_path:
            _send_json(handler, 404, self.error_body(ErrorReply(404, f"no route {handler.path}")))
            return
        answer = self._next_answer(request)
        if isinstance(answer, ErrorReply):
            headers = {}
            if answer.retry_after is not None:
                headers["retry-after"] = f"{answer.retry_after:g}"
            _send_json(handler, answer.status, self.error_body(answer), headers)
            return
        if not (isinstance(request.body, dict) and request.body.get("stream")):
            message = "the fake server only speaks streaming (send stream=true)"
            _send_json(handler, 400, self.error_body(ErrorReply(400, message)))
            return
        if answer.delay_s and self._stopping.wait(answer.delay_s):
            return
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream; charset=utf-8")
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        for event in self.render(answer, request):
            lines = f"event: {event['event']}\n" if event.get("event") else ""
            lines += f"data: {json.dumps(event['data'])}\n\n"
            _write_chunk(handler, lines.encode())
        if tail := self.end_of_stream():
            _write_chunk(handler, tail)
        _write_chunk(handler, b"")


def _write_chunk(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()


def _send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
    handler.wfile.flush()


def _make_handler(server: FakeModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            # The client may go away mid-answer (a cancelled request): nothing to do then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                server._serve(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; ``requests`` is the record

    return Handler
