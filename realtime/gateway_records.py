"""The records of the realtime side of realtime <-> game server (`realtime.gateway`): a link to one game
server and what is known of its health (`Link`), a request waiting for its answer (`Pending`), a lobby list
fanned out to every live server (`LobbyQuery`), and the callbacks the gateway hands frames to.

Plain data, no I/O of its own: `Link` holds the socket its host opens and closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq

from common import protocol as p

#: deliver(conns, frame, close): hands frames to the client connections of this process.
DeliverFn = Callable[[list[str], str, bool], None]
#: lobby(update): hands lobby changes to this process's lobby subscribers.
LobbyFn = Callable[[p.LobbyUpdate], None]


@dataclass
class Pending:
    conn: str
    req: int | None
    server: str
    deadline: float
    creates: bool = False  # a create_table: its ack names a table this connection now uses
    table: str | None = None  # the table it is about: used by this connection once the answer is no error
    forward: p.Forward | None = None  # to re-send when the table has moved
    hops: int = 0
    move_started: float | None = None  # an `act`: when it arrived here (the move-latency metric)


@dataclass
class LobbyQuery:
    """A list_tables fanned out to every live server; answered when all replied or time ran out."""

    conn: str
    req: int | None
    waiting: set[str]
    deadline: float
    tables: list[p.TableInfo] = field(default_factory=list)


class Link:
    """The DEALER to one game server and what we know of its health."""

    def __init__(self, name: str, endpoint: str, registry_key: bytes | None = None) -> None:
        self.name = name
        self.endpoint = endpoint
        self.registry_key = registry_key  # its public key as registered (the key directory's comes first)
        self.draining = False  # it hands its tables to others: no new tables go to it
        self.sock: zmq.Socket[Any] | None = None
        self.last_heard = 0.0
        self.alive = True
        self.tables = 0  # load, from its heartbeats
        self.created = 0  # tables asked of it since its last heartbeat (a burst spreads, not piles up)
        self.boot = ""  # its start id, from its heartbeats
        self.healthy = True  # false while it says its database refuses writes
        self.server_key: bytes | None = None  # its public key, as pinned when the socket was opened
        self.opened = 0.0  # when the socket was (re)opened
        self.connected = False  # heard from since then: the handshake completed
        self.batches = False  # it reads a pass's messages from one ZeroMQ message (its heartbeat says)
        self.outbox: list[bytes] = []  # this pass's messages for it, sent at the end of the pass
        self.outbox_rids: list[int] = []  # the requests among them (answered if the send fails)

    @property
    def serving(self) -> bool:
        """Alive and able to write its log: requests for its tables go to it."""
        return self.alive and self.healthy

