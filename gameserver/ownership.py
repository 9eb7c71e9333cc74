"""Which game server serves which table: the process's registry lease and its tables' leases with epochs.

A table is served only by its `owner` (a game-server name in the `tables` row) and only at the table's
current `epoch`. Every change of hands raises the epoch by one in a single conditional UPDATE (a drain's
hand-over to a named target, a survivor's takeover of a dead server's table, a restart's re-claim of its
own tables), so exactly one claimant wins, and every write the store makes for a table is fenced by its
(owner, epoch) in the same transaction (`gameserver.store`): an old owner that wakes up cannot write.

A server's tables stay its own while its registry lease lives. It trusts its memory only while it is
sure of that lease (renewed less than `lease - margin` ago by its own clock); past that, for example
after being paused with SIGSTOP, it re-reads which tables are still its own before it serves anything
(`revalidate`), and drops the others.

No I/O beyond the database; the server calls these from its one thread.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Engine

from common.models import TableRecord
from common.registry import GONE, Registry, Server

log = logging.getLogger("felt.gameserver.ownership")

_tables = cast(Table, TableRecord.__table__)
LIVE_STATUSES = ("waiting", "playing")
FINISHED = "over"  # a match played to its end ("closed": closed before it, or a cash table)
#: Seconds before the lease's end at which a server stops trusting that it still holds it.
MARGIN = 1.0


@dataclass(frozen=True)
class Owner:
    """A table's row as it decides who serves it."""

    table: str
    owner: str
    epoch: int
    status: str

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


class Ownership:
    def __init__(self, engine: Engine, registry: Registry, name: str, boot: str,
                 clock: Callable[[], float]) -> None:
        self.engine = engine
        self.registry = registry
        self.name = name
        self.boot = boot
        self.clock = clock
        self.sure_until = 0.0  # by our own clock: until then nobody else can have taken our tables
        self.state = "live"  # as the registry last said: live, or draining
        self.registered = False
        self.registered_at = 0.0
        #: What the next renewals report as this server's move rate (set by gameserver.admin_commands).
        self.rate: float | None = None
        self._entry: tuple[str, str, int] | None = None  # what to register with

    # ---- this process's lease ------------------------------------------------------------------

    def register(self, endpoint: str, public_key: str, capacity: int, load: int) -> None:
        """Enter the registry (raises SQLAlchemyError if the database refuses: `renew` tries again)."""
        self._entry = (endpoint, public_key, capacity)
        now = self.clock()
        self.registry.register("gameserver", self.name, endpoint, boot=self.boot, public_key=public_key,
                               capacity=capacity, load=load)
        if not self.registered:
            self.registered_at = now
        self.registered = True
        self.sure_until = now + self.registry.lease - MARGIN

    def renew(self, load: int) -> str:
        """Renew the registry lease (or register, if that failed before); the stored state. Raises
        `registry.Replaced`."""
        if not self.registered:
            if self._entry is None:
                return self.state
            self.register(*self._entry, load=load)
            return self.state
        now = self.clock()
        self.state = self.registry.renew(self.name, self.boot, load, self.rate)
        self.sure_until = now + self.registry.lease - MARGIN
        return self.state

    def sure(self, now: float) -> bool:
        return now < self.sure_until

    def leave(self) -> None:
        self.registry.leave(self.name, self.boot)

    # ---- tables --------------------------------------------------------------------------------

    def of(self, table: str) -> Owner | None:
        """Who owns `table` now (None: no such table)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_tables.c.owner, _tables.c.epoch, _tables.c.status)
                               .where(_tables.c.id == table)).first()
        return None if row is None else Owner(table, row.owner, row.epoch, row.status)

    def mine(self) -> dict[str, int]:
        """This server's live tables and their epochs, as the database says."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_tables.c.id, _tables.c.epoch).where(
                _tables.c.owner == self.name, _tables.c.status.in_(LIVE_STATUSES))).all()
        return {row.id: row.epoch for row in rows}

    def holders(self, tables: list[str]) -> dict[str, tuple[str, int]]:
        """Who holds each of `tables` now, at which epoch (whatever their status)."""
        if not tables:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(_tables.c.id, _tables.c.owner, _tables.c.epoch)
                                .where(_tables.c.id.in_(tables))).all()
        return {row.id: (row.owner, row.epoch) for row in rows}

    def reclaim_all(self) -> int:
        """At start: raise the epoch of every live table this name owns, fencing out any older incarnation
        of this server that may still be running somewhere (paused, or on a host cut off)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(_tables).where(_tables.c.owner == self.name,
                                                      _tables.c.status.in_(LIVE_STATUSES))
                                .values(epoch=_tables.c.epoch + 1))
        return int(done.rowcount)

    def move(self, table: str, from_owner: str, epoch: int, to: str,
             handover: dict[str, Any] | None = None) -> int | None:
        """Hand `table` from `from_owner` at `epoch` to `to`, with what the next owner needs besides the
        log (`handover`): the new epoch, or None if the table was no longer `from_owner`'s at that epoch
        (somebody else moved it first)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(_tables).where(
                _tables.c.id == table, _tables.c.owner == from_owner, _tables.c.epoch == epoch,
                _tables.c.status.in_(LIVE_STATUSES)).values(owner=to, epoch=epoch + 1,
                                                            handover=handover or {}))
        return epoch + 1 if done.rowcount == 1 else None

    def orphans(self, servers: list[Server], now: float) -> list[Owner]:
        """Live tables whose owner is gone (its lease ran out, or it never registered), that this server
        should take over now: its share (by a hash of the table id over the live game servers), and any
        table left over for more than another lease."""
        live = sorted(s.name for s in servers if s.kind == "gameserver" and s.state(now) != GONE)
        if self.name not in live or now - self.registered_at < self.registry.lease:
            return []  # just started: the others (a whole stack starting) get a lease's time to register
        expired_at = {s.name: s.lease_until for s in servers if s.kind == "gameserver"}
        with self.engine.connect() as conn:
            rows = conn.execute(select(_tables.c.id, _tables.c.owner, _tables.c.epoch, _tables.c.status)
                                .where(_tables.c.status.in_(LIVE_STATUSES),
                                       _tables.c.owner.not_in(live))).all()
        mine: list[Owner] = []
        for row in rows:
            share = live[zlib.crc32(row.id.encode()) % len(live)] == self.name
            left_over = now - expired_at.get(row.owner, 0.0) > 2 * self.registry.lease
            if share or left_over:
                mine.append(Owner(row.id, row.owner, row.epoch, row.status))
        return mine
