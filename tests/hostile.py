"""Hostile clients for the unit and integration attack tests: raw sockets doing what browsers never do."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct


async def upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int, path: str,
                  origin: str, timeout: float = 5.0) -> None:
    """The websocket opening handshake on a raw connection, as a browser sends it; asserts the 101."""
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    assert head.startswith(b"HTTP/1.1 101"), head


async def read_frame(reader: asyncio.StreamReader, timeout: float = 5.0) -> tuple[int, bytes] | None:
    """The next frame a server sent as (opcode, payload); None once the connection ended."""
    try:
        first, second = await asyncio.wait_for(reader.readexactly(2), timeout)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await reader.readexactly(8))
        return first & 0x0F, await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


class StalledWebSocket:
    """A websocket client on a raw socket with a tiny receive buffer that reads nothing after the open."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, path: str, origin: str) -> StalledWebSocket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 24)
        await upgrade(reader, writer, port, path, origin, timeout=2)
        self = cls(reader, writer)
        assert await self.frame() == "o"
        return self

    def send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        size = len(data)
        head = struct.pack("!BB", 0x81, 0x80 | size) if size < 126 else struct.pack("!BBH", 0x81, 0xFE, size)
        self.writer.write(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    async def frame(self, timeout: float = 5.0) -> str | None:
        """The next text frame's payload, None at a close frame or the end."""
        got = await read_frame(self.reader, timeout)
        return None if got is None or got[0] == 0x8 else got[1].decode()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
