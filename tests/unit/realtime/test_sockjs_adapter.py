"""realtime.sockjs_adapter against real Tornado servers, speaking the SockJS wire protocol.

Each defect of sockjs-tornado 1.0.7 on Tornado 6.6 is first reproduced on a plain `SockJSRouter` mounted in
the same server under /plain ("defect reproduced" assertions), then shown fixed under /sockjs by our
adapter. Frames: `o` open, `h` heartbeat, `a[...]` messages, `c[code,"reason"]` close.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import itertools
import json
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from sockjs.tornado import SockJSConnection, SockJSRouter
from sockjs.tornado import router as sjs_router
from tornado import httpserver, testing, web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from common.config import Settings
from realtime.sockjs_adapter import Connection, Router, make_router

ALLOWED = "http://app.example"
EVIL = "http://evil.example"
HB = 0.3  # heartbeat seconds in these tests
WAIT = 2.0  # seconds any expected frame may take
TEXT = 'héllo "wörld" \\ </script> \u2028'

_ids = itertools.count(1)


def make_settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {"allowed_origins": [ALLOWED, "https://other.example:8443"],
                              "sockjs_heartbeat": HB, "max_frame_bytes": 1024,
                              "sockjs_url": "http://app.example/sockjs-test.js"}
    return Settings(**(values | changes))


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run the test in a fresh event loop; fail if it leaves tasks behind."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        async def main() -> None:
            await asyncio.wait_for(fn(*args, **kwargs), 10)
            me = asyncio.current_task()
            for _ in range(100):
                left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
                if not left:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(f"tasks left behind: {left}")

        asyncio.run(main())

    return wrapper


# ---- servers ---------------------------------------------------------------------------------------


class Record:
    """What the connections of one server did (handed to them as services, so nothing is global)."""

    def __init__(self) -> None:
        self.conns: list[Any] = []
        self.messages: list[tuple[Any, str]] = []
        self.closes: Counter[int] = Counter()
        self.close_in_open: tuple[int, str] | None = None
        self.changed = asyncio.Event()

    def note(self) -> None:
        self.changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)


class Echo(Connection):
    """Echoes; "close-me" closes with a reason that needs JSON escaping."""

    services: Record

    def on_open(self) -> None:
        rec = self.services
        rec.conns.append(self)
        rec.note()
        if rec.close_in_open:
            self.close(*rec.close_in_open)

    def on_message(self, text: str) -> None:
        self.services.messages.append((self, text))
        self.services.note()
        if text == "close-me":
            self.close(4000, 'bye "now" \\')
        else:
            self.send(text)

    def on_close(self) -> None:
        self.services.closes[id(self)] += 1
        self.services.note()
        self.send("after on_close")  # must not raise


class PlainRouter(SockJSRouter):
    """Plain sockjs-tornado's router, carrying the record of its `Plain` connections."""

    def __init__(self, record: Record, prefix: str, user_settings: dict[str, Any]) -> None:
        super().__init__(Plain, prefix, user_settings, io_loop=IOLoop.current())
        self.record = record


class Plain(SockJSConnection):
    """The same app on plain sockjs-tornado; its record hangs off its router."""

    @property
    def record(self) -> Record:
        router = self.session.server
        assert isinstance(router, PlainRouter)
        return router.record

    def on_open(self, request: Any) -> None:
        rec = self.record
        rec.conns.append(self)
        rec.note()
        if rec.close_in_open:
            self.close()

    def on_message(self, message: str) -> None:
        rec = self.record
        rec.messages.append((self, message))
        rec.note()
        if message == "close-me":
            self.session.close(4000, 'bye "now" \\')
        else:
            self.send(message)

    def on_close(self) -> None:
        self.record.closes[id(self)] += 1


class Env:
    def __init__(self, port: int, router: Router, rec: Record, plain: SockJSRouter, prec: Record) -> None:
        self.port, self.router, self.rec, self.plain, self.prec = port, router, rec, plain, prec
        self.http = AsyncHTTPClient(force_instance=True)
        self.own = f"http://127.0.0.1:{port}"
        self.opened: list[WebSocketClientConnection | RawStream] = []  # closed at teardown

    def url(self, path: str, prefix: str = "/sockjs") -> str:
        return f"http://127.0.0.1:{self.port}{prefix}{path}"

    async def fetch(self, path: str, method: str = "POST", body: bytes | str | None = None,
                    origin: str | None = None, prefix: str = "/sockjs", **kw: Any) -> HTTPResponse:
        headers = {"Origin": origin} if origin else {}
        if body is None and method == "POST":
            body = b""
        return await self.http.fetch(self.url(path, prefix), method=method, body=body, headers=headers,
                                     raise_error=False, request_timeout=WAIT * 2, **kw)

    async def ws(self, prefix: str = "/sockjs", origin: str | None = None) -> WebSocketClientConnection:
        url = f"ws://127.0.0.1:{self.port}{prefix}/000/{new_sid()}/websocket"
        headers = {"Origin": origin} if origin else {}
        ws = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=WAIT))
        self.opened.append(ws)
        return ws

    async def stream(self, transport: str, sid: str | None = None, prefix: str = "/sockjs",
                     origin: str | None = None) -> RawStream:
        stream = await RawStream.open(self.port, transport, f"{prefix}/000/{sid or new_sid()}/{transport}",
                                      origin)
        self.opened.append(stream)
        return stream


def new_sid() -> str:
    return f"s{next(_ids)}"


@contextlib.asynccontextmanager
async def serve(settings: Settings | None = None, conn_cls: type[Connection] = Echo) -> AsyncIterator[Env]:
    sock, port = testing.bind_unused_port()
    rec, prec = Record(), Record()
    router = make_router(conn_cls, rec, settings or make_settings())
    plain = PlainRouter(prec, "/plain", {"heartbeat_delay": HB, "disconnect_delay": 5})
    server = httpserver.HTTPServer(web.Application([*router.urls, *plain.urls]))
    server.add_sockets([sock])
    env = Env(port, router, rec, plain, prec)
    try:
        yield env
    finally:
        for client in env.opened:
            if isinstance(client, RawStream):
                await client.close()
            else:
                await ws_close(client)
        router.close_all()
        for conn in prec.conns:
            if not conn.is_closed:
                conn.session.close()
        plain._sessions_cleanup.stop()
        plain.stats._callback.stop()
        server.stop()
        await server.close_all_connections()
        env.http.close()


# ---- clients ---------------------------------------------------------------------------------------


class RawStream:
    """One streaming request (xhr_streaming POST, eventsource GET) on a raw socket, read frame by frame."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, transport: str) -> None:
        self.reader, self.writer, self.transport = reader, writer, transport
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunked = False
        self.buffer = ""
        self.eof = False

    @classmethod
    async def open(cls, port: int, transport: str, path: str, origin: str | None) -> RawStream:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        method = "GET" if transport.startswith(("eventsource", "htmlfile")) else "POST"
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += [f"Origin: {origin}"] if origin else []
        lines += ["Content-Length: 0"] if method == "POST" else []
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        self = cls(reader, writer, transport)
        status = await asyncio.wait_for(reader.readline(), WAIT)
        self.status = int(status.split()[1])
        while (line := (await reader.readline()).decode().strip()):
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        return self

    async def _more(self) -> None:
        if self.chunked:
            size = int((await self.reader.readline()).strip() or b"0", 16)
            data = (await self.reader.readexactly(size + 2))[:-2] if size else b""
        else:
            data = await self.reader.read(65536)
        if not data:
            self.eof = True
        self.buffer += data.decode()

    def _take(self) -> str | None:
        sep = "\r\n\r\n" if self.transport == "eventsource" else "\n"
        while sep in self.buffer:
            item, self.buffer = self.buffer.split(sep, 1)
            item = item.strip("\r\n")
            if self.transport == "eventsource":
                if item.startswith("data: "):
                    return item[len("data: "):]
            elif item and item != "h" * 2048:  # skip the xhr_streaming prelude
                return item
        return None

    async def frame(self, timeout: float = WAIT, skip_h: bool = True) -> str | None:
        """The next SockJS frame (heartbeats skipped unless `skip_h` is false), or None at the end."""

        async def read() -> str | None:
            while (frame := self._take()) is None or (skip_h and frame == "h"):
                if self.eof:
                    return None
                await self._more()
            return frame

        return await asyncio.wait_for(read(), timeout)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def ws_frame(ws: WebSocketClientConnection, timeout: float = WAIT, skip_h: bool = True) -> str | None:
    """The next frame (heartbeats skipped unless `skip_h` is false), None once the websocket closed."""

    async def read() -> str | None:
        while (frame := await ws.read_message()) == "h" and skip_h:
            pass
        if frame is None:
            ws.drained = True  # type: ignore[attr-defined]  # closed: nothing more will come
        return frame if frame is None or isinstance(frame, str) else frame.decode()

    return await asyncio.wait_for(read(), timeout)


async def ws_close(ws: WebSocketClientConnection) -> None:
    """Close and drain: tornado's client blocks its reader (and never closes) while its queue is full."""
    ws.close()
    if getattr(ws, "drained", False):
        return
    ws.drained = True  # type: ignore[attr-defined]
    with contextlib.suppress(asyncio.TimeoutError):
        while await ws_frame(ws, timeout=WAIT) is not None:
            pass


def kill(ws: WebSocketClientConnection) -> None:
    """Drop a websocket client abruptly: RST, no close frame."""
    protocol = ws.protocol
    assert protocol is not None and protocol.stream is not None, "the websocket is not connected"
    stream = protocol.stream
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.close()


def messages(frame: str | None) -> list[str]:
    assert frame is not None and frame.startswith("a"), frame
    texts: list[str] = json.loads(frame[1:])
    return texts


def close_of(frame: str | None) -> list[Any]:
    assert frame is not None and frame.startswith("c"), frame
    code_and_reason: list[Any] = json.loads(frame[1:])
    return code_and_reason


class Client:
    """One session on any transport, for round trips."""

    def __init__(self, env: Env, transport: str, prefix: str = "/sockjs") -> None:
        self.env, self.transport, self.prefix = env, transport, prefix
        self.sid = new_sid()
        self.ws: WebSocketClientConnection | None = None
        self.stream: RawStream | None = None
        self.pending: list[str] = []

    async def open(self) -> str | None:
        if self.transport == "websocket":
            url = f"ws://127.0.0.1:{self.env.port}{self.prefix}/000/{self.sid}/websocket"
            self.ws = await websocket_connect(url)
            self.env.opened.append(self.ws)
            return await ws_frame(self.ws)
        if self.transport == "xhr":
            return await self.poll()
        self.stream = await self.env.stream(self.transport, self.sid, self.prefix)
        assert self.stream.status == 200
        return await self.stream.frame()

    async def poll(self) -> str | None:
        resp = await self.env.fetch(f"/000/{self.sid}/xhr", prefix=self.prefix)
        assert resp.code == 200, resp
        frames = resp.body.decode().splitlines()
        assert len(frames) == 1, frames
        return frames[0]

    async def send(self, *texts: str) -> int:
        """Send texts in one transport frame; the HTTP status for xhr_send (0 on websocket)."""
        if self.ws is not None:
            try:
                await self.ws.write_message(json.dumps(list(texts)))
            except WebSocketClosedError:
                return -1
            return 0
        resp = await self.env.fetch(f"/000/{self.sid}/xhr_send", body=json.dumps(list(texts)),
                                    prefix=self.prefix)
        return resp.code

    async def frame(self, skip_h: bool = True) -> str | None:
        if self.ws is not None:
            return await ws_frame(self.ws, skip_h=skip_h)
        if self.stream is not None:
            return await self.stream.frame(skip_h=skip_h)
        while (frame := await self.poll()) == "h" and skip_h:
            pass
        return frame

    async def close(self) -> None:
        if self.ws is not None:
            await ws_close(self.ws)
        if self.stream is not None:
            await self.stream.close()


ALL = ["websocket", "xhr", "xhr_streaming", "eventsource"]


# ---- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ALL)
@async_test
async def test_echo_round_trip(transport: str) -> None:
    async with serve() as env:
        client = Client(env, transport)
        assert await client.open() == "o"
        assert await client.send(TEXT, "second") in (0, 204)
        got: list[str] = []
        while len(got) < 2:
            got += messages(await client.frame())
        assert got == [TEXT, "second"]
        conn = env.rec.conns[0]
        assert (conn.transport, conn.remote_ip, conn.closed) == (transport, "127.0.0.1", False)
        assert conn.services is env.rec
        await client.close()


class Burst(Echo):
    """Answers "burst" with three messages sent in one go (as a move's ack and views reach one player)."""

    def on_message(self, text: str) -> None:
        if text == "burst":
            for i in range(3):
                self.send(f"{TEXT} {i}")
        else:
            super().on_message(text)


@pytest.mark.parametrize("transport", ALL)
@async_test
async def test_what_one_pass_sends_leaves_in_one_frame(transport: str) -> None:
    async with serve(conn_cls=Burst) as env:
        client = Client(env, transport)
        assert await client.open() == "o"
        assert await client.send("burst") in (0, 204)
        assert messages(await client.frame()) == [f"{TEXT} {i}" for i in range(3)]  # one `a[...]`, in order
        assert await client.send("after") in (0, 204)
        assert messages(await client.frame()) == ["after"]
        await client.close()


# ---- B1: close from the app, even in on_open -------------------------------------------------------


@async_test
async def test_b1_plain_sockjs_close_in_on_open_leaves_xhr_session_open() -> None:
    async with serve() as env:
        env.prec.close_in_open = (3000, "Go away!")
        client = Client(env, "xhr", prefix="/plain")
        assert await client.open() == "o"
        # defect reproduced: the close raised inside sockjs; the session is still open and delivering
        assert await client.send("hi") == 204
        assert [text for _, text in env.prec.messages] == ["hi"]
        assert not env.prec.closes


@pytest.mark.parametrize("transport", ALL)
@async_test
async def test_b1_close_in_on_open_closes_every_transport(transport: str) -> None:
    async with serve() as env:
        env.rec.close_in_open = (4001, 'auth "failed"')
        client = Client(env, transport)
        assert await client.open() == "o"
        assert close_of(await client.frame()) == [4001, 'auth "failed"']
        if transport == "websocket":
            assert await client.frame() is None  # the websocket itself is closed
        elif transport != "xhr":
            assert await client.frame() is None  # the stream ended
            assert client.stream is not None and client.stream.eof
        else:
            assert close_of(await client.poll()) == [4001, 'auth "failed"']  # and stays closed
        # later sends are refused, and nothing ever reaches the app
        xhr_send = await env.fetch(f"/000/{client.sid}/xhr_send", body='["hi"]')
        assert xhr_send.code == 404
        conn = env.rec.conns[0]
        assert conn.closed
        assert env.rec.messages == []
        assert env.rec.closes == {id(conn): 1}
        conn.send("ignored")  # no exception
        await client.close()


@pytest.mark.parametrize("transport", ["websocket", "xhr", "xhr_streaming"])
@async_test
async def test_messages_after_close_never_reach_the_app(transport: str) -> None:
    async with serve() as env:
        client = Client(env, transport)
        assert await client.open() == "o"
        await client.send("one", "close-me", "after")  # one transport frame
        got = []
        while (frame := await client.frame()) and frame.startswith("a"):
            got += messages(frame)
        assert got == ["one"]
        assert close_of(frame) == [4000, 'bye "now" \\']  # a well-formed close frame
        await asyncio.sleep(0.05)
        assert [text for _, text in env.rec.messages] == ["one", "close-me"]
        assert await client.send("later") in (-1, 404)
        await asyncio.sleep(0.05)
        assert [text for _, text in env.rec.messages] == ["one", "close-me"]
        assert list(env.rec.closes.values()) == [1]
        await client.close()


@async_test
async def test_plain_sockjs_close_frame_is_not_json() -> None:
    async with serve() as env:
        client = Client(env, "websocket", prefix="/plain")
        assert await client.open() == "o"
        await client.send("close-me")
        frame = await client.frame()
        assert frame == 'c[4000,"bye "now" \\"]'  # defect reproduced: the reason is not escaped
        with pytest.raises(ValueError):
            json.loads(frame[1:])
        await client.close()


@async_test
async def test_send_before_close_is_delivered_first_on_polling() -> None:
    async with serve() as env:
        client = Client(env, "xhr")
        assert await client.open() == "o"
        conn = env.rec.conns[0]
        conn.send("last words")
        conn.close(4002, "replaced")
        conn.send("dropped")
        assert conn.closed
        assert messages(await client.poll()) == ["last words"]
        assert close_of(await client.poll()) == [4002, "replaced"]
        assert env.rec.closes == {id(conn): 1}


# ---- B2: a dead websocket in a fan-out -------------------------------------------------------------


@async_test
async def test_b2_plain_sockjs_dead_websocket_breaks_fan_out() -> None:
    async with serve() as env:
        dead, healthy = await env.ws("/plain"), await env.ws("/plain")
        assert await ws_frame(dead) == "o" and await ws_frame(healthy) == "o"
        await env.prec.until(lambda: len(env.prec.conns) == 2)
        kill(dead)
        raised = None
        for i in range(20):  # no loop turn in between: the server has not noticed yet
            try:
                env.plain.broadcast(env.prec.conns, f"m{i}")
            except WebSocketClosedError as exc:
                raised = (i, exc)
                break
        # defect reproduced: the fan-out raised to its caller and the healthy client missed the message
        assert raised is not None
        got = []
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                got += messages(await ws_frame(healthy, 0.3))
        assert f"m{raised[0]}" not in got
        await ws_close(healthy)


@async_test
async def test_b2_dead_websocket_does_not_hurt_the_others(caplog: pytest.LogCaptureFixture) -> None:
    async with serve() as env:
        dead, healthy = await env.ws(), await env.ws()
        assert await ws_frame(dead) == "o" and await ws_frame(healthy) == "o"
        await env.rec.until(lambda: len(env.rec.conns) == 2)
        dead_conn, healthy_conn = env.rec.conns
        kill(dead)
        for i in range(10):
            env.router.broadcast(env.rec.conns, f"b{i}")  # never raises
        for conn in env.rec.conns:
            conn.send("direct")  # nor does sending to many, one by one
        got: list[str] = []
        while len(got) < 11:
            got += messages(await ws_frame(healthy))
        assert got == [f"b{i}" for i in range(10)] + ["direct"]
        # the dead one is closed cleanly, once; the healthy one stays open and working
        await env.rec.until(lambda: env.rec.closes[id(dead_conn)] == 1)
        assert dead_conn.closed and not healthy_conn.closed
        await healthy.write_message('["still here"]')
        assert messages(await ws_frame(healthy)) == ["still here"]
        env.router.broadcast([dead_conn, healthy_conn], "after")
        assert messages(await ws_frame(healthy)) == ["after"]
        assert env.rec.closes == {id(dead_conn): 1}
        await ws_close(healthy)
    gc.collect()
    assert "never retrieved" not in caplog.text  # failed writes were all handled


# ---- B3: heartbeats ----------------------------------------------------------------------------------


async def first_heartbeat(client: Client) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    frame = await client.frame(skip_h=False)
    assert frame == "h", frame
    return loop.time() - start


@async_test
async def test_b3_heartbeats_on_every_transport() -> None:
    async with serve() as env:
        ours = [Client(env, t) for t in ALL]
        plain = [Client(env, t, prefix="/plain") for t in ("xhr_streaming", "eventsource")]
        for client in ours + plain:
            assert await client.open() == "o"
        waited = await asyncio.gather(*(first_heartbeat(c) for c in ours))
        assert all(w < 3 * HB for w in waited), waited
        second = await asyncio.gather(*(first_heartbeat(c) for c in ours if c.transport != "xhr"))
        assert all(w < 3 * HB for w in second), second
        # defect reproduced: plain sockjs never sends a heartbeat on its streaming transports
        async def silent(client: Client) -> None:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.frame(skip_h=False), 3 * HB)

        await asyncio.gather(*(silent(c) for c in plain))
        assert len(env.router.heartbeats) >= len(ours) - 1  # one wheel: every attached session is in it
        for client in ours + plain:
            await client.close()
        loop = asyncio.get_running_loop()
        until = loop.time() + WAIT
        while len(env.router.heartbeats) and loop.time() < until:
            await asyncio.sleep(0.01)
        assert len(env.router.heartbeats) == 0, "a session gone from its transport leaves the wheel"


@async_test
async def test_an_open_websocket_keeps_nothing_of_its_handshake() -> None:
    """Tornado's handshake awaited the websocket's reading for the connection's whole life, its chain of
    coroutines holding what the upgrade built (about 5 KiB of an idle player): here it ends once the
    websocket is open, the socket is read on the stream's callbacks (no task either), and the request
    forgets its headers; the socket still carries messages both ways."""
    async with serve() as env:
        ws = await env.ws()
        assert await ws_frame(ws) == "o"
        await ws.write_message('["hello"]')
        assert await ws_frame(ws) == 'a["hello"]'
        (session,) = [s for s in env.router._live if s.handler is not None]
        request = session.handler.request
        assert not list(request.headers.get_all()), "no header of the handshake is kept"
        assert not list(session.handler._headers.get_all()), "nor of its answer"
        waiting = sorted(t.get_coro().__qualname__ for t in asyncio.all_tasks())  # type: ignore[union-attr]
        assert not [name for name in waiting if "_execute" in name], f"the handshake has ended: {waiting}"
        assert not [name for name in waiting if name.startswith("_WebSocket13")], "it reads on callbacks"
        info = session.conn_info
        assert info is not None and info.ip == "127.0.0.1" and not info.headers
        await ws.write_message('["again"]')
        assert await ws_frame(ws) == 'a["again"]'


# ---- B4: jsonp and htmlfile ------------------------------------------------------------------------


@async_test
async def test_b4_plain_sockjs_reflects_and_mangles_callbacks() -> None:
    async with serve() as env:
        evil = "x</script><script>alert(1)//"
        resp = await env.fetch(f"/000/{new_sid()}/jsonp?c={evil}", method="GET", prefix="/plain")
        assert resp.code == 200 and resp.body.decode().startswith(evil + '("o")')  # defect reproduced
        stream = await env.stream("htmlfile?c=_jp.a1b2", prefix="/plain")
        assert stream.status == 200
        while "parent." not in stream.buffer:
            await stream._more()
        assert "var c = parent.jpa1b2;" in stream.buffer  # defect reproduced: a valid callback mangled
        await stream.close()


@async_test
async def test_b4_jsonp_htmlfile_and_legacy_endpoints_are_gone() -> None:
    async with serve() as env:
        sid = new_sid()
        for path, method in [(f"/000/{sid}/jsonp?c=cb", "GET"), (f"/000/{sid}/jsonp_send", "POST"),
                             (f"/000/{sid}/htmlfile?c=cb", "GET"), ("/chunking_test", "POST"),
                             ("/websocket", "GET")]:
            resp = await env.fetch(path, method=method, body=b"d=%5B%22x%22%5D" if method == "POST" else None)
            assert resp.code == 404, path
        assert env.rec.conns == []


# ---- origins -----------------------------------------------------------------------------------------


def origin_case(env: Env, kind: str) -> tuple[str | None, bool]:
    return {"allowed": (ALLOWED, True), "allowed-default-port": ("http://APP.example:80", True),
            "other-allowed": ("https://other.example:8443", True), "evil": (EVIL, False),
            "null": ("null", False), "none": (None, True), "own": (env.own, True),
            "evil-port": ("http://127.0.0.1:1", False)}[kind]


KINDS = ["allowed", "allowed-default-port", "other-allowed", "evil", "null", "none", "own", "evil-port"]


@pytest.mark.parametrize("kind", KINDS)
@async_test
async def test_origin_allow_list_websocket(kind: str) -> None:
    async with serve() as env:
        origin, ok = origin_case(env, kind)
        if ok:
            ws = await env.ws(origin=origin)
            assert await ws_frame(ws) == "o"
            await ws_close(ws)
        else:
            with pytest.raises(HTTPClientError) as err:
                await env.ws(origin=origin)
            assert err.value.code == 403
            assert env.rec.conns == []


@pytest.mark.parametrize("kind", KINDS)
@async_test
async def test_origin_allow_list_http_transports(kind: str) -> None:
    async with serve() as env:
        origin, ok = origin_case(env, kind)
        sid = new_sid()
        poll = await env.fetch(f"/000/{sid}/xhr", origin=origin)
        send = await env.fetch(f"/000/{sid}/xhr_send", body='["x"]', origin=origin)
        info = await env.fetch("/info", method="GET", origin=origin)
        preflight = await env.fetch(f"/000/{sid}/xhr", method="OPTIONS", origin=origin)
        streams = [await env.stream(t, origin=origin) for t in ("xhr_streaming", "eventsource")]
        for stream in streams:
            await stream.close()
        codes = [poll.code, send.code, info.code, preflight.code, *(s.status for s in streams)]
        acao = {r.headers.get("Access-Control-Allow-Origin") for r in (poll, send, info, preflight)}
        acao |= {s.headers.get("access-control-allow-origin") for s in streams}
        if not ok:
            assert codes == [403] * 6
            assert acao == {None}
            assert env.rec.conns == []
        else:
            assert codes == [200, 204, 200, 204, 200, 200]
            assert acao == {origin}  # echoes only an allowed origin; nothing without an Origin
            assert poll.body == b"o\n"
            assert [text for _, text in env.rec.messages] == ["x"]


@async_test
async def test_plain_sockjs_accepts_and_echoes_any_origin() -> None:
    async with serve() as env:
        resp = await env.fetch(f"/000/{new_sid()}/xhr", origin=EVIL, prefix="/plain")
        assert (resp.code, resp.headers.get("Access-Control-Allow-Origin")) == (200, EVIL)  # reproduced
        ws = await env.ws("/plain", origin=EVIL)
        assert await ws_frame(ws) == "o"
        await ws_close(ws)


@async_test
async def test_two_routers_in_one_process_do_not_interfere() -> None:
    sock, port = testing.bind_unused_port()
    a = make_router(Echo, Record(), make_settings(), prefix="/a")
    b = make_router(Echo, Record(), make_settings(allowed_origins=[EVIL], sockjs_heartbeat=60),
                    prefix="/b/")
    server = httpserver.HTTPServer(web.Application([*a.urls, *b.urls]))
    server.add_sockets([sock])
    http = AsyncHTTPClient(force_instance=True)
    try:
        async def code(prefix: str, origin: str) -> int:
            resp = await http.fetch(f"http://127.0.0.1:{port}{prefix}/info", headers={"Origin": origin},
                                    raise_error=False)
            return resp.code

        assert [await code("/a", ALLOWED), await code("/a", EVIL)] == [200, 403]
        assert [await code("/b", ALLOWED), await code("/b", EVIL)] == [403, 200]
        assert sjs_router.DEFAULT_SETTINGS["websocket_allow_origin"] == "*"
        assert "jsonp" in sjs_router.TRANSPORTS and sjs_router.DEFAULT_SETTINGS["disabled_transports"] == []
    finally:
        a.close_all()
        b.close_all()
        server.stop()
        await server.close_all_connections()
        http.close()


@async_test
async def test_iframe_page_info_and_greeting() -> None:
    async with serve() as env:
        iframe = await env.fetch("/iframe.html", method="GET")
        assert iframe.code == 200 and b'src="http://app.example/sockjs-test.js"' in iframe.body
        info = json.loads((await env.fetch("/info", method="GET")).body)
        assert info["websocket"] is True and info["cookie_needed"] is False
        assert (await env.fetch("", method="GET")).body == b"Welcome to SockJS!\n"


# ---- lifecycle -------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["client-closes", "app-closes", "app-then-client", "close-all"])
@pytest.mark.parametrize("transport", ["websocket", "xhr_streaming"])
@async_test
async def test_on_close_exactly_once(transport: str, how: str) -> None:
    async with serve() as env:
        client = Client(env, transport)
        assert await client.open() == "o"
        await env.rec.until(lambda: len(env.rec.conns) == 1)
        conn = env.rec.conns[0]
        if how == "client-closes":
            await client.close()
        elif how in ("app-closes", "app-then-client"):
            conn.close()
            conn.close()  # twice is fine
            conn.send("after close")  # no exception, nothing sent
            assert close_of(await client.frame()) == [3000, "Go away!"]
            if how == "app-then-client":
                await client.close()
        else:
            env.router.close_all()
            assert env.rec.closes[id(conn)] == 1  # synchronous
            assert close_of(await client.frame()) == [1001, "Server shutting down"]
        await env.rec.until(lambda: env.rec.closes[id(conn)] >= 1)
        await asyncio.sleep(0.1)
        assert env.rec.closes == {id(conn): 1}
        assert conn.closed
        conn.send("after on_close")
        conn.close()
        await client.close()


@async_test
async def test_after_close_all_new_sessions_are_refused() -> None:
    async with serve() as env:
        env.router.close_all()
        assert (await env.fetch(f"/000/{new_sid()}/xhr")).code == 503
        with pytest.raises(HTTPClientError) as err:
            await env.ws()
        assert err.value.code == 503


@async_test
async def test_oversized_frames_close_the_session() -> None:
    async with serve() as env:
        big = "x" * (7 * 1024)
        ws = Client(env, "websocket")
        assert await ws.open() == "o"
        await ws.send(big)
        assert close_of(await ws.frame()) == [1009, "Message too big"]  # a SockJS close, then the end
        assert await ws.frame() is None
        xhr = Client(env, "xhr")
        assert await xhr.open() == "o"
        assert await xhr.send(big) == 413
        assert close_of(await xhr.poll()) == [1009, "Message too big"]
        assert env.rec.messages == []
        await env.rec.until(lambda: sum(env.rec.closes.values()) == 2)
        ok = Client(env, "websocket")
        assert await ok.open() == "o"
        await ok.send("é" * 1000)  # under the app's limit even with escaping
        assert messages(await ok.frame()) == ["é" * 1000]
        await ok.close()


@async_test
async def test_app_exceptions_close_only_that_connection() -> None:
    class Broken(Echo):
        def on_message(self, text: str) -> None:
            raise RuntimeError("bug")

    async with serve(conn_cls=Broken) as env:
        client = Client(env, "xhr")
        assert await client.open() == "o"
        assert await client.send("x") == 204
        assert close_of(await client.poll()) == [1011, "Internal error"]
        assert list(env.rec.closes.values()) == [1]


def test_make_router_needs_the_running_loop_and_valid_origins() -> None:
    with pytest.raises(RuntimeError, match="running event loop"):
        make_router(Echo, None, make_settings())

    async def bad() -> None:
        with pytest.raises(ValueError, match="allowed_origins"):
            make_router(Echo, None, make_settings(allowed_origins=["app.example"]))
        with pytest.raises(TypeError):
            make_router(Plain, None, make_settings())  # type: ignore[arg-type]

    asyncio.run(bad())


def test_connection_unattached_is_inert() -> None:
    conn = Echo(Record.__new__(Record))
    conn.send("nothing")
    conn.close()
    assert conn.closed and conn.transport == "" and conn.remote_ip is None
