"""realtime.sockjs_adapter under hostile clients, on real Tornado servers: deep and oversized frames on every
transport, and a reader that stalls (a bounded backlog, then a notice and close 4008; others unaffected).
"""

from __future__ import annotations

import json
from typing import Any

from realtime.sockjs_adapter import CLOSE_TOO_SLOW
from tests.hostile import StalledWebSocket
from tests.unit.realtime.test_sockjs_adapter import (
    ALLOWED,
    Echo,
    async_test,
    make_settings,
    messages,
    new_sid,
    serve,
    ws_frame,
)

DEEP = "[" * 3000 + "]" * 3000  # deeper than Python's recursion limit, within the frame size limit


class Guarded(Echo):
    """Echo that answers a refused frame and a fall-behind as the real app does, and floods on request."""

    def on_refused_frame(self, code: str, detail: str) -> None:
        self.services.messages.append((self, f"refused {code}"))
        self.services.note()
        self.send(f"refused {code}")

    def backlog_notice(self) -> str | None:
        return "too slow"

    def on_message(self, text: str) -> None:
        if text.startswith("flood "):
            _, count, size = text.split()
            for _ in range(int(count)):
                self.send("x" * int(size))  # a no-op once the connection is closed
            return
        super().on_message(text)


def refused(rec: Any) -> list[str]:
    return [text for _, text in rec.messages if text.startswith("refused ")]


# ---- deep and oversized frames ---------------------------------------------------------------------


@async_test
async def test_deep_websocket_frame_is_refused_and_the_connection_keeps_working() -> None:
    async with serve(conn_cls=Guarded) as env:
        ws = await env.ws(origin=ALLOWED)
        assert await ws_frame(ws) == "o"
        await ws.write_message(DEEP)
        assert messages(await ws_frame(ws)) == ["refused bad_json"]
        await ws.write_message('[["nested"]]')  # a SockJS frame is an array of strings: deeper is refused
        assert messages(await ws_frame(ws)) == ["refused bad_json"]
        await ws.write_message(json.dumps(["still here"]))
        assert messages(await ws_frame(ws)) == ["still here"]
        assert env.router.counters["refused_bad_json"] == 2


@async_test
async def test_deep_xhr_send_is_refused_without_a_500() -> None:
    async with serve(conn_cls=Guarded) as env:
        sid = new_sid()
        assert (await env.fetch(f"/000/{sid}/xhr", origin=ALLOWED)).body.strip() == b"o"
        answer = await env.fetch(f"/000/{sid}/xhr_send", body=DEEP, origin=ALLOWED)
        assert answer.code == 204
        poll = await env.fetch(f"/000/{sid}/xhr", origin=ALLOWED)
        assert messages(poll.body.decode().strip()) == ["refused bad_json"]
        answer = await env.fetch(f"/000/{sid}/xhr_send", body=json.dumps(["fine"]), origin=ALLOWED)
        assert answer.code == 204
        poll = await env.fetch(f"/000/{sid}/xhr", origin=ALLOWED)
        assert messages(poll.body.decode().strip()) == ["fine"]


@async_test
async def test_oversized_websocket_frames_get_a_word_before_the_close() -> None:
    # max_frame_bytes 1024: the transport limit is 6 * 1024 + 1024; Tornado reads up to twice that
    async with serve(conn_cls=Guarded) as env:
        limit = env.router.frame_limit
        for size in (limit + 10, 3 * limit):  # read whole and refused by us / cut off by Tornado
            ws = await env.ws(origin=ALLOWED)
            assert await ws_frame(ws) == "o"
            await ws.write_message(json.dumps(["y" * size]))
            assert messages(await ws_frame(ws)) == ["refused too_large"], size
            assert await ws_frame(ws) == 'c[1009,"Message too big"]'
        assert env.router.counters["refused_too_large"] == 2
        assert all(conn.closed for conn in env.rec.conns)


@async_test
async def test_oversized_xhr_send_gets_a_word_then_the_close() -> None:
    async with serve(conn_cls=Guarded) as env:
        sid = new_sid()
        await env.fetch(f"/000/{sid}/xhr", origin=ALLOWED)
        answer = await env.fetch(f"/000/{sid}/xhr_send", body=json.dumps(["z" * 20000]), origin=ALLOWED)
        assert answer.code == 413
        poll = (await env.fetch(f"/000/{sid}/xhr", origin=ALLOWED)).body.decode()
        assert "refused too_large" in poll
        assert env.rec.conns[0].closed


# ---- a reader that stalls --------------------------------------------------------------------------


@async_test
async def test_a_stalled_websocket_reader_is_told_and_closed_with_a_bounded_backlog() -> None:
    settings = make_settings(max_out_bytes=64 * 1024, max_out_frames=10_000)
    async with serve(settings, conn_cls=Guarded) as env:
        healthy = await env.ws(origin=ALLOWED)
        assert await ws_frame(healthy) == "o"
        stalled = await StalledWebSocket.open(env.port, f"/sockjs/000/{new_sid()}/websocket", ALLOWED)
        try:
            await env.rec.until(lambda: len(env.rec.conns) == 2)
            slow = env.rec.conns[1]
            stalled.send(json.dumps(["flood 4000 8192"]))  # 32 MiB, far more than the kernel buffers hold
            await env.rec.until(lambda: slow.closed)
            assert env.router.counters["too_slow"] == 1
            handler = slow._session.handler if slow._session else None
            if handler is not None:  # still flushing: what it holds stays within the bound (+ one frame)
                assert handler.felt_pending()[0] <= 64 * 1024 + 8192 + 100
            # the other connection is not held up
            await healthy.write_message(json.dumps(["ping"]))
            assert messages(await ws_frame(healthy)) == ["ping"]
            # the stalled client, once it reads, finds the notice and the close after its backlog
            frames = []
            while (frame := await stalled.frame()) is not None:
                frames.append(frame)
            assert frames[-2:] == ['a["too slow"]', f"c[{CLOSE_TOO_SLOW[0]},\"{CLOSE_TOO_SLOW[1]}\"]"]
            assert sum(len(f) for f in frames) < 8 * 1024 * 1024  # the flood was cut short
        finally:
            await stalled.close()


@async_test
async def test_a_polling_client_that_stops_polling_is_told_and_closed() -> None:
    settings = make_settings(max_out_bytes=10_000, max_out_frames=50)
    async with serve(settings, conn_cls=Guarded) as env:
        sid = new_sid()
        await env.fetch(f"/000/{sid}/xhr", origin=ALLOWED)
        await env.fetch(f"/000/{sid}/xhr_send", body=json.dumps(["flood 60 10"]), origin=ALLOWED)
        await env.rec.until(lambda: env.rec.conns[0].closed)
        poll = (await env.fetch(f"/000/{sid}/xhr", origin=ALLOWED)).body.decode()
        assert poll.strip() == 'a["too slow"]' or poll.startswith('a["too slow"]'), poll
        assert env.router.counters["too_slow"] == 1
