"""Keeps API keys out of everything the daemon says: errors, events, log lines, model output.

Every key the providers read from the environment is registered here. ``redact`` replaces
each one with a placeholder naming the variable it came from, and the log record factory
installed by ``install_log_redaction`` applies it to every log line, including lines an SDK
or HTTP library writes, so a key cannot leak through a message nobody thought to check.
What the model says is untrusted too (an endpoint may echo the key it was sent):
``StreamRedactor`` cleans streamed text even when a key is split across chunks.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

MIN_SECRET_LENGTH = 8
"""Shorter values are not treated as keys: redacting ``"abc"`` everywhere would mangle text
and such a value is no real credential anyway."""


class SecretRedactor:
    """The process-wide set of known secrets and the placeholders that replace them."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, secret: str, source: str) -> None:
        """Remember ``secret`` (read from the variable ``source``) so it is never shown."""
        if len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            # Longest first, so a key that contains another is replaced whole.
            placeholders = {**self._placeholders, secret: f"[redacted ${source}]"}
            self._placeholders = dict(sorted(placeholders.items(), key=lambda kv: -len(kv[0])))

    def redact(self, text: str) -> str:
        for secret, placeholder in self._placeholders.items():
            if secret in text:
                text = text.replace(secret, placeholder)
        return text

    def pending_prefix(self, text: str) -> int:
        """Length of the longest end of ``text`` that could be the start of a key."""
        longest = 0
        for secret in self._placeholders:
            for size in range(min(len(secret) - 1, len(text)), longest, -1):
                if secret.startswith(text[-size:]):
                    longest = size
                    break
        return longest


REDACTOR = SecretRedactor()


def register_secret(secret: str, source: str) -> None:
    REDACTOR.register(secret, source)
    install_log_redaction()


def redact(text: str) -> str:
    """``text`` with every registered key replaced by ``[redacted $VARIABLE]``."""
    return REDACTOR.redact(text)


def redact_json(value: Any) -> Any:
    """``value`` (decoded JSON: tool-call arguments) with every string redacted."""
    if isinstance(value, str):
        return REDACTOR.redact(value)
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    return value


class StreamRedactor:
    """Redacts a text stream piece by piece.

    A key may arrive split over several deltas, so the end of the text that could still turn
    into a key is held back until the next delta (or :meth:`flush`) decides it.
    """

    def __init__(self, redactor: SecretRedactor = REDACTOR) -> None:
        self._redactor = redactor
        self._held = ""

    def feed(self, delta: str) -> str:
        """The part of the stream so far that is safe to show."""
        text = self._redactor.redact(self._held + delta)
        keep = self._redactor.pending_prefix(text)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """What is still held back, once the stream has ended."""
        rest, self._held = self._held, ""
        return rest


_FORMATTER = logging.Formatter()
_installed = False
_install_lock = threading.Lock()


def install_log_redaction() -> None:
    """Redact every log record as it is created (idempotent).

    A record factory, rather than a handler filter, covers handlers added later (the daemon
    attaches its file and client handlers after initialize) and third-party loggers alike.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # malformed args: the handler reports it, as without us
                return record
            cleaned = REDACTOR.redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_info and record.exc_info[0] is not None:
                # Handlers reuse a preset exc_text, so the traceback is redacted too.
                record.exc_text = REDACTOR.redact(_FORMATTER.formatException(record.exc_info))
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
