"""A Python client of Felt's realtime tier, speaking the SockJS wire protocol itself.

For tests, scripted players and the load generator: `FeltClient.connect(url, transport=...)` over
websocket, xhr-streaming or xhr-polling, then `send`/`recv` protocol messages. It is a client, so it
imports no server code; only the protocol module.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import msgspec
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from common import protocol as p

TRANSPORTS = ("websocket", "xhr_streaming", "xhr")


class Closed(Exception):
    """The server closed the session: `code` and `reason` from its close frame."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code} {reason}")
        self.code, self.reason = code, reason


class FeltClient:
    def __init__(self, base: str, transport: str, origin: str | None, source: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.transport = transport
        self.origin = origin
        self.source = source  # the local address to connect from (any of 127.0.0.0/8 on loopback)
        self.session = f"{secrets.randbelow(1000):03d}/{secrets.token_hex(8)}"
        self.inbox: asyncio.Queue[str | Closed] = asyncio.Queue()
        self.closed: Closed | None = None
        self._ws: WebSocketClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._http = AsyncHTTPClient(force_instance=True)
        self._req = 0
        self.unmatched: deque[p.ServerMessage] = deque()
        #: (table, deal) -> the random value this client contributed to that fair deal (hex)
        self.contributions: dict[tuple[str, int], str] = {}

    # ---- connecting ----------------------------------------------------------------------------

    @classmethod
    async def connect(cls, url: str, transport: str = "websocket", origin: str | None = None,
                      timeout: float = 10.0, source: str | None = None) -> FeltClient:
        """Open a SockJS session to `url` (e.g. http://127.0.0.1:8101/sockjs) and wait for its open frame;
        `source`: the local address to connect from."""
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}")
        client = cls(url, transport, origin, source)
        await asyncio.wait_for(client._open(), timeout)
        return client

    def _headers(self) -> dict[str, str]:
        return {"Origin": self.origin} if self.origin else {}

    async def _open(self) -> None:
        if self.transport == "websocket":
            parts = urlsplit(self.base)
            scheme = "wss" if parts.scheme == "https" else "ws"
            ws_url = f"{scheme}://{parts.netloc}{parts.path}/{self.session}/websocket"
            self._ws = await websocket_connect(HTTPRequest(ws_url, headers=self._headers(),
                                                           network_interface=self.source))
            first = await self._ws.read_message()
            if first != "o":
                raise ConnectionError(f"expected SockJS open frame, got {first!r}")
            self._reader = asyncio.ensure_future(self._read_ws())
        elif self.transport == "xhr":
            frames = await self._post("xhr", b"")
            if frames[:1] != "o":
                raise ConnectionError(f"expected SockJS open frame, got {frames!r}")
            self._reader = asyncio.ensure_future(self._poll())
        else:
            opened = asyncio.get_running_loop().create_future()
            self._reader = asyncio.ensure_future(self._stream(opened))
            await opened

    async def _post(self, what: str, body: bytes, **kw: Any) -> str:
        resp = await self._http.fetch(f"{self.base}/{self.session}/{what}", method="POST", body=body,
                                      headers=self._headers(), request_timeout=kw.pop("timeout", 60),
                                      network_interface=self.source, **kw)
        return resp.body.decode() if resp.body else ""

    # ---- receiving -----------------------------------------------------------------------------

    def _on_frame(self, frame: str) -> bool:
        """Handle one SockJS frame; False when the session is over."""
        kind = frame[:1]
        if kind == "a":
            for text in json.loads(frame[1:]):
                self.inbox.put_nowait(text)
        elif kind == "c":
            code, reason = json.loads(frame[1:])
            self.closed = Closed(code, reason)
            self.inbox.put_nowait(self.closed)
            return False
        return True  # "o" and "h"

    async def _read_ws(self) -> None:
        assert self._ws is not None
        while True:
            frame = await self._ws.read_message()
            if frame is None:
                self._on_frame('c[1006,"connection lost"]')
                return
            if not self._on_frame(frame if isinstance(frame, str) else frame.decode()):
                return

    async def _poll(self) -> None:
        try:
            while True:
                frames = await self._post("xhr", b"")
                for frame in frames.splitlines():
                    if not self._on_frame(frame):
                        return
        except Exception:
            if self.closed is None:
                self._on_frame('c[1006,"connection lost"]')

    async def _stream(self, opened: asyncio.Future[None]) -> None:
        buffer = ""

        def on_chunk(chunk: bytes) -> None:
            nonlocal buffer
            buffer += chunk.decode()
            while "\n" in buffer:
                frame, buffer = buffer.split("\n", 1)
                if frame == "o" and not opened.done():
                    opened.set_result(None)
                elif frame.strip("h") and frame[:1] in "ac":
                    self._on_frame(frame)

        try:
            await self._post("xhr_streaming", b"", streaming_callback=on_chunk, timeout=3600)
        except Exception as exc:
            if not opened.done():
                opened.set_exception(exc)
        if self.closed is None:
            self._on_frame('c[1006,"stream ended"]')

    # ---- API -----------------------------------------------------------------------------------

    async def send_raw(self, text: str) -> None:
        """Send one text frame as is (tests use it for malformed input)."""
        await self.send_together([text])

    async def send_together(self, texts: list[str]) -> None:
        """Send several messages in one SockJS frame: the server receives them back to back."""
        if self._ws is not None:
            await self._ws.write_message(json.dumps(texts))
        else:
            await self._post("xhr_send", json.dumps(texts).encode())

    async def send(self, msg: msgspec.Struct) -> None:
        await self.send_raw(p.encode_str(msg))

    async def recv_text(self, timeout: float = 5.0) -> str:
        item = await asyncio.wait_for(self.inbox.get(), timeout)
        if isinstance(item, Closed):
            self.inbox.put_nowait(item)  # stays closed for every later reader
            raise item
        return item

    async def recv(self, timeout: float = 5.0) -> p.ServerMessage:
        if self.unmatched:
            return self.unmatched.popleft()
        return p.decode_server(await self.recv_text(timeout))

    def next_req(self) -> int:
        self._req += 1
        return self._req

    async def request(self, msg: Any, timeout: float = 5.0) -> p.ServerMessage:
        """Send a message with a fresh `req` and return the reply carrying it (ack, error, tables ...).

        Other messages that arrive meanwhile stay queued for `recv`, in order.
        """
        msg.req = self.next_req()
        await self.send(msg)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        held: list[p.ServerMessage] = []
        try:
            while True:
                reply = p.decode_server(await self.recv_text(max(0.01, deadline - loop.time())))
                if getattr(reply, "req", None) == msg.req and not isinstance(reply, (p.View, p.GameOver)):
                    return reply
                held.append(reply)
        finally:
            self.unmatched.extend(held)

    async def contribute(self, view: p.View) -> bool:
        """Answer a view announcing a fair deal this seat contributes to with 32 fresh random bytes (once
        per deal), as the browser client does. True if it sent one."""
        fair = view.fair
        if fair is None or fair.dealt or view.seat is None or view.seat not in fair.seats \
                or view.seat in fair.contributed or (view.table, fair.deal) in self.contributions:
            return False
        value = secrets.token_hex(32)
        self.contributions[(view.table, fair.deal)] = value
        await self.send(p.Entropy(table=view.table, deal=fair.deal, commitment=fair.commitment, value=value,
                                  req=self.next_req()))
        return True

    async def auth(self, token: str, protocol: int = 1) -> p.ServerMessage:
        """Authenticate, speaking client `protocol` (2: an applied act is answered by the mover's view,
        which carries its `req`); the `welcome`, or the error."""
        await self.send(p.Auth(token=token, protocol=protocol))
        return await self.recv()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # cancelled, or the session had already failed
                pass
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        self._http.close()
