"""One player's SockJS connection: decode, authenticate, rate-limit, forward; encode and send back.

No game logic and no per-game branches live here. The first message must be a valid `auth` within
`auth_timeout` seconds; until then nothing else is accepted, and authentication is checked on every
message (a connection that was closed never reaches the gateway again).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from tornado.ioloop import IOLoop

from common import protocol as p
from common.metrics import message_type
from common.tokens import Claims, TokenError
from realtime.sockjs_adapter import Connection

if TYPE_CHECKING:
    from realtime.app import Services

log = logging.getLogger("felt.realtime")

CLOSE_AUTH = 4001  # close code: authentication failed or missing
CLOSE_REPLACED = 4002  # close code: the same user connected again
CLOSE_TOO_SLOW = 4008  # close code: the client fell too far behind reading (sockjs_adapter.CLOSE_TOO_SLOW)
CLOSE_MOVED = 4009  # close code: this server is draining; the client was told where to reconnect (`move`)


class PlayerConnection(Connection):
    services: Services

    def on_open(self) -> None:
        s = self.services
        self.conn_id = s.new_conn_id()
        self.user: int | None = None
        self.name = ""
        self.issued = 0.0  # when this connection's token was issued, and when it expires (epoch s)
        self.moved = False  # sent elsewhere by a drain
        self.protocol = 1  # the client protocol this connection speaks (its `auth` says; `welcome` answers)
        self._tokens = 2 * s.settings.client_rate
        self._last = IOLoop.current().time()
        s.conns[self.conn_id] = self
        s.metrics.connections(self.transport).inc()
        s.metrics.connections_opened(self.transport).inc()
        self._auth_timer = IOLoop.current().call_later(s.settings.auth_timeout, self._auth_timeout)

    def _auth_timeout(self) -> None:
        if self.user is None and not self.closed:
            self.reject(p.E_AUTH_REQUIRED,
                        "no auth message in time: send {\"msg\": \"auth\", \"token\": ...}")

    def reject(self, code: str, text: str, req: int | None = None, close_code: int = CLOSE_AUTH) -> None:
        self.send(p.encode_str(p.Error(code=code, text=text, req=req)))
        self.close(close_code, text[:120])

    def on_message(self, text: str) -> None:
        s = self.services
        try:
            msg = p.decode_client(text, max_bytes=s.settings.max_frame_bytes,
                                  max_depth=s.settings.max_json_depth)
        except p.ProtocolError as exc:
            s.metrics.messages_in("invalid").inc()
            self._refused(exc)
            return
        s.metrics.messages_in(message_type(msg)).inc()
        if self.user is None:
            self._authenticate(msg)
            return
        if not self._within_rate():
            s.counters["rate_limited"] += 1
            self.send(p.encode_str(p.Error(code=p.E_RATE_LIMITED, text="too many messages; slow down",
                                           req=getattr(msg, "req", None))))
            return
        if isinstance(msg, p.Ping):
            self.send(p.encode_str(p.Pong(req=msg.req)))
        elif isinstance(msg, p.Lobby):
            if msg.subscribe:
                s.lobby.add(self.conn_id)
                s.gateway.request(self.conn_id, self.user, self.name, p.ListTables(req=msg.req), self.issued)
            else:
                s.lobby.discard(self.conn_id)
                self.send(p.encode_str(p.Ack(req=msg.req)))
        elif isinstance(msg, p.Auth):
            self._reauthenticate(msg)
        else:
            s.gateway.request(self.conn_id, self.user, self.name, msg, self.issued,
                              fold=self.protocol >= p.FOLDED_ACKS)

    def _refused(self, exc: p.ProtocolError) -> None:
        """A frame that is not an acceptable message: before auth that ends the connection."""
        if self.user is None:
            self.reject(p.E_AUTH_REQUIRED, f"the first message must be auth ({exc.text})", exc.req)
        else:
            self.send(p.encode_str(p.Error(code=exc.code, text=exc.text, req=exc.req)))

    def on_refused_frame(self, code: str, detail: str) -> None:
        """The transport refused a frame (too deep, too large): the client hears why, as for a message."""
        if code == p.E_TOO_LARGE:  # the transport closes after this whatever the state
            self.send(p.encode_str(p.Error(code=code, text=detail)))
        else:
            self._refused(p.ProtocolError(code, detail))

    def backlog_notice(self) -> str | None:
        s = self.services.settings
        return p.encode_str(p.Error(code=p.E_TOO_SLOW, text=(
            f"this connection fell more than {s.max_out_bytes} bytes or {s.max_out_frames} messages behind "
            "reading; it is closed: reconnect and resume (your seat is held)")))

    def send(self, text: str) -> None:
        """Every frame to the client goes through here: counted by type (and errors by code)."""
        self.services.metrics.sent(text)
        super().send(text)

    def _authenticate(self, msg: p.ClientMessage) -> None:
        if not isinstance(msg, p.Auth):
            self.reject(p.E_AUTH_REQUIRED, "the first message must be auth", getattr(msg, "req", None))
            return
        try:
            claims = self.services.verify(msg.token)
        except TokenError as exc:
            self.reject(exc.code, exc.text)
            return
        if self.services.revoked(claims.user_id, claims.issued):
            self.reject(p.E_TOKEN_REVOKED, "this token was issued before you logged out or changed your "
                        "password; log in again")
            return
        IOLoop.current().remove_timeout(self._auth_timer)
        self.authenticated()  # off its address's count of connections waiting to sign in
        self.user, self.name = claims.user_id, claims.name
        self.protocol = min(msg.protocol, p.PROTOCOL_VERSION)
        self._hold_until(claims)
        previous = self.services.by_user.get(claims.user_id)
        self.services.by_user[claims.user_id] = self
        if previous is not None and previous is not self and not previous.closed:
            previous.reject(p.E_REPLACED, "you connected again from elsewhere; this connection is closed",
                            close_code=CLOSE_REPLACED)
        self.send(p.encode_str(p.Welcome(user=claims.user_id, name=claims.name, protocol=self.protocol)))

    def _hold_until(self, claims: Claims) -> None:
        """Keep this connection until its token expires, unless a fresh `auth` extends it first."""
        self.issued = claims.issued
        when = IOLoop.current().time() + max(0.0, claims.expires - time.time())
        self.services.expiries.set(self.conn_id, when, self._expired)  # one timer for every connection

    def _expired(self) -> None:
        if not self.closed:
            self.services.counters["token_expired"] += 1
            self.reject(p.E_TOKEN_EXPIRED, "your token expired; reconnect with a fresh one (or send auth "
                        "with a fresh token before it expires)")

    def _reauthenticate(self, msg: p.Auth) -> None:
        """`auth` again on a live connection: a fresh token of the same user extends it."""
        try:
            claims = self.services.verify(msg.token)
        except TokenError as exc:
            self.send(p.encode_str(p.Error(code=exc.code, text=exc.text)))
            return
        if claims.user_id != self.user:
            self.send(p.encode_str(p.Error(code=p.E_ALREADY_AUTHED, text="this connection is already "
                                           "authenticated as someone else")))
            return
        if self.services.revoked(claims.user_id, claims.issued):
            self.reject(p.E_TOKEN_REVOKED, "this token was issued before you logged out; log in again")
            return
        self._hold_until(claims)  # the protocol stays the one the connection began with
        self.send(p.encode_str(p.Welcome(user=claims.user_id, name=claims.name, protocol=self.protocol)))

    def _within_rate(self) -> bool:
        rate = self.services.settings.client_rate
        now = IOLoop.current().time()
        self._tokens = min(2 * rate, self._tokens + (now - self._last) * rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def move(self, url: str) -> None:
        """This server is draining: tell the client where to go, and close."""
        self.moved = True
        self.send(p.encode_str(p.Move(url=url, text="this server is going away; moving you to another")))
        self.close(CLOSE_MOVED, "moved to another server")

    def on_close(self) -> None:
        s = self.services
        IOLoop.current().remove_timeout(self._auth_timer)
        s.expiries.cancel(self.conn_id)
        if s.conns.pop(self.conn_id, None) is not None:
            s.metrics.connections(self.transport).dec()
        s.lobby.discard(self.conn_id)
        if self.user is not None:
            if s.by_user.get(self.user) is self:
                del s.by_user[self.user]
            # a moved client resumes elsewhere in a moment: its seat is not left to a bot meanwhile (the
            # game servers let go of this process's connections when it exits)
            if not self.moved:
                s.gateway.conn_closed(self.conn_id)
