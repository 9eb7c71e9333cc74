"""The adapter's app side and sessions (a part of `realtime.sockjs_adapter`, which the rest of the tier
imports): `Connection`, what the app subclasses, its bridge to a sockjs connection, and the session that
queues, bounds and heartbeats what goes to one client (fixes B1, B2, B3 and B6 in the adapter's
docstring), with the constants and frame encoders the adapter's parts share."""

from __future__ import annotations

import json
import logging
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any

from sockjs.tornado import proto
from sockjs.tornado import session as sjs_session
from sockjs.tornado.conn import SockJSConnection

from realtime.admission import Admission, client_address

if TYPE_CHECKING:
    from realtime.sockjs_adapter import Router, _SockJSRouter


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
    """sockjs's session with a robust close, JSON close frames, a heartbeat from the router's wheel,
    message gating and a bounded backlog."""

    server: _SockJSRouter
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

    # heartbeats from the router's one wheel (`realtime.heartbeats`), not a timer per session; sockjs's
    # `periodic.Callback` could not cancel its pending timeout either
    def start_heartbeat(self) -> None:
        self.server.adapter.heartbeats.start(self)

    def stop_heartbeat(self) -> None:
        self.server.adapter.heartbeats.stop(self)

    def delay_heartbeat(self) -> None:
        heartbeats = self.server.adapter.heartbeats
        if heartbeats.beating(self):
            heartbeats.start(self)

    def beat(self) -> None:
        handler = self.handler
        if handler is None:
            self.stop_heartbeat()
        elif _can_send(handler):
            handler.send_pack(proto.HEARTBEAT)


