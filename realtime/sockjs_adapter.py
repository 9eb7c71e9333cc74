"""Our thin adapter around sockjs-tornado 1.0.7: the only module that touches sockjs internals.

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
  stale timeout behind on every stop. Sessions here beat with a Tornado `PeriodicCallback` every
  `settings.sockjs_heartbeat` seconds on every transport, when nothing else is being written.
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
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import logging
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from sockjs.tornado import proto, static
from sockjs.tornado import session as sjs_session
from sockjs.tornado.conn import SockJSConnection
from sockjs.tornado.router import SockJSRouter
from sockjs.tornado.transports import (
    EventSourceTransport,
    WebSocketTransport,
    XhrPollingTransport,
    XhrSendHandler,
    XhrStreamingTransport,
)
from tornado.http1connection import HTTP1Connection
from tornado.httputil import HTTPServerRequest
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketProtocol, WebSocketProtocol13

from common import hotpath as hp
from common.config import Settings
from common.protocol import too_deep
from realtime.admission import TOO_MANY_UNAUTHENTICATED, Admission, client_address

if TYPE_CHECKING:
    # What `_HttpMixin` is mixed into: one of sockjs's HTTP handlers (so the mixin's calls are checked).
    from sockjs.tornado.transports import PollingTransportBase as _HttpHandler
else:
    _HttpHandler = object

__all__ = ["Connection", "Router", "make_router", "quote"]

log = logging.getLogger("felt.realtime.sockjs")

#: Seconds a session without a receiving request (polling, reconnecting stream) survives.
DISCONNECT_DELAY = 5.0
CLOSE_INTERNAL = (1011, "Internal error")
CLOSE_TOO_BIG = (1009, "Message too big")
CLOSE_SHUTDOWN = (1001, "Server shutting down")
CLOSE_TOO_SLOW = (4008, "Too slow: fell behind reading")
#: Nesting of a valid transport frame: an array of strings (`["...", ...]`), or one string on a websocket.
FRAME_DEPTH = 1


def quote(text: str) -> str:
    """A message as SockJS carries it inside `a[...]`: a JSON string (what sockjs's `json.dumps` makes, made
    without building a JSON encoder per message)."""
    return encode_basestring_ascii(text)


def close_frame(code: int, reason: str) -> str:
    """A SockJS close frame, JSON-encoded (sockjs's own `proto.disconnect` does not escape `reason`)."""
    return "c" + json.dumps([int(code), str(reason)], separators=(",", ":"))


# ---- the app's side ------------------------------------------------------------------------------


class Connection:
    """One client's SockJS connection. Subclass it and override `on_open`, `on_message`, `on_close`.

    Built by the router with the `services` it was given (a subclass overriding `__init__` takes and passes
    on `services`); `transport`, `remote_ip` and the session are set before `on_open`. `on_message` is never
    called once the connection is closed; `on_close` is called exactly once, after `on_open`, whoever closed.
    """

    def __init__(self, services: Any) -> None:
        self.services = services
        self.transport: str = ""
        self.remote_ip: str | None = None
        self._closed = False
        self._session: _Session | None = None
        self._admission: Admission | None = None  # counts this connection as unauthenticated, until told

    @property
    def closed(self) -> bool:
        """True once `close` was called or the transport went away."""
        return self._closed

    def on_open(self) -> None:
        """The session is open; the client may already have sent messages (they follow)."""

    def on_message(self, text: str) -> None:
        """One text message from the client (untrusted input)."""

    def on_close(self) -> None:
        """The session is closed (by the app, the client, a dead transport or shutdown)."""

    def on_refused_frame(self, code: str, detail: str) -> None:
        """The transport refused a frame before any message of it reached `on_message`: `code` is
        "bad_json" (not JSON, or nested too deep) or "too_large" (the connection closes after this)."""

    def backlog_notice(self) -> str | None:
        """The last message for a client that fell too far behind (the connection closes after it)."""
        return None

    def authenticated(self) -> None:
        """The client proved who it is: it no longer counts against its address's unauthenticated cap."""
        admission, self._admission = self._admission, None
        if admission is not None:
            admission.authenticated(self.remote_ip or "")

    def send(self, text: str) -> None:
        """Send one text message; does nothing (and never raises) on a closed or dying connection.

        Messages are written once per loop pass: everything sent to a connection in one pass leaves in
        one SockJS frame (`a[...]`) and one socket write."""
        self.send_quoted(quote(text))

    def send_quoted(self, quoted: str) -> None:
        """`send` for a message already `quote`d (a frame for several connections is quoted once)."""
        session = self._session
        if self._closed or session is None or session.is_closed:
            return
        try:
            session.send_jsonified(quoted)
        except Exception:  # a transport failing must never reach the caller (fan-outs)
            log.warning("send on %s connection failed; closing it", self.transport, exc_info=True)
            self.close(*CLOSE_INTERNAL)

    def close(self, code: int = 3000, reason: str = "Go away!") -> None:
        """Close the connection: at once for the app, on the next loop turn for the transport.

        Works in `on_open` and on every transport; messages sent before it are delivered before the close
        frame. `on_close` follows when the session is closed.
        """
        if self._closed:
            return
        self._closed = True
        session = self._session
        if session is not None:
            session.server.io_loop.add_callback(session.close, code, reason)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.transport or '-'} {self.remote_ip} {state}>"


class _Bridge(SockJSConnection):
    """What sockjs sees as its connection: forwards to the app's `Connection`, guarding every call."""

    app: Connection | None = None
    session: _Session  # built by `_SockJSRouter`, whose sessions are `_Session`s

    def on_open(self, request: sjs_session.ConnectionInfo) -> None:
        session: _Session = self.session
        router: Router = session.server.adapter
        try:
            app = router.connection_cls(router.services)
        except Exception:
            log.exception("building %s failed", router.connection_cls.__name__)
            session.server.io_loop.add_callback(session.close, *CLOSE_INTERNAL)
            return
        app.transport = session.transport_name
        app.remote_ip = request.ip  # `client_address` of the request that opened it (`get_conn_info`)
        app._session = session
        app._admission = router.admission
        router.admission.opened(request.ip)
        self.app = app
        try:
            app.on_open()
        except Exception:
            log.exception("%s.on_open failed; closing", type(app).__name__)
            app.close(*CLOSE_INTERNAL)

    def on_message(self, message: Any) -> None:
        app = self.app
        if app is None or app.closed:
            return
        if not isinstance(message, str):
            log.debug("dropping a non-text SockJS message from %s", app.remote_ip)
            return
        try:
            app.on_message(message)
        except Exception:
            log.exception("%s.on_message failed; closing", type(app).__name__)
            app.close(*CLOSE_INTERNAL)

    def refused(self, code: str, detail: str) -> None:
        app = self.app
        if app is None or app.closed:
            return
        self.session.server.adapter.counters[f"refused_{code}"] += 1
        try:
            app.on_refused_frame(code, detail)
        except Exception:
            log.exception("%s.on_refused_frame failed; closing", type(app).__name__)
            app.close(*CLOSE_INTERNAL)

    def on_close(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        app._closed = True
        app._session = None
        app.authenticated()  # it no longer counts either way
        try:
            app.on_close()
        except Exception:
            log.exception("%s.on_close failed", type(app).__name__)


# ---- sessions ------------------------------------------------------------------------------------


def _can_send(handler: Any) -> bool:
    """Whether `handler` can take a frame now (nothing of its own in flight, still connected)."""
    check = getattr(handler, "felt_can_send", None)
    return bool(check and check())


def _can_close(handler: Any) -> bool:
    """Whether `handler` can still carry a close frame (streams can, even with a write in flight)."""
    check = getattr(handler, "felt_can_close", None)
    return bool(check and check())


def _refuse(session: Any, code: str, detail: str) -> None:
    """Tell the app of `session` that its transport refused a frame (see `Connection.on_refused_frame`)."""
    bridge = getattr(session, "conn", None)
    if isinstance(bridge, _Bridge):
        bridge.refused(code, detail)


def _pending(handler: Any) -> tuple[int, int]:
    """(bytes, frames) `handler` has written that its socket has not taken yet."""
    check = getattr(handler, "felt_pending", None)
    return check() if check else (0, 0)


class _Session(sjs_session.Session):
    """sockjs's session with a robust close, JSON close frames, a loop-clock heartbeat, message gating and
    a bounded backlog."""

    server: _SockJSRouter
    _heartbeat_timer: PeriodicCallback | None
    _felt_queued = 0  # messages in `send_queue`
    _felt_behind = False  # the backlog overflowed: nothing more is queued

    def send_jsonified(self, msg: str, stats: bool = True) -> None:
        if self._felt_behind:
            return
        adapter = self.server.adapter
        pending_bytes, pending_frames = _pending(self.handler)
        if (len(self.send_queue) + pending_bytes + len(msg) > adapter.settings.max_out_bytes
                or self._felt_queued + pending_frames + 1 > adapter.settings.max_out_frames):
            self._fell_behind()
            return
        # queued; the router writes every session's queue once per loop pass (`Router._flush_queued`)
        self.send_queue = f"{self.send_queue},{msg}" if self.send_queue else msg
        self._felt_queued += 1
        adapter.flush_soon(self)
        if stats:
            self.stats.on_pack_sent(1)

    def _fell_behind(self) -> None:
        """The client reads too slowly: drop what still waits here, send the app's notice, close."""
        self._felt_behind = True
        self.send_queue, self._felt_queued = "", 0
        adapter = self.server.adapter
        adapter.counters["too_slow"] += 1
        app = self.conn.app if isinstance(self.conn, _Bridge) else None
        log.info("session %s (%s) fell behind; closing it", self.session_id,
                 app.remote_ip if app is not None else "?")
        if app is None:
            self.server.io_loop.add_callback(self.close, *CLOSE_TOO_SLOW)
            return
        try:
            notice = app.backlog_notice()
        except Exception:
            log.exception("%s.backlog_notice failed", type(app).__name__)
            notice = None
        if notice is not None:
            sjs_session.Session.send_jsonified(self, proto.json_encode(notice), False)
        app.close(*CLOSE_TOO_SLOW)

    def set_handler(self, handler: Any, start_heartbeat: bool = True) -> bool:
        # sockjs's checks, in its order, with encoded close frames
        if self.handler is not None:
            handler.send_pack(close_frame(2010, "Another connection still open"))
            return False
        if self._verify_ip and self.conn_info is not None and \
                client_address(handler.request) != self.conn_info.ip:
            log.warning("session %s (%s) attach attempted from %s", self.session_id, self.conn_info.ip,
                        client_address(handler.request))
            handler.send_pack(close_frame(2010, "Attempted to connect to session from different IP"))
            return False
        if self.is_closed and not self.send_queue:
            handler.send_pack(close_frame(*self.get_close_reason()))
            return False
        sjs_session.BaseSession.set_handler(self, handler)
        self.promote()
        if start_heartbeat:
            self.start_heartbeat()
        return True

    def flush(self) -> None:
        super().flush()
        if not self.send_queue:
            self._felt_queued = 0
        # a closed session's queued messages went out: finish with the close frame (or leave it to the next
        # poll) instead of keeping the response open with nothing more to come
        handler = self.handler
        if self.state == sjs_session.CLOSED and handler is not None and not self.send_queue:
            if _can_close(handler):
                handler.send_pack(close_frame(*self.get_close_reason()))
            if self.handler is handler:
                handler.session_closed()

    def close(self, code: int = 3000, message: str = "Go away!") -> None:
        if self.state == sjs_session.CLOSED:
            return
        handler = self.handler
        if handler is not None and _can_close(handler):
            if self.send_queue:  # what the app sent before closing goes first
                handler.send_pack(f"a[{self.send_queue}]")
                self.send_queue = ""
            if self.handler is handler and _can_close(handler):
                handler.send_pack(close_frame(code, message))
        # else the response in flight ends as it is, and the next request gets the close frame
        self.stop_heartbeat()
        self.server.adapter._live.discard(self)
        sjs_session.BaseSession.close(self, code, message)

    def on_messages(self, msg_list: Any) -> None:
        self.stats.on_pack_recv(len(msg_list))
        for msg in msg_list:
            if self.state != sjs_session.OPEN or self.conn is None:
                return  # closed meanwhile: the rest never reaches the app
            self.conn.on_message(msg)

    # heartbeats on the loop's clock; sockjs's `periodic.Callback` cannot cancel its pending timeout
    def start_heartbeat(self) -> None:
        self.stop_heartbeat()
        self._heartbeat_timer = PeriodicCallback(self._heartbeat, self._heartbeat_interval)
        self._heartbeat_timer.start()

    def stop_heartbeat(self) -> None:
        timer, self._heartbeat_timer = self._heartbeat_timer, None
        if timer is not None:
            timer.stop()

    def delay_heartbeat(self) -> None:
        if self._heartbeat_timer is not None:
            self.start_heartbeat()

    def _heartbeat(self) -> None:
        handler = self.handler
        if handler is None:
            self.stop_heartbeat()
        elif _can_send(handler):
            handler.send_pack(proto.HEARTBEAT)


# ---- transports ----------------------------------------------------------------------------------


def _normalize_origin(origin: str) -> str | None:
    """`scheme://host[:port]`, lower case, default port dropped; None if it is no such thing ("null")."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host or parts.path not in ("", "/") or parts.query:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class _OriginPolicy:
    def __init__(self, allowed: Iterable[str]) -> None:
        normal = {origin: _normalize_origin(origin) for origin in allowed}
        bad = [origin for origin, n in normal.items() if n is None]
        if bad:
            raise ValueError(f"allowed_origins: not an http(s) origin: {', '.join(map(repr, bad))}")
        self.allowed = frozenset(n for n in normal.values() if n)

    def allows(self, origin: str | None, host: str) -> bool:
        """No Origin (same-origin GET, non-browser client), a listed origin, or this server's own origin."""
        if origin is None:
            return True
        normal = _normalize_origin(origin)
        if normal is None:
            return False
        if normal in self.allowed:
            return True
        # own origin: the Host this request was sent to (the scheme may differ behind a TLS proxy)
        scheme = normal.split("://", 1)[0]
        return normal == _normalize_origin(f"{scheme}://{host}")


def _conn_info(handler: Any) -> sjs_session.ConnectionInfo:
    """sockjs's ConnectionInfo of a handler's request, with the client's address from `client_address`."""
    request = handler.request
    return sjs_session.ConnectionInfo(client_address(request), request.cookies, request.arguments,
                                      request.headers, request.path)


_REFUSALS = {TOO_MANY_UNAUTHENTICATED: "Too many connections from your address are waiting to sign in; "
                                       "try again shortly."}
_TOO_MANY_NEW = "Too many new connections from your address; try again shortly."


def _admitted(handler: Any) -> bool:
    """Before a new session is built: the per-address limits (`realtime.admission`). False when refused;
    then the handler has answered 429 with `Retry-After`, and nothing was built."""
    adapter: Router = handler.server.adapter
    reason = adapter.admission.admit(client_address(handler.request))
    if reason is None:
        return True
    adapter.counters[f"refused_{reason}"] += 1
    log.debug("refused a new session from %s: %s", client_address(handler.request), reason)
    handler.logged = False  # sockjs's connection stats were not counted
    handler.set_status(429)
    handler.set_header("Retry-After", str(adapter.admission.retry_after()))
    handler.set_header("Content-Type", "text/plain; charset=UTF-8")
    handler.finish(_REFUSALS.get(reason, _TOO_MANY_NEW))
    return False


def _stream_closed(request: HTTPServerRequest) -> bool:
    """Whether the client went away under `request` (a Tornado HTTP/1 connection holds the stream)."""
    connection = request.connection
    return not isinstance(connection, HTTP1Connection) or connection.stream.closed()


class _HttpMixin(_HttpHandler):
    """For sockjs's HTTP handlers: origin allow-list, CORS for allowed origins only, safe `send_pack`."""

    server: _SockJSRouter

    def prepare(self) -> None:
        adapter = self.server.adapter
        origin = self.request.headers.get("Origin")
        if adapter.shut_down:
            self._refuse(503, "Server shutting down.")
        elif not adapter.policy.allows(origin, self.request.host):
            log.info("refused %s %s from origin %r", self.request.method, self.request.path, origin)
            self._refuse(403, "Origin not allowed.")
        else:
            super().prepare()

    def _refuse(self, status: int, text: str) -> None:
        self.logged = False  # sockjs's connection stats were not counted
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(text)

    def preflight(self) -> None:
        """CORS headers: only for an Origin that `prepare` let through (sockjs echoes any, or "*")."""
        self.set_header("Vary", "Origin")
        origin = self.request.headers.get("Origin")
        if origin is None or not self.server.adapter.policy.allows(origin, self.request.host):
            return
        self.set_header("Access-Control-Allow-Origin", origin)
        self.set_header("Access-Control-Allow-Credentials", "true")
        headers = self.request.headers.get("Access-Control-Request-Headers")
        if headers:
            self.set_header("Access-Control-Allow-Headers", headers)

    def verify_origin(self) -> bool:
        return self.server.adapter.policy.allows(self.request.headers.get("Origin"), self.request.host)

    def get_conn_info(self) -> sjs_session.ConnectionInfo:
        return _conn_info(self)

    def felt_can_send(self) -> bool:
        return self.active and not self._finished and not _stream_closed(self.request)

    def felt_can_close(self) -> bool:
        return self.felt_can_send()

    def send_pack(self, message: str, binary: bool = False) -> None:
        if self._finished or _stream_closed(self.request):
            self._felt_lost()
            return
        try:
            super().send_pack(message, binary)
        except Exception:
            log.debug("%s send failed", type(self).__name__, exc_info=True)
            self._felt_lost()

    def _felt_lost(self) -> None:
        session = self.session
        if session is not None:
            self._detach()
            if not session.is_closed:
                session.delayed_close()


class _NewSessionGate(_HttpMixin):
    """The HTTP transports whose first request builds a session: the per-address limits come first."""

    def prepare(self) -> None:
        super().prepare()
        if self._finished or self.request.method == "OPTIONS":
            return
        session_id = self.path_kwargs.get("session_id")
        if session_id is not None and self.server.get_session(session_id) is None:
            _admitted(self)


class _XhrPolling(_NewSessionGate, XhrPollingTransport):
    pass


class _StreamingMixin(_NewSessionGate):
    def _attach_session(self, session_id: str, start_heartbeat: bool = False) -> bool:
        return super()._attach_session(session_id, True)  # sockjs never starts it

    def felt_can_close(self) -> bool:
        return not self._finished and not _stream_closed(self.request)


class _XhrStreaming(_StreamingMixin, XhrStreamingTransport):
    pass


class _EventSource(_StreamingMixin, EventSourceTransport):
    pass


class _XhrSend(_HttpMixin, XhrSendHandler):
    def post(self, session_id: str) -> None:
        hot = self.server.adapter.hot
        started, inner = hp.now_ns(), hot.ns[hp.TO_GAMESERVER]
        try:
            self._felt_receive(session_id)
        finally:
            hot.add_outer(hp.EDGE_IN, started, hp.TO_GAMESERVER, inner)

    def _felt_receive(self, session_id: str) -> None:
        self.preflight()
        self.handle_session_cookie()
        self.disable_cache()
        session = self._get_session(session_id)
        if session is None or session.is_closed or (
                session._verify_ip and session.conn_info is not None
                and session.conn_info.ip != client_address(self.request)):
            self.set_status(404)
            return
        body = self.request.body
        if len(body) > self.server.adapter.frame_limit:
            _refuse(session, "too_large", f"a frame is over the {self.server.adapter.frame_limit}-byte "
                                 "limit")
            session.close(*CLOSE_TOO_BIG)
            self.set_status(413)
            self.write("Payload too large.")
            return
        if too_deep(body, FRAME_DEPTH):
            _refuse(session, "bad_json", f"a SockJS frame is an array of strings, not nested deeper "
                                 f"than {FRAME_DEPTH}")
            self.set_status(204)
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            return
        try:
            messages = json.loads(body) if body else None
        except ValueError:
            messages = None
        if not isinstance(messages, list):
            self.set_status(500)
            self.write("Payload expected." if not body else "Broken JSON encoding.")
            return
        session.on_messages(messages)
        self.set_status(204)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")


class _Info(_HttpMixin, static.InfoHandler):
    pass


class _WebSocket13(WebSocketProtocol13):
    """Tornado's websocket protocol, telling the app why before it closes a frame over its size (1009),
    and writing text frames without wrapping each write's future in a task (`felt_write`)."""

    handler: _WebSocket

    def felt_write(self, message: str) -> asyncio.Future[None]:
        """`write_message(message)` less its coroutine wrapper (a task per frame): the stream's own
        future, done at once when the socket took everything; raises StreamClosedError."""
        data = message.encode()
        self._message_bytes_out += len(data)
        flags = 0
        if self._compressor:
            data = self._compressor.compress(data)
            flags |= self.RSV1
        return self._write_frame(True, 0x1, data, flags=flags)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if code == CLOSE_TOO_BIG[0] and not self.server_terminated and not self.stream.closed():
            self.handler.felt_too_large(f"a frame is over the {self.params.max_message_size}-byte limit")
        super().close(code, reason)


class _WebSocket(WebSocketTransport):
    """sockjs's websocket transport: allow-list origins, bounded frames, sends that never raise, and a
    count of what it wrote that the socket has not taken yet."""

    server: _SockJSRouter
    _felt_out_bytes = 0
    _felt_out_frames = 0

    def prepare(self) -> None:
        if self.server.adapter.shut_down:
            self.set_status(503)
            self.finish("Server shutting down.")
        else:  # every websocket is a new session: the per-address limits come before the upgrade
            _admitted(self)

    def get_conn_info(self) -> sjs_session.ConnectionInfo:
        return _conn_info(self)

    def check_origin(self, origin: str) -> bool:
        ok = self.server.adapter.policy.allows(origin, self.request.host)
        if not ok:
            log.info("refused websocket from origin %r", origin)
        return ok

    @property
    def max_message_size(self) -> int:
        # frames up to twice the limit are read whole, refused with a word and closed cleanly; above
        # that, Tornado stops reading and `_WebSocket13` has the word said
        return 2 * self.server.adapter.frame_limit

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        protocol = super().get_websocket_protocol()
        if isinstance(protocol, WebSocketProtocol13):
            return _WebSocket13(self, False, protocol.params)
        return protocol

    def felt_pending(self) -> tuple[int, int]:
        return self._felt_out_bytes, self._felt_out_frames

    def felt_too_large(self, detail: str) -> None:
        """Tell the app about an oversized frame, then close the session (1009) after its answer."""
        session = self.session
        if session is None or session.is_closed:
            return
        _refuse(session, "too_large", detail)
        session.close(*CLOSE_TOO_BIG)

    def felt_can_send(self) -> bool:
        ws = self.ws_connection
        return ws is not None and not ws.is_closing()

    felt_can_close = felt_can_send

    def send_pack(self, message: str, binary: bool = False) -> None:
        if not self.felt_can_send():
            self._felt_lost()
            return
        ws = self.ws_connection
        try:
            if isinstance(ws, _WebSocket13) and not binary:
                future = ws.felt_write(message)
            else:
                future = self.write_message(message, binary)
        except (WebSocketClosedError, StreamClosedError, OSError):
            self._felt_lost()
            return
        if future.done():  # the socket took it all: nothing is left behind to count
            if not future.cancelled() and future.exception() is not None:
                self._felt_lost()
            return
        self._felt_out_bytes += len(message)
        self._felt_out_frames += 1
        future.add_done_callback(functools.partial(self._felt_written, len(message)))

    def _felt_written(self, size: int, future: asyncio.Future[None]) -> None:
        self._felt_out_bytes -= size
        self._felt_out_frames -= 1
        if not future.cancelled() and future.exception() is not None:
            self._felt_lost()

    def _felt_lost(self) -> None:
        # never close the session from inside a send: the caller may be iterating over connections
        if self.session is not None:
            self.server.io_loop.add_callback(self._felt_drop)

    def _felt_drop(self) -> None:
        self.on_close()  # detaches, then closes the session (no frame: the socket is gone)
        try:
            self.close()  # the websocket too, if Tornado has not noticed yet
        except Exception:
            log.debug("closing a dead websocket failed", exc_info=True)

    def on_message(self, message: str | bytes) -> None:
        hot = self.server.adapter.hot
        started, inner = hp.now_ns(), hot.ns[hp.TO_GAMESERVER]
        try:
            self._felt_receive(message)
        finally:
            hot.add_outer(hp.EDGE_IN, started, hp.TO_GAMESERVER, inner)

    def _felt_receive(self, message: str | bytes) -> None:
        if not message or self.session is None:
            return
        if len(message) > self.server.adapter.frame_limit:
            self.felt_too_large(f"a frame is over the {self.server.adapter.frame_limit}-byte limit")
            return
        if too_deep(message, FRAME_DEPTH):
            _refuse(self.session, "bad_json", f"a SockJS frame is an array of strings, not nested "
                                      f"deeper than {FRAME_DEPTH}")
            return
        try:
            messages = json.loads(message)
        except ValueError:
            log.info("broken JSON on a websocket from %s; closing", client_address(self.request))
            self.abort_connection()
            return
        self.session.on_messages(messages if isinstance(messages, list) else [messages])


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
