"""The adapter's transports (a part of `realtime.sockjs_adapter`): sockjs-tornado's HTTP and websocket
handlers subclassed for origins, the admission of new sessions by address, frame limits and hostile
frames, and write accounting (fixes B4, B5, B6 and B7 in the adapter's docstring)."""

from __future__ import annotations

import asyncio
import functools
import json
import struct
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sockjs.tornado import session as sjs_session
from sockjs.tornado import static
from sockjs.tornado.transports import (
    EventSourceTransport,
    WebSocketTransport,
    XhrPollingTransport,
    XhrSendHandler,
    XhrStreamingTransport,
)
from tornado.http1connection import HTTP1Connection
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.iostream import IOStream, StreamClosedError
from tornado.util import _websocket_mask
from tornado.websocket import WebSocketClosedError, WebSocketProtocol, WebSocketProtocol13

from common import hotpath as hp
from common.protocol import too_deep
from realtime import ws_frames
from realtime.admission import TOO_MANY_UNAUTHENTICATED, client_address
from realtime.sockjs_session import CLOSE_TOO_BIG, FRAME_DEPTH, _refuse, log

if TYPE_CHECKING:
    # What `_HttpMixin` is mixed into: one of sockjs's HTTP handlers (so the mixin's calls are checked).
    from sockjs.tornado.transports import PollingTransportBase as _HttpHandler

    from realtime.sockjs_adapter import Router, _SockJSRouter
else:
    _HttpHandler = object


# ---- transports ----------------------------------------------------------------------------------

_HEAD_16 = struct.Struct("!BBH")
_HEAD_64 = struct.Struct("!BBQ")
#: A websocket reads at most this much a time (frames over it arrive in several reads).
_READ_CHUNK = 65536


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
    """sockjs's ConnectionInfo of a handler's request: the client's address (`client_address`) and the
    path. Not its cookies, arguments or headers: the app reads none of them, and a session keeps its
    ConnectionInfo for as long as it lives."""
    request = handler.request
    return sjs_session.ConnectionInfo(client_address(request), _NOTHING, _NOTHING, _NOTHING, request.path)


_NOTHING: dict[str, Any] = {}  # shared by every ConnectionInfo, and never written
#: What an open websocket's request, and its handler's answer, keep of their headers (none is read or
#: written once the handshake is over).
_NO_HEADERS, _NO_RESPONSE_HEADERS = HTTPHeaders(), HTTPHeaders()


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
    reading frames from chunks of whatever arrived (`realtime.ws_frames`), and writing text frames
    without wrapping each write's future in a task (`felt_write`)."""

    handler: _WebSocket
    _felt_opcode = 0  # of the fragmented message being gathered
    _felt_closed = False  # the handler was told the connection closed

    async def _receive_frame_loop(self) -> None:
        """Called at the end of Tornado's handshake, which awaits it for as long as the connection lasts:
        the reading runs on the stream's callbacks instead (`_felt_read`), so the handshake's chain of
        coroutines (the handler's `_execute` and `get`, the protocol's accept) and all it holds end now
        rather than with the connection; and the handler forgets the request's headers and its URL's
        arguments."""
        handler = self.handler
        handler.path_kwargs = handler.open_kwargs = _NOTHING  # the session id, given to `open` already
        handler._headers = _NO_RESPONSE_HEADERS  # the 101 answer's, written (nothing else is answered)
        request = handler.request  # kept by the handler, and by it its HTTP connection
        request.headers = _NO_HEADERS  # parsed for the handshake, read no more
        if isinstance(request.connection, HTTP1Connection):
            request.connection._request_headers = None  # detached: it reads and writes nothing more
        self._felt_frames = ws_frames.FrameBuffer()
        self._felt_read()

    def _felt_read(self) -> None:
        """Ask the stream for whatever arrives next (`_felt_got` takes it). Callbacks, not a coroutine:
        an idle connection holds one pending read, not a task and its frame (1.5 KiB each)."""
        if self.client_terminated:
            return self._felt_done()
        try:
            read = asyncio.ensure_future(self.stream.read_bytes(_READ_CHUNK, partial=True))  # a Future
            read.add_done_callback(self._felt_got)
        except StreamClosedError:
            self._felt_drop()

    def _felt_got(self, read: asyncio.Future[bytes]) -> None:
        try:
            chunk = read.result()
        except (StreamClosedError, asyncio.CancelledError):
            return self._felt_drop()
        except Exception:
            log.exception("reading a websocket failed; closing it")
            return self._felt_drop()
        self._wire_bytes_in += len(chunk)
        self._felt_frames.feed(chunk)
        self._felt_take()

    def _felt_take(self, handled: asyncio.Future[Any] | None = None) -> None:
        """Tornado's checks and handling of every whole frame waiting, then the next read: after the app
        has handled a message whose handling it awaits (`handled` is that message's future, done; one
        that failed closes the connection, as it ended Tornado's loop). Each read's callback is a pass
        of the loop, so a client that never pauses lets the others in."""
        if handled is not None and (handled.cancelled() or handled.exception() is not None):
            return self._felt_drop()
        frames = self._felt_frames
        try:
            while not self.client_terminated:
                head = frames.peek()
                if head is None or not self._felt_header_ok(head):
                    break
                payload = frames.take(head)
                if payload is None:
                    break
                waiting = self._felt_frame(head, payload)
                if waiting is not None:
                    asyncio.ensure_future(waiting).add_done_callback(self._felt_take)
                    return
        except ValueError:  # as Tornado's accept: a malformed stream is dropped
            log.debug("a malformed websocket stream; dropped", exc_info=True)
            return self._felt_drop()
        except Exception:
            log.exception("handling a websocket frame failed; closing it")
            return self._felt_drop()
        self._felt_read()

    def _felt_drop(self) -> None:
        """The reading ends on a failure or a closed stream: the connection is aborted and its handler
        told."""
        self._abort()
        self._felt_done()

    def _felt_done(self) -> None:
        """The reading has ended: the handler is told (once)."""
        if not self._felt_closed:
            self._felt_closed = True
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)

    def _felt_header_ok(self, head: ws_frames.Header) -> bool:
        """Tornado's checks of a header, made before its payload is waited for; False: aborted."""
        reserved = head.rsv
        if self._decompressor is not None and head.opcode != 0:
            self._frame_compressed = bool(reserved & ws_frames.RSV1)
            reserved &= ~ws_frames.RSV1
        if reserved or (head.control and head.length >= 126):
            self._abort()  # an extension nobody agreed to, or a control frame too long
            return False
        whole = head.length + (len(self._fragmented_message_buffer)
                               if self._fragmented_message_buffer is not None else 0)
        if whole > self.params.max_message_size:
            self.close(1009, "message too big")
            self._abort()
            return False
        return True

    def _felt_frame(self, head: ws_frames.Header, payload: bytes) -> Awaitable[None] | None:
        """One whole frame: control frames at once, data frames gathered to the message's last."""
        data = _websocket_mask(head.mask, payload) if head.mask is not None else payload
        opcode = head.opcode
        if head.control:
            if not head.fin:
                self._abort()  # control frames are never fragmented
                return None
        elif opcode == 0:  # a continuation
            if self._fragmented_message_buffer is None:
                self._abort()
                return None
            self._fragmented_message_buffer.extend(data)
            if not head.fin:
                return None
            opcode = self._felt_opcode
            data = bytes(self._fragmented_message_buffer)
            self._fragmented_message_buffer = None
        elif self._fragmented_message_buffer is not None:
            self._abort()  # a new message before the last one ended
            return None
        elif not head.fin:
            self._felt_opcode = opcode
            self._fragmented_message_buffer = bytearray(data)
            return None
        return self._handle_message(opcode, data)

    def felt_write(self, message: str) -> asyncio.Future[None] | None:
        """`write_message(message)` less its coroutine wrapper (a task per frame) and, while nothing
        waits in the stream's buffer, less the stream: the frame goes to the socket at once. None when
        the socket took all of it; otherwise the stream's future for the rest, which it writes when the
        socket can take it. Raises StreamClosedError."""
        data = message.encode()
        self._message_bytes_out += len(data)
        stream = self.stream
        if self._compressor or type(stream) is not IOStream or stream.writing() or stream.closed():
            flags = 0
            if self._compressor:
                data = self._compressor.compress(data)
                flags |= self.RSV1
            return self._write_frame(True, 0x1, data, flags=flags)
        size = len(data)  # a server's frame: final, text, unmasked
        if size < 126:
            frame = bytes((0x81, size)) + data
        elif size <= 0xFFFF:
            frame = _HEAD_16.pack(0x81, 126, size) + data
        else:
            frame = _HEAD_64.pack(0x81, 127, size) + data
        self._wire_bytes_out += len(frame)
        try:
            sent = stream.socket.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError as exc:  # the peer is gone: closed as Tornado closes a stream whose write failed
            stream.close(exc_info=exc)
            raise StreamClosedError(real_error=exc) from exc
        if sent == len(frame):
            return None
        return stream.write(memoryview(frame)[sent:])

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
        if future is None:  # the socket took it all
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


