"""LSP framing: frames come out whole however the stream is chunked, and a bad frame costs
only itself (the daemon-level behaviour is in tests/server/test_e2e_wire.py)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from devfactory.protocol import errors as codes
from devfactory.server.transport import MAX_HEADER_BYTES, FrameDecoder, FrameError
from wire_support import frame

JSON_BODIES = st.lists(
    st.dictionaries(st.text(max_size=8), st.text(max_size=40) | st.integers(), max_size=4).map(
        lambda d: json.dumps(d, indent=1, ensure_ascii=False).encode()  # with line breaks
    ),
    max_size=6,
)


def feed_in_chunks(decoder: FrameDecoder, data: bytes, cuts: list[int]) -> list[bytes | FrameError]:
    out: list[bytes | FrameError] = []
    start = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        out += decoder.feed(data[start:cut])
        start = max(start, cut)
    return out


@given(bodies=JSON_BODIES, cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_frames_come_out_whole_however_the_stream_is_cut(bodies: list[bytes], cuts: list[int]):
    decoder = FrameDecoder()
    assert feed_in_chunks(decoder, b"".join(map(frame, bodies)), cuts) == bodies
    assert not decoder.partial


@given(
    before=JSON_BODIES,
    after=JSON_BODIES,
    bad=st.sampled_from(
        [
            frame(b'{"jsonrpc": "2.0", "method": "too big", "params": "' + b"x" * 3000 + b'"}'),
            b"Content-Length: 68719476736\r\n\r\n{}",
            b"Content-Length: 12\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
            b"Content-Type: application/json\r\n\r\n{}",
            b"no header at all\r\n\r\n",
            b"\x00\xff" * (MAX_HEADER_BYTES + 10),
        ]
    ),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_a_bad_frame_costs_only_itself(
    before: list[bytes], after: list[bytes], bad: bytes, cuts: list[int]
):
    decoder = FrameDecoder(max_message_bytes=2000)
    data = b"".join(map(frame, before)) + bad + b"".join(map(frame, after))
    out = feed_in_chunks(decoder, data, cuts)
    errors = [item for item in out if isinstance(item, FrameError)]
    assert [item for item in out if not isinstance(item, FrameError)] == before + after
    assert len(errors) == 1


def test_the_error_says_what_the_limit_is():
    (error,) = FrameDecoder().feed(b"Content-Length: 68719476736\r\n\r\n")
    assert error == FrameError(
        codes.INVALID_REQUEST,
        "a message of 68719476736 bytes is over the 64 MiB limit; the frame was skipped",
    )


def test_a_message_cut_off_by_the_end_of_the_stream_is_partial():
    decoder = FrameDecoder()
    assert decoder.feed(frame(b'{"a": 1}')[:-2]) == []
    assert decoder.partial
