"""One player's SockJS connection: decode, authenticate, rate-limit, forward; encode and send back.

No game logic and no per-game branches live here. The first message must be a valid `auth` within
`auth_timeout` seconds; until then nothing else is accepted, and authentication is checked on every
message (a connection that was closed never reaches the gateway again).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tornado.ioloop import IOLoop

from common import protocol as p
from common.metrics import message_type
from common.tokens import TokenError
from realtime.sockjs_adapter import Connection

if TYPE_CHECKING:
    from realtime.app import Services

log = logging.getLogger("felt.realtime")

CLOSE_AUTH = 4001  # close code: authentication failed or missing
CLOSE_REPLACED = 4002  # close code: the same user connected again


class PlayerConnection(Connection):
    services: Services

    def on_open(self) -> None:
        s = self.services
        self.conn_id = s.new_conn_id()
        self.user: int | None = None
        self.name = ""
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
            msg = p.decode_client(text, max_bytes=s.settings.max_frame_bytes)
        except p.ProtocolError as exc:
            s.metrics.messages_in("invalid").inc()
            if self.user is None:
                self.reject(p.E_AUTH_REQUIRED, f"the first message must be auth ({exc.text})", exc.req)
            else:
                self.send(p.encode_str(p.Error(code=exc.code, text=exc.text, req=exc.req)))
            return
        s.metrics.messages_in(message_type(msg)).inc()
        if self.user is None:
            self._authenticate(msg)
            return
        if not self._within_rate():
            self.send(p.encode_str(p.Error(code=p.E_RATE_LIMITED, text="too many messages; slow down",
                                           req=getattr(msg, "req", None))))
            return
        if isinstance(msg, p.Ping):
            self.send(p.encode_str(p.Pong(req=msg.req)))
        elif isinstance(msg, p.Lobby):
            if msg.subscribe:
                s.lobby.add(self.conn_id)
                s.gateway.request(self.conn_id, self.user, self.name, p.ListTables(req=msg.req))
            else:
                s.lobby.discard(self.conn_id)
                self.send(p.encode_str(p.Ack(req=msg.req)))
        elif isinstance(msg, p.Auth):
            self.send(p.encode_str(p.Error(code=p.E_ALREADY_AUTHED, text="this connection is already "
                                           "authenticated")))
        else:
            s.gateway.request(self.conn_id, self.user, self.name, msg)

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
        IOLoop.current().remove_timeout(self._auth_timer)
        self.user, self.name = claims.user_id, claims.name
        previous = self.services.by_user.get(claims.user_id)
        self.services.by_user[claims.user_id] = self
        if previous is not None and previous is not self and not previous.closed:
            previous.reject(p.E_REPLACED, "you connected again from elsewhere; this connection is closed",
                            close_code=CLOSE_REPLACED)
        self.send(p.encode_str(p.Welcome(user=claims.user_id, name=claims.name)))

    def _within_rate(self) -> bool:
        rate = self.services.settings.client_rate
        now = IOLoop.current().time()
        self._tokens = min(2 * rate, self._tokens + (now - self._last) * rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def on_close(self) -> None:
        s = self.services
        IOLoop.current().remove_timeout(self._auth_timer)
        if s.conns.pop(self.conn_id, None) is not None:
            s.metrics.connections(self.transport).dec()
        s.lobby.discard(self.conn_id)
        if self.user is not None:
            if s.by_user.get(self.user) is self:
                del s.by_user[self.user]
            s.gateway.conn_closed(self.conn_id)
