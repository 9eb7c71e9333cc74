"""Hypothesis throws random and mutated frames at the SockJS adapter over its inbound transports, on a real
Tornado server on loopback: websocket frames (text and binary) and `xhr_send` bodies (the inbound path of
every HTTP transport: xhr, xhr_streaming, eventsource). The app behind it decodes each message with the
real protocol decoder and answers as the realtime tier does (an `error`, or an `ack`).

Properties, for every frame: the server answers within a few seconds (no hang); no frame or HTTP body
carries a traceback; every message it sends decodes as a server message; nothing is logged at ERROR
(no uncaught exception anywhere); and afterwards the same session either still works (a probe sent after
the frame is echoed) or was ended the documented way (close 1009 after an `error` `too_large`; a broken
transport frame on a websocket drops it, as SockJS requires; `xhr_send` answers 500 only with SockJS's
"Payload expected." / "Broken JSON encoding."), and a fresh session works.

The normal run tries a few dozen frames per transport; the soak is
`FELT_FUZZ_EXAMPLES=3000 .venv/bin/python -m pytest tests/unit/realtime/test_sockjs_fuzz.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado import httpserver, testing, web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClosedError, websocket_connect

from common import protocol as p
from common.config import Settings
from realtime.sockjs_adapter import Connection, make_router

EXAMPLES = int(os.environ.get("FELT_FUZZ_EXAMPLES", "40"))
PROBE = "probe-7f3a"
ORIGIN = "http://app.example"
WAIT = 5.0
T = TypeVar("T")
_sids = itertools.count(1)

SETTINGS = Settings(allowed_origins=[ORIGIN], sockjs_heartbeat=0.5, max_frame_bytes=1024,
                    sockjs_url="http://app.example/sockjs.js", max_unauthenticated_per_address=10**6,
                    new_sessions_per_address=10**6, new_sessions_burst=10**6)

VALID = [
    '{"msg": "auth", "token": "abc"}',
    '{"msg": "join", "table": "g1-0001", "seat": 1, "invite": "x", "req": 3}',
    '{"msg": "act", "table": "g1-0001", "action": {"type": "pass_cards", "cards": ["2C", "3C", "4C"]}}',
    '{"msg": "chat", "table": "g1-0001", "text": "gg", "req": 9}',
    '{"msg": "create_table", "game": "hearts", "seats": 4, "options": {"target": 50}}',
    '{"msg": "ping", "req": 1}',
]
ERROR_CODES = {p.E_BAD_JSON, p.E_NOT_OBJECT, p.E_UNKNOWN_MSG, p.E_BAD_FIELD, p.E_TOO_LARGE, p.E_BAD_TEXT}


class Decoding(Connection):
    """The realtime tier's reading of a message, without the gateway: decode, then an error or an ack."""

    def on_message(self, text: str) -> None:
        if text == PROBE:
            self.send(PROBE)
            return
        try:
            msg = p.decode_client(text, max_bytes=SETTINGS.max_frame_bytes, max_depth=SETTINGS.max_json_depth)
        except p.ProtocolError as exc:
            self.send(p.encode_str(p.Error(code=exc.code, text=exc.text, req=exc.req)))
            return
        self.send(p.encode_str(p.Ack(req=getattr(msg, "req", None))))

    def on_refused_frame(self, code: str, detail: str) -> None:
        self.send(p.encode_str(p.Error(code=code, text=detail)))


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Served:
    """One real server for the whole module, on an event loop of its own thread; examples run on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sockjs-fuzz", daemon=True)
        self.thread.start()
        self.call(self._start)

    def call(self, make: Callable[[], Awaitable[T]], timeout: float = 3 * WAIT) -> T:
        """Run `make()` on the server's loop; a hang fails the example instead of blocking the run."""

        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    async def _start(self) -> None:
        sock, self.port = testing.bind_unused_port()
        self.router = make_router(Decoding, None, SETTINGS)
        self.server = httpserver.HTTPServer(web.Application(self.router.urls))
        self.server.add_sockets([sock])
        self.http = AsyncHTTPClient(force_instance=True)

    async def _stop(self) -> None:
        self.router.close_all()
        self.server.stop()
        await self.server.close_all_connections()
        self.http.close()

    def close(self) -> None:
        self.call(self._stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()

    async def post(self, sid: str, what: str, body: bytes) -> Any:
        return await self.http.fetch(f"http://127.0.0.1:{self.port}/sockjs/000/{sid}/{what}", method="POST",
                                     body=body, headers={"Origin": ORIGIN}, raise_error=False,
                                     request_timeout=WAIT)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    errors = Errors()
    logging.getLogger().addHandler(errors)
    s = Served()
    s.errors = errors  # type: ignore[attr-defined]
    try:
        yield s
    finally:
        s.close()
        logging.getLogger().removeHandler(errors)


# ---- what to throw ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children,
                                                                      max_size=4),
    max_leaves=20)


@st.composite
def transport_frames(draw: st.DrawFn) -> str | bytes:
    """A SockJS transport frame: valid ones, mutated ones, deep or huge ones, and random text or bytes."""
    kind = draw(st.sampled_from(["valid", "mutated", "deep", "huge", "json", "text", "bytes"]))
    messages = draw(st.lists(st.sampled_from(VALID), min_size=1, max_size=3))
    frame = json.dumps(messages)
    if kind == "valid":
        return frame
    if kind == "mutated":
        at = draw(st.integers(0, len(frame)))
        cut = draw(st.integers(0, 6))
        return frame[:at] + draw(st.text(max_size=8)) + frame[at + cut:]
    if kind == "deep":
        n = draw(st.integers(1, 3000))
        inner = draw(st.sampled_from(["", '"x"', json.dumps(VALID[0])]))
        return draw(st.sampled_from(["[" * n + inner + "]" * n, json.dumps(["[" * n + "]" * n]),
                                     json.dumps([json.dumps({"msg": "ping", "req": 1, "x": []})[:-1]
                                                 + "," + '"y":' + "[" * n + "]" * n + "}"])]))
    if kind == "huge":
        return json.dumps([VALID[3].replace("gg", "g" * draw(st.integers(900, 9000)))])
    if kind == "json":
        return json.dumps(draw(json_values))
    if kind == "text":
        return draw(st.text(max_size=200))
    return draw(st.binary(max_size=200))


def checked_messages(frames: list[str]) -> list[str]:
    """Every message the server sent in SockJS frames `frames`: decodable, known codes, no traceback."""
    seen: list[str] = []
    for frame in frames:
        assert "Traceback" not in frame and 'File "' not in frame, frame
        if frame[:1] != "a":
            continue
        for text in json.loads(frame[1:]):
            seen.append(text)
            if text == PROBE:
                continue
            msg = p.decode_server(text)
            if isinstance(msg, p.Error):
                assert msg.code in ERROR_CODES, msg
    return seen


def ended_as_documented(frames: list[str], seen: list[str]) -> None:
    """The session either still works (the probe came back) or was closed the documented way."""
    if PROBE in seen:
        return
    closes = [json.loads(f[1:]) for f in frames if f[:1] == "c"]
    if closes:
        assert closes[-1][0] == 1009, closes
        assert any(p.E_TOO_LARGE in text for text in seen), "closed for size without saying so first"


def no_errors_logged(served: Served) -> None:
    """Nothing logged at ERROR since the last example but access lines (Tornado logs every 5xx answer
    at ERROR: SockJS's 500 for a body that is no frame is one; a crash logs `tornado.application`)."""
    records = served.errors.records  # type: ignore[attr-defined]
    errors = [r.getMessage() for r in records if r.name != "tornado.access"]
    records.clear()
    assert errors == [], errors


# ---- websocket ---------------------------------------------------------------------------------------


async def over_websocket(served: Served, frame: str | bytes) -> tuple[list[str], bool]:
    """Open a websocket session, send `frame` then the probe; the frames it got, and whether the server
    dropped the socket without a close frame."""
    url = f"ws://127.0.0.1:{served.port}/sockjs/000/f{next(_sids)}/websocket"
    ws = await websocket_connect(HTTPRequest(url, headers={"Origin": ORIGIN}, request_timeout=WAIT))
    frames: list[str] = []
    dropped = False
    try:
        assert await ws.read_message() == "o"
        try:
            await ws.write_message(frame, binary=isinstance(frame, bytes))
            await ws.write_message(json.dumps([PROBE]))
        except WebSocketClosedError:
            pass
        while True:
            got = await asyncio.wait_for(ws.read_message(), WAIT)
            if got is None:
                dropped = True
                break
            text = got if isinstance(got, str) else got.decode()
            frames.append(text)
            if text[:1] == "c" or (text[:1] == "a" and PROBE in json.loads(text[1:])):
                break
    finally:
        ws.close()
    return frames, dropped


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transport_frames())
def test_websocket_frames_never_crash_hang_or_leak(served: Served, frame: str | bytes) -> None:
    frames, dropped = served.call(lambda: over_websocket(served, frame))
    seen = checked_messages(frames)
    if dropped:  # SockJS: a broken transport frame ends a websocket; never a valid one
        assert isinstance(frame, bytes) or not _valid_transport_frame(frame), frame
    else:
        ended_as_documented(frames, seen)
    no_errors_logged(served)


def _valid_transport_frame(frame: str) -> bool:
    try:
        value = json.loads(frame)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, (list, str))


# ---- xhr_send ----------------------------------------------------------------------------------------


async def over_xhr(served: Served, body: bytes) -> tuple[int, bytes, list[str]]:
    """Open an xhr session, post `body` to xhr_send, then the probe; poll until it is back or closed."""
    sid = f"x{next(_sids)}"
    opened = await served.post(sid, "xhr", b"")
    assert opened.code == 200 and opened.body == b"o\n", opened
    sent = await served.post(sid, "xhr_send", body)
    await served.post(sid, "xhr_send", json.dumps([PROBE]).encode())
    frames: list[str] = []
    for _ in range(5):
        polled = await served.post(sid, "xhr", b"")
        assert polled.code == 200, polled
        lines = polled.body.decode().splitlines()
        frames.extend(lines)
        if any(f[:1] == "c" or (f[:1] == "a" and PROBE in json.loads(f[1:])) for f in lines):
            break
    return sent.code, sent.body or b"", frames


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transport_frames())
def test_xhr_send_bodies_never_crash_hang_or_leak(served: Served, frame: str | bytes) -> None:
    body = frame if isinstance(frame, bytes) else frame.encode()
    status, answer, frames = served.call(lambda: over_xhr(served, body))
    assert b"Traceback" not in answer and b'File "' not in answer, answer
    assert status in (204, 413, 500), (status, answer)
    if status == 500:  # SockJS's own answers to a body that is no frame at all
        assert answer in (b"Payload expected.", b"Broken JSON encoding."), answer
    seen = checked_messages(frames)
    ended_as_documented(frames, seen)
    no_errors_logged(served)


def test_the_server_still_serves_after_the_fuzzing(served: Served) -> None:
    frames, dropped = served.call(lambda: over_websocket(served, json.dumps([VALID[5]])))
    assert not dropped and PROBE in checked_messages(frames)
