"""Reading a client's websocket frames (RFC 6455, section 5.2) from bytes as they arrive: pure, no I/O.

Owns `header()`, which reads one frame's header from the start of a buffer, and `FrameBuffer`, which
holds what the socket delivered until whole frames are there. The websocket transport
(`realtime.sockjs_transports._WebSocket13`) reads its socket in chunks of whatever has arrived and takes
the frames out of the buffer here; Tornado's own reader asks its stream for two bytes, then the
length, the mask and the payload one by one, and its stream stops and restarts watching the socket for
every frame (two `epoll_ctl` calls and their Python a frame). What a frame means (text, close, ping,
fragments) stays Tornado's (`_handle_message`), as do the checks the transport makes on each header.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

FIN = 0x80
RSV_MASK = 0x70
RSV1 = 0x40
OPCODE_MASK = 0x0F
#: Control frames (close, ping, pong) have opcodes with this bit, and payloads under 126 bytes.
CONTROL = 0x8
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")


class Header(NamedTuple):
    fin: bool
    rsv: int  # the reserved bits (RSV1..3), as they are in the first byte
    opcode: int
    mask: bytes | None  # the client's 4-byte mask, or None for an unmasked frame
    length: int  # of the payload
    size: int  # of the header itself: the payload starts this far into the frame

    @property
    def control(self) -> bool:
        return bool(self.opcode & CONTROL)


def header(data: bytes | bytearray | memoryview) -> Header | None:
    """The header at the start of `data`, or None when not all of it has arrived yet."""
    have = len(data)
    if have < 2:
        return None
    first, second = data[0], data[1]
    length = second & 0x7F
    size = 2
    if length == 126:
        if have < 4:
            return None
        length = _U16.unpack_from(data, 2)[0]
        size = 4
    elif length == 127:
        if have < 10:
            return None
        length = _U64.unpack_from(data, 2)[0]
        size = 10
    mask = None
    if second & 0x80:
        if have < size + 4:
            return None
        mask = bytes(data[size:size + 4])
        size += 4
    return Header(bool(first & FIN), first & RSV_MASK, first & OPCODE_MASK, mask, length, size)


class FrameBuffer:
    """Bytes read from a socket and not yet taken as frames. The caller checks each `peek()`ed header
    (its length against a limit, before the payload is waited for) and then `take()`s the payload."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._start = 0  # what was taken is dropped in one go, when the buffer runs empty or is large

    def __len__(self) -> int:
        return len(self._data) - self._start

    def feed(self, chunk: bytes) -> None:
        if self._start and self._start == len(self._data):
            self._data.clear()
            self._start = 0
        self._data += chunk

    def peek(self) -> Header | None:
        """The next frame's header, if all of it is here."""
        if self._start == 0:
            return header(self._data)
        return header(memoryview(self._data)[self._start:])

    def take(self, head: Header) -> bytes | None:
        """The payload of the frame `head` was read from (still masked), removing the frame; None (and
        nothing removed) while some of it has yet to arrive."""
        begin = self._start + head.size
        end = begin + head.length
        if end > len(self._data):
            return None
        payload = bytes(self._data[begin:end])
        self._start = end
        if end == len(self._data):
            self._data.clear()
            self._start = 0
        elif end > 65536:
            del self._data[:end]
            self._start = 0
        return payload
