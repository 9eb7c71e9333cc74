from collections.abc import Iterable
from typing import Any

from sockjs.tornado.conn import SockJSConnection
from sockjs.tornado.session import Session
from sockjs.tornado.stats import StatsCollector
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.web import RequestHandler

DEFAULT_SETTINGS: dict[str, Any]
GLOBAL_HANDLERS: list[tuple[str, type[RequestHandler]]]
TRANSPORTS: dict[str, type[RequestHandler]]
STATIC_HANDLERS: dict[str, type[RequestHandler]]

#: what `SockJSRouter.urls` lists: (pattern, handler class, its `initialize` arguments)
_URLSpec = tuple[str, type[RequestHandler], dict[str, Any]]

class SockJSRouter:
    io_loop: IOLoop
    settings: dict[str, Any]
    websockets_enabled: bool
    cookie_needed: bool
    stats: StatsCollector
    _connection: type[SockJSConnection]
    _session_kls: type[Session]
    _sessions_cleanup: PeriodicCallback
    _transport_urls: list[_URLSpec]
    def __init__(self, connection: type[SockJSConnection], prefix: str = "",
                 user_settings: dict[str, Any] = ..., io_loop: IOLoop | None = None,
                 session_kls: type[Session] | None = None) -> None: ...
    @property
    def urls(self) -> list[_URLSpec]: ...
    def apply_routes(self, routes: list[Any]) -> list[Any]: ...
    def create_session(self, session_id: str, register: bool = True) -> Session: ...
    def get_session(self, session_id: str) -> Session | None: ...
    def get_connection_class(self) -> type[SockJSConnection]: ...
    def broadcast(self, clients: Iterable[SockJSConnection], msg: str) -> None: ...
