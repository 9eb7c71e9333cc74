"""The gateway's lobby queries: a `list_tables` fanned out to every live game server, the lists merged and
answered (sorted by table id) when all replied or time ran out.

Mixed into `Gateway` (`realtime.gateway`) before `GatewayLinks`, whose stub of `_maybe_answer_lobby` it
implements: what it uses of the gateway is declared here.
"""

from __future__ import annotations

from collections.abc import Callable

from common import protocol as p
from common.config import Settings
from realtime.gateway_records import DeliverFn, Link, LobbyQuery


class GatewayLobby:
    """Mixed into `Gateway`: what it needs from the gateway is declared here."""

    settings: Settings
    deliver: DeliverFn
    clock: Callable[[], float]
    links: dict[str, Link]
    lobby: dict[int, LobbyQuery]
    _rid: int

    def _send(self, link: Link, msg: p.Msg) -> bool:
        raise NotImplementedError

    def _list_tables(self, conn: str, user: int, name: str, body: p.ListTables, issued: float = 0.0) -> None:
        live = [link for link in self.links.values() if link.alive]
        self._rid += 1
        rid = self._rid
        query = LobbyQuery(conn, body.req, {link.name for link in live},
                           self.clock() + self.settings.request_timeout)
        self.lobby[rid] = query
        for link in live:
            if not self._send(link, p.Forward(conn=conn, user=user, name=name, rid=rid, body=body,
                                              issued=issued)):
                query.waiting.discard(link.name)
        self._maybe_answer_lobby(rid)

    def _maybe_answer_lobby(self, rid: int, force: bool = False) -> None:
        query = self.lobby[rid]
        if query.waiting and not force:
            return
        del self.lobby[rid]
        query.tables.sort(key=lambda t: t.id)
        self.deliver([query.conn], p.encode_str(p.Tables(tables=query.tables, req=query.req)), False)
