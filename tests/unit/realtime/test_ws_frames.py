"""Reading websocket frames from chunks: the pure reader (`realtime.ws_frames`) at every cut of its input,
and the websocket transport on a real Tornado server with a raw-socket client sending what browsers do
and what they never do (frames packed into one write, a frame a byte at a time, fragments with a ping
between them, reserved bits, a continuation of nothing, a control frame in pieces)."""

from __future__ import annotations

import asyncio
import json
import socket
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from realtime import ws_frames
from tests.hostile import read_frame, upgrade
from tests.unit.realtime.test_sockjs_adapter import ALLOWED, async_test, new_sid, serve


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0,
          mask: bytes | None = b"abcd") -> bytes:
    first = (0x80 if fin else 0) | rsv | opcode
    size = len(payload)
    flag = 0x80 if mask is not None else 0
    if size < 126:
        head = struct.pack("!BB", first, flag | size)
    elif size < 65536:
        head = struct.pack("!BBH", first, flag | 126, size)
    else:
        head = struct.pack("!BBQ", first, flag | 127, size)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def unmask(head: ws_frames.Header, payload: bytes) -> bytes:
    mask = head.mask
    return payload if mask is None else bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


# ---- the pure reader --------------------------------------------------------------------------------


def test_a_header_is_read_only_once_all_of_it_is_there() -> None:
    for size, header_size in ((5, 6), (300, 8), (70_000, 14)):
        data = frame(0x1, b"x" * size)
        for cut in range(header_size):
            assert ws_frames.header(data[:cut]) is None
        head = ws_frames.header(data[:header_size])
        assert head is not None
        assert (head.fin, head.rsv, head.opcode, head.mask, head.length, head.size) == (
            True, 0, 0x1, b"abcd", size, header_size)
    unmasked = ws_frames.header(frame(0x9, b"hi", mask=None, rsv=0x40, fin=False))
    assert unmasked is not None and unmasked.mask is None and unmasked.rsv == 0x40 and not unmasked.fin
    assert unmasked.control and unmasked.size == 2


def test_a_payload_is_taken_only_when_whole_and_frames_come_out_in_order() -> None:
    buffer = ws_frames.FrameBuffer()
    data = frame(0x1, b"first") + frame(0x2, b"second" * 50) + frame(0x8, b"\x03\xe8")
    buffer.feed(data[:9])
    head = buffer.peek()
    assert head is not None and head.length == 5
    assert buffer.take(head) is None, "three bytes of the payload are missing"
    buffer.feed(data[9:])
    out = []
    while (head := buffer.peek()) is not None:
        payload = buffer.take(head)
        assert payload is not None
        out.append((head.opcode, unmask(head, payload)))
    assert out == [(0x1, b"first"), (0x2, b"second" * 50), (0x8, b"\x03\xe8")]
    assert len(buffer) == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0x0, 0x1, 0x2, 0x8, 0x9, 0xA]), st.binary(max_size=300),
                          st.booleans()), min_size=1, max_size=8),
       st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=40))
def test_any_frames_cut_anywhere_come_out_whole_and_in_order(
        frames: list[tuple[int, bytes, bool]], cuts: list[int]) -> None:
    data = b"".join(frame(op, payload, mask=b"\x01\x02\x03\x04" if masked else None)
                    for op, payload, masked in frames)
    buffer, out, at, i = ws_frames.FrameBuffer(), [], 0, 0
    while at < len(data):
        step = cuts[i % len(cuts)]
        buffer.feed(data[at:at + step])
        at, i = at + step, i + 1
        while (head := buffer.peek()) is not None and (payload := buffer.take(head)) is not None:
            out.append((head.opcode, unmask(head, payload)))
    assert out == [(op, payload) for op, payload, _ in frames]
    assert len(buffer) == 0


# ---- the transport on a real server -----------------------------------------------------------------


class RawWebSocket:
    """A websocket client on a plain socket: it writes frames exactly as it is told."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> RawWebSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await upgrade(reader, writer, port, f"/sockjs/000/{new_sid()}/websocket", ALLOWED)
        self = cls(reader, writer)
        assert await self.read() == (0x1, b"o")
        return self

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read(self, timeout: float = 5.0) -> tuple[int, bytes] | None:
        """The next frame from the server as (opcode, payload), heartbeats skipped; None at the end."""
        while (got := await read_frame(self.reader, timeout)) == (0x1, b"h"):
            pass
        return got

    def close(self) -> None:
        self.writer.close()


def text(*messages: str) -> bytes:
    return json.dumps(list(messages)).encode()


def echoed(got: tuple[int, bytes] | None) -> list[str]:
    assert got is not None and got[0] == 0x1 and got[1].startswith(b"a"), got
    texts: list[str] = json.loads(got[1][1:])
    return texts


@async_test
async def test_frames_packed_in_one_write_or_cut_into_bytes_each_arrive_once() -> None:
    async with serve() as env:
        ws = await RawWebSocket.open(env.port)
        try:
            await ws.write(frame(0x1, text("one")) + frame(0x1, text("two")) + frame(0x1, text("three")))
            got: list[str] = []
            while len(got) < 3:
                got += echoed(await ws.read())
            assert got == ["one", "two", "three"]
            long = "é" * 200  # a two-byte length, and UTF-8 cut between its bytes
            for byte in frame(0x1, text(long)):
                await ws.write(bytes([byte]))
            assert echoed(await ws.read()) == [long]
        finally:
            ws.close()
        env.router.frame_limit = 200_000  # for websockets opened from now on
        ws = await RawWebSocket.open(env.port)
        try:
            big = "z" * 70_000  # over one read of the socket: gathered over several
            await ws.write(frame(0x1, text(big), mask=None))
            assert echoed(await ws.read()) == [big]
        finally:
            ws.close()


@async_test
async def test_a_fragmented_message_with_a_ping_between_its_pieces_is_one_message() -> None:
    async with serve() as env:
        ws = await RawWebSocket.open(env.port)
        try:
            whole = text("in three pieces")
            await ws.write(frame(0x1, whole[:5], fin=False) + frame(0x9, b"are you there"))
            assert await ws.read() == (0xA, b"are you there")
            await ws.write(frame(0x0, whole[5:9], fin=False))
            ping = frame(0x9, b"again")
            for byte in ping:  # a control frame in pieces, between a message's fragments
                await ws.write(bytes([byte]))
            assert await ws.read() == (0xA, b"again")
            await ws.write(frame(0x0, whole[9:]))
            assert echoed(await ws.read()) == ["in three pieces"]
            assert [text for _, text in env.rec.messages] == ["in three pieces"]
        finally:
            ws.close()


@async_test
async def test_frames_no_browser_sends_end_the_connection_and_nothing_reaches_the_app() -> None:
    hostile = [
        frame(0x1, text("reserved"), rsv=0x20),  # an extension nobody agreed to
        frame(0x0, text("continues nothing")),
        frame(0x9, b"p" * 126),  # a control frame over 125 bytes
        frame(0x9, b"ping", fin=False),  # a fragmented control frame
        frame(0x1, text("a"), fin=False) + frame(0x1, text("b")),  # a new message inside another
        frame(0x3, b"opcode 3"),  # no such opcode
        frame(0x1, b"\xff\xfe not UTF-8"),
    ]
    async with serve() as env:
        for data in hostile:
            ws = await RawWebSocket.open(env.port)
            try:
                await ws.write(data)
                while (got := await ws.read()) is not None:
                    assert got[0] == 0x8, (data, got)  # at most a close frame, then the end
            finally:
                ws.close()
        healthy = await RawWebSocket.open(env.port)
        try:
            await healthy.write(frame(0x1, text("still serving")))
            assert echoed(await healthy.read()) == ["still serving"]
        finally:
            healthy.close()
        assert [text for _, text in env.rec.messages] == ["still serving"]


@async_test
async def test_a_close_frame_is_answered_with_a_close() -> None:
    async with serve() as env:
        ws = await RawWebSocket.open(env.port)
        try:
            await ws.write(frame(0x8, struct.pack("!H", 1000) + b"bye"))
            got = await ws.read()
            assert got is not None and got[0] == 0x8 and got[1][:2] == struct.pack("!H", 1000)
            assert await ws.read() is None
            await env.rec.until(lambda: sum(env.rec.closes.values()) == 1)
        finally:
            ws.close()
