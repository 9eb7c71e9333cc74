"""Our thin adapter around sockjs-tornado 1.0.7: the only code that touches sockjs internals (this module,
the router, and its two parts: `sockjs_session`, the app side and sessions, and `sockjs_transports`).

The rest of the realtime tier sees `Connection` (subclass it: `on_open`/`on_message`/`on_close`, `send`,
`close`) and `make_router(...)` -> `Router` (`urls`, `broadcast`, `close_all`). Everything below fixes
sockjs-tornado 1.0.7 on Tornado 6.6 by subclassing, per router instance; the sockjs module is never patched,
so two routers in one process do not interfere.

What it fixes, and how:

* close from the app (B1). sockjs writes the close frame into the xhr poll that is still sending the open
  frame; Tornado refuses (more data than Content-Length) and the exception leaves the session OPEN, so the
  client keeps sending and the app keeps receiving. Here `Connection.close` marks the connection closed at
  once (nothing more reaches `on_message`, `send` is a no-op) and closes the session on the next loop turn;
  the session sends `c[code,reason]` only into a response that can still carry it (otherwise the next poll
  gets it), and drops every message that arrives once it is not open.
* dead websockets in a fan-out (B2). sockjs catches only IOError around `write_message`, but Tornado raises
  `WebSocketClosedError` (and fails the returned future) once the peer is gone. Sends to a dead socket are
  swallowed here and that session is closed on the next loop turn; `Router.broadcast` and `Connection.send`
  never raise.
* heartbeats (B3). The streaming transports never start the heartbeat, and sockjs's own timer leaves a
  stale timeout behind on every stop. Sessions here beat every `settings.sockjs_heartbeat` seconds on
  every transport, all from one timer per router (`realtime.heartbeats`: a timer per session cost
  about 2.4 KiB per idle player).
* jsonp and htmlfile (B4) are not routed at all (their URLs 404, as does `jsonp_send`); nor are the legacy
  `chunking_test` and the raw `/websocket` endpoint. No handler that reads a callback name remains.
* origins: websocket upgrades and the HTTP transports (xhr, xhr_send, xhr_streaming, eventsource, info and
  their preflights) from an Origin outside `settings.allowed_origins` get 403; no Origin header is allowed,
  and so is the server's own origin (the iframe transports run in a page this server serves). CORS headers
  echo only allowed origins.
* close frames are JSON-encoded (sockjs formats `c[%d,"%s"]`, so a reason with a quote breaks the frame), and
  inbound frames are bounded by `settings.max_frame_bytes` (with room for JSON escaping; the app checks the
  exact size of each message).
* hostile frames (B5). A transport frame nested deeper than a SockJS frame can be (an array of strings) is
  refused before Python's recursive `json.loads` sees it (which raised `RecursionError`: a dropped socket
  or a 500); an oversized frame is refused too. Either way the app hears of it first
  (`Connection.on_refused_frame`, so it can tell the client why), then an oversized one is closed (1009).
* slow readers (B6). Nothing bounded what waited for a client: sockjs's queue for the HTTP transports, and
  Tornado's write buffer under a websocket whose reader stalled. Each session's backlog (queued plus
  written but not yet flushed to the socket) is bounded by `settings.max_out_bytes` and `max_out_frames`;
  a connection past either gets the app's `Connection.backlog_notice()` and is closed (4008).
* floods of new sessions (B7). Nothing limited how many sessions one address opened. Before a session is
  built (a websocket upgrade, or the first request of an HTTP transport's session) `realtime.admission`
  decides by the client's address (`client_address`, the one place that says which it is): past the cap
  on unauthenticated sessions or the rate of new ones, the request gets HTTP 429 with `Retry-After` and
  no session exists. A session counts as unauthenticated until the app calls `Connection.authenticated`.
* websocket reads (B8, cost). Tornado reads a frame's header, length, mask and payload as separate reads,
  and its stream stops and restarts watching the socket for every frame (two `epoll_ctl` calls and the
  event loop's bookkeeping for them). A websocket here reads whatever arrived in one go and takes the
  frames out of it (`realtime.ws_frames`), with Tornado's checks and its handling of each message.
  Writes: while nothing waits in a websocket's stream, a frame goes straight to its socket (Tornado's
  stream makes a future a write and schedules a callback for it on the loop); whatever the socket does
  not take goes through the stream, and so does everything after it until the stream has written it.
* idle memory (B9, cost). Tornado's handshake awaits a websocket's reading for as long as it is open,
  so its chain of coroutines, the upgrade request's parsed headers and the 101 answer's headers lived
  with every connection, beside a heartbeat timer and a token-expiry timer of its own: 21.6 KiB of
  realtime RSS per idle player. Here a websocket is read on its stream's callbacks (the handshake's
  coroutines end once it is open), the request, its detached HTTP connection and the handler forget
  those headers and the URL's arguments (Tornado's `_headers` and `_request_headers` included), and
  one timer beats every session (`realtime.heartbeats`) and one expires every token
  (`realtime.deadlines`): 11.5 KiB.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterable
from typing import Any, cast

from sockjs.tornado import static
from sockjs.tornado.router import SockJSRouter
from tornado.ioloop import IOLoop, PeriodicCallback

from common import hotpath as hp
from common.config import Settings
from realtime.admission import Admission
from realtime.heartbeats import Heartbeats
from realtime.sockjs_session import (
    CLOSE_INTERNAL,
    CLOSE_SHUTDOWN,
    CLOSE_TOO_SLOW,
    DISCONNECT_DELAY,
    Connection,
    _Bridge,
    _Session,
    log,
    quote,
)
from realtime.sockjs_transports import (
    _EventSource,
    _Info,
    _OriginPolicy,
    _WebSocket,
    _XhrPolling,
    _XhrSend,
    _XhrStreaming,
)

__all__ = ["CLOSE_TOO_SLOW", "Connection", "Router", "make_router", "quote"]

# ---- the router ----------------------------------------------------------------------------------


class _SockJSRouter(SockJSRouter):
    """sockjs's router, configured per instance: our session and handler classes, our URL list."""

    def __init__(self, adapter: Router, prefix: str, user_settings: dict[str, Any]) -> None:
        self.adapter = adapter
        super().__init__(_Bridge, prefix, user_settings, io_loop=IOLoop.current(), session_kls=_Session)
        base = prefix + r"/[^/.]+/(?P<session_id>[^/.]+)"
        handlers = {"xhr_send": _XhrSend, "websocket": _WebSocket, "xhr": _XhrPolling,
                    "xhr_streaming": _XhrStreaming, "eventsource": _EventSource}
        kw = {"server": self}
        self._transport_urls = [(rf"{base}/{name}$", cls, kw) for name, cls in handlers.items()] + [
            (rf"{prefix}/info$", _Info, kw),
            (rf"{prefix}/iframe[0-9-.a-z_]*\.html$", static.IFrameHandler, kw),
            (rf"{prefix}/?$", static.GreetingsHandler, kw),
        ]

    def create_session(self, session_id: str, register: bool = True) -> _Session:
        session = cast(_Session, super().create_session(session_id, register))  # our session_kls
        self.adapter._live.add(session)
        return session

    def stop(self) -> None:
        self._sessions_cleanup.stop()
        self.stats._callback.stop()


class Router:
    """What `make_router` returns: URL specs for `tornado.web.Application`, fan-out and shutdown."""

    def __init__(self, connection_cls: type[Connection], services: Any, settings: Settings,
                 prefix: str = "/sockjs", admission: Admission | None = None,
                 hot: hp.HotPath | None = None) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("make_router must run inside the running event loop "
                               "(sockjs starts timers when its router is built)") from None
        if not (isinstance(connection_cls, type) and issubclass(connection_cls, Connection)):
            raise TypeError(f"{connection_cls!r} is not a Connection subclass")
        self.connection_cls = connection_cls
        self.services = services
        #: where the transports count their time (`common.hotpath`, realtime parts)
        self.hot = hot or hp.HotPath("realtime", hp.REALTIME_PARTS)
        self.settings = settings
        self.policy = _OriginPolicy(settings.allowed_origins)
        #: bound on one inbound transport frame: any JSON encoding of one message the app accepts fits
        self.frame_limit = 6 * settings.max_frame_bytes + 1024
        self.shut_down = False
        #: per-address limits on new and unauthenticated sessions
        self.admission = admission or Admission(
            max_unauthenticated=settings.max_unauthenticated_per_address,
            rate=settings.new_sessions_per_address, burst=settings.new_sessions_burst)
        #: what the adapter refused or cut off, by kind (too_slow, refused_bad_json, refused_too_large,
        #: refused_unauthenticated, refused_new_sessions)
        self.counters: collections.Counter[str] = collections.Counter()
        self._live: set[_Session] = set()
        self._queued: dict[_Session, None] = {}  # sessions with messages to write this pass, in order
        self._loop = asyncio.get_running_loop()
        prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self._sockjs = _SockJSRouter(self, prefix, {
            "disconnect_delay": DISCONNECT_DELAY,
            "heartbeat_delay": settings.sockjs_heartbeat,
            "disabled_transports": ["jsonp", "htmlfile"],
            "sockjs_url": settings.sockjs_client_url(),
            "jsessionid": False,
            "websocket_allow_origin": sorted(self.policy.allowed),  # informative: _WebSocket checks
            "verify_ip": True,
        })
        self.urls: list[Any] = list(self._sockjs.urls)
        #: every session's heartbeat, from one timer
        self.heartbeats = Heartbeats(settings.sockjs_heartbeat)
        self._beats = PeriodicCallback(self.heartbeats.tick, self.heartbeats.tick_seconds * 1000)
        self._beats.start()

    def flush_soon(self, session: _Session) -> None:
        """Write `session`'s queue at the end of this loop pass, with what else is sent to it meanwhile."""
        if not self._queued:
            self._loop.call_soon(self._flush_queued)
        self._queued[session] = None

    def _flush_queued(self) -> None:
        started = hp.now_ns()
        queued, self._queued = self._queued, {}
        for session in queued:
            if session.is_closed:
                continue  # its close wrote what was queued, or left it to the next poll with the close frame
            try:
                session.flush()  # polling transports without a request in flight keep theirs for the next
            except Exception:
                log.warning("writing to session %s failed; closing it", session.session_id, exc_info=True)
                self._loop.call_soon(session.close, *CLOSE_INTERNAL)
        self.hot.add(hp.EDGE_OUT, started)

    def broadcast(self, conns: Iterable[Connection], text: str) -> None:
        """Send `text` to every open connection of `conns` (encoded once); a dead one hurts no other."""
        frame: str | None = None
        count = 0
        for conn in list(conns):
            session = conn._session
            if conn.closed or session is None or session.is_closed:
                continue
            if frame is None:
                frame = quote(text)
            try:
                session.send_jsonified(frame, False)
                count += 1
            except Exception:
                log.warning("broadcast to %r failed; closing it", conn, exc_info=True)
                conn.close(*CLOSE_INTERNAL)
        self._sockjs.stats.on_pack_sent(count)

    def close_all(self, code: int = CLOSE_SHUTDOWN[0], reason: str = CLOSE_SHUTDOWN[1]) -> None:
        """Graceful shutdown: close every session now (each `on_close` runs), refuse new ones, stop timers."""
        self.shut_down = True
        for session in list(self._live):
            try:
                session.close(code, reason)
            except Exception:
                log.warning("closing session %s failed", session.session_id, exc_info=True)
        self._live.clear()
        self._beats.stop()
        self._sockjs.stop()

    @property
    def connections(self) -> int:
        """Open sessions (for health checks)."""
        return len(self._live)


def make_router(connection_cls: type[Connection], services: Any, settings: Settings,
                prefix: str = "/sockjs", admission: Admission | None = None,
                hot: hp.HotPath | None = None) -> Router:
    """A SockJS router serving `connection_cls` under `prefix`; call it inside the running event loop.
    `admission`: the per-address limits (default: from `settings`); `hot`: where its transports count the
    time they spend (common/hotpath.py)."""
    return Router(connection_cls, services, settings, prefix, admission, hot)

