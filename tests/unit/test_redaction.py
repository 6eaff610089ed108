"""Keys never pass through the redactors, however the text is cut."""

from __future__ import annotations

import pytest

from devfactory.server.agents.providers.redaction import (
    SecretRedactor,
    StreamRedactor,
    redact_json,
    register_secret,
)

KEY = "sk-live-0123456789abcdef"


@pytest.fixture
def redactor() -> SecretRedactor:
    redactor = SecretRedactor()
    redactor.register(KEY, "OPENAI_API_KEY")
    redactor.register("short", "TOO_SHORT")  # under the minimum length: never a key
    return redactor


TEXT = f"the key is {KEY}, and again {KEY}; short stays"
EXPECTED = (
    "the key is [redacted $OPENAI_API_KEY], and again [redacted $OPENAI_API_KEY]; short stays"
)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11, len(TEXT)])
def test_a_stream_cut_anywhere_shows_no_key(redactor: SecretRedactor, size: int) -> None:
    stream = StreamRedactor(redactor)
    shown = [stream.feed(TEXT[i : i + size]) for i in range(0, len(TEXT), size)]
    shown.append(stream.flush())
    assert "".join(shown) == EXPECTED
    assert all(KEY[:8] not in piece for piece in shown)


def test_text_that_only_looks_like_a_key_start_is_released_at_the_end(
    redactor: SecretRedactor,
) -> None:
    stream = StreamRedactor(redactor)
    assert stream.feed("prefix sk-li") == "prefix "
    assert stream.feed("ne") == "sk-line"
    assert stream.feed(" sk-") == " "
    assert stream.flush() == "sk-"


def test_tool_arguments_are_redacted_at_every_depth() -> None:
    register_secret(KEY, "OPENAI_API_KEY")
    arguments = {"path": "a.txt", "content": f"k={KEY}", "list": [KEY, 3, {"x": KEY}]}
    assert redact_json(arguments) == {
        "path": "a.txt",
        "content": "k=[redacted $OPENAI_API_KEY]",
        "list": ["[redacted $OPENAI_API_KEY]", 3, {"x": "[redacted $OPENAI_API_KEY]"}],
    }
