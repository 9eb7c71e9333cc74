"""Client connections for the load generator: a lean SockJS websocket client, and xhr transports.

`WsConn` speaks RFC 6455 (client side: masked frames) and the SockJS framing (`o`, `h`, `a[...]`,
`c[...]`) itself on an `asyncio.Protocol`, so one received message costs a few microseconds of Python
instead of Tornado's coroutine machinery: the load generator must not be what it measures. `XhrConn`
wraps `realtime.client.FeltClient` (xhr-streaming, xhr-polling) behind the same small interface:
`send(text)`, and the callbacks `on_message(text)` / `on_close(code, reason)`.

Both refuse any address outside loopback.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import random
import secrets
import socket
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from realtime.client import Closed, FeltClient

OnMessage = Callable[[str], None]
OnClose = Callable[[int, str], None]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_loads = json.loads
_dumps = json.dumps


def check_loopback(url: str) -> tuple[str, int]:
    """(host, port) of `url`; ValueError unless it is on the loopback interface."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError
        except ValueError:
            raise ValueError(f"the load generator talks to loopback only, not {url!r}") from None
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def _mask(payload: bytes) -> bytes:
    """One masked client text frame (FIN, opcode 1) carrying `payload`."""
    n = len(payload)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 65536:
        head = bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 0xFF)) + n.to_bytes(8, "big")
    key = random.getrandbits(32).to_bytes(4, "big")
    stream = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return head + key + (int.from_bytes(payload, "big") ^ stream).to_bytes(n, "big")


class WsConn(asyncio.Protocol):
    """One SockJS session over a raw websocket. Create with `await WsConn.open(...)`."""

    transport_name = "websocket"

    def __init__(self, request: bytes, key: bytes) -> None:
        self.on_message: OnMessage = lambda text: None
        self.on_close: OnClose = lambda code, reason: None
        self._request = request
        self._accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        self._buf = bytearray()
        self._handshaken = False
        self._fragments: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.frames_in = 0  # websocket frames received
        self.bytes_in = 0

    @classmethod
    async def open(cls, base: str, origin: str | None, timeout: float = 10.0) -> WsConn:
        """Open `<base>/<server>/<session>/websocket` and wait for the SockJS open frame."""
        host, port = check_loopback(base)
        session = f"{secrets.randbelow(1000):03d}/{secrets.token_hex(8)}"
        path = urlsplit(base).path.rstrip("/") + f"/{session}/websocket"
        key = base64.b64encode(secrets.token_bytes(16))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key.decode()}", "Sec-WebSocket-Version: 13"]
        if origin:
            lines.append(f"Origin: {origin}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        loop = asyncio.get_running_loop()
        conn = cls(request, key)
        transport, _ = await asyncio.wait_for(loop.create_connection(lambda: conn, host, port), timeout)
        try:
            await asyncio.wait_for(asyncio.shield(conn._opened), timeout)
        except BaseException:
            transport.abort()
            raise
        return conn

    # ---- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is one, not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._opened.done():
            self._opened.set_exception(ConnectionError(f"connection lost before open: {exc}"))
        self._closed_by_peer(1006, "connection lost")

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        self.bytes_in += len(data)
        if not self._handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[:end + 4]
            if not head.startswith("HTTP/1.1 101") or self._accept.decode() not in head:
                status = head.splitlines()[0] if head else ""
                self._fail(ConnectionError(f"websocket upgrade refused: {status}"))
                return
            self._handshaken = True
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            start = pos + 2
            if length == 126:
                if n - start < 2:
                    break
                length = int.from_bytes(buf[start:start + 2], "big")
                start += 2
            elif length == 127:
                if n - start < 8:
                    break
                length = int.from_bytes(buf[start:start + 8], "big")
                start += 8
            if b1 & 0x80:  # a server must not mask; skip the key if it does
                start += 4
            end = start + length
            if end > n:
                break
            self._frame(b0, bytes(buf[start:end]))
            pos = end
        if pos:
            del buf[:pos]

    # ---- frames --------------------------------------------------------------------------------

    def _frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        if opcode == 0x0 or not b0 & 0x80:  # fragmented message
            self._fragments.append(payload)
            if not b0 & 0x80:
                return
            payload, self._fragments = b"".join(self._fragments), []
            opcode = 0x1
        if opcode in (0x1, 0x2):
            self.frames_in += 1
            self._sockjs(payload)
        elif opcode == 0x8:
            self._closed_by_peer(1006, "websocket closed")
            if self._transport is not None:
                self._transport.close()
        elif opcode == 0x9 and self._transport is not None:  # ping -> pong
            self._transport.write(bytes((0x8A, 0x80)) + b"\0\0\0\0")

    def _sockjs(self, payload: bytes) -> None:
        kind = payload[:1]
        if kind == b"a":
            on_message = self.on_message
            for text in _loads(payload[1:]):
                on_message(text)
        elif kind == b"o":
            if not self._opened.done():
                self._opened.set_result(None)
        elif kind == b"c":
            try:
                code, reason = _loads(payload[1:])
            except ValueError:
                code, reason = 1006, "bad close frame"
            self._closed_by_peer(int(code), str(reason))
            if self._transport is not None:
                self._transport.close()

    def _closed_by_peer(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self.on_close(code, reason)

    def _fail(self, exc: Exception) -> None:
        if not self._opened.done():
            self._opened.set_exception(exc)
        if self._transport is not None:
            self._transport.abort()

    # ---- API -----------------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send one SockJS message (a JSON array of one string, as sockjs-client does)."""
        if self.closed or self._transport is None:
            return
        self._transport.write(_mask(_dumps([text]).encode()))

    def close(self) -> None:
        """Close without waiting (a websocket close frame, then the socket)."""
        if self._transport is not None and not self._transport.is_closing():
            try:
                self._transport.write(bytes((0x88, 0x80)) + b"\0\0\0\0")
            finally:
                self._transport.close()
        self.closed = True


class XhrConn:
    """xhr-streaming or xhr-polling through `realtime.client.FeltClient`, behind WsConn's interface."""

    def __init__(self, client: FeltClient) -> None:
        self.client = client
        self.transport_name = client.transport
        self.on_message: OnMessage = lambda text: None
        self.on_close: OnClose = lambda code, reason: None
        self.closed = False
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._tasks = [asyncio.ensure_future(self._pump_in()), asyncio.ensure_future(self._pump_out())]

    @classmethod
    async def open(cls, base: str, origin: str | None, transport: str, timeout: float = 10.0) -> XhrConn:
        check_loopback(base)
        return cls(await FeltClient.connect(base, transport, origin=origin, timeout=timeout))

    async def _pump_in(self) -> None:
        inbox = self.client.inbox
        while True:
            item = await inbox.get()
            if isinstance(item, Closed):
                if not self.closed:
                    self.closed = True
                    self.on_close(item.code, item.reason)
                return
            self.on_message(item)

    async def _pump_out(self) -> None:  # one xhr_send at a time keeps the order of messages
        while True:
            text = await self._outbox.get()
            try:
                await self.client.send_raw(text)
            except Exception:  # the session is gone: the inbound side reports the close
                if self.closed:
                    return

    def send(self, text: str) -> None:
        if not self.closed:
            self._outbox.put_nowait(text)

    def close(self) -> None:
        self.closed = True
        for task in self._tasks:
            task.cancel()
        asyncio.ensure_future(self.client.close())


async def open_conn(base: str, origin: str | None, transport: str = "websocket",
                    timeout: float = 10.0) -> Any:
    """A connected WsConn or XhrConn for `transport` ("websocket", "xhr_streaming", "xhr")."""
    if transport == "websocket":
        return await WsConn.open(base, origin, timeout)
    return await XhrConn.open(base, origin, transport, timeout)
