"""Where a game server's tables come from and go to: recovery, adoption, hand-over, takeover, fencing.

The game server's half of `gameserver.ownership`, as a mixin of `GameServer` (it works on the server's
tables, store and outgoing frames on the server's one thread):
- **recover** at start: re-claim this name's tables (epoch + 1) and rebuild them from snapshot + tail;
- **adopt** a table the database says is ours but memory does not hold (handed to us, or taken over),
  on its first request or at the next heartbeat, whichever comes first;
- **locate** a table we do not hold for a request: `moved` to its live owner, or take it over from a
  gone one;
- **drain**: hand every table, at a move boundary, to the least-loaded other live game server (commit,
  then move the lease with epoch + 1 and the turn clock's time left), tell the realtime tier, then exit;
- **take over** a gone server's tables (our share first, any left over after a while);
- **fence**: drop tables the store found no longer ours, and re-check them all after any moment we
  were not sure of our own lease (a pause), before serving anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy.exc import SQLAlchemyError

from common import protocol as p
from common.config import Settings
from common.metrics import GameServerMetrics
from common.policy import TablePolicy
from common.registry import DRAINING, GONE, Replaced
from gameserver import engine as en
from gameserver import entries as e
from gameserver import store_results
from gameserver.chat import CHAT_HISTORY, TableChat
from gameserver.lobby import LobbyTracker
from gameserver.ownership import FINISHED, Ownership
from gameserver.peers import Peers
from gameserver.rules.base import Game
from gameserver.store import Store, StoredTable
from gameserver.table import Outbound, Result, Table, rebuild

log = logging.getLogger("felt.gameserver")


class Placement:
    # what the mixin uses of GameServer
    settings: Settings
    name: str
    store: Store
    games: dict[str, Game[Any]]
    tables: dict[str, Table]
    ownership: Ownership
    peers: Peers
    lobby: LobbyTracker
    chat: TableChat
    clock: Callable[[], float]
    draining: bool
    _pending_out: list[Outbound]
    _internal_out: list[tuple[bytes, bytes]]

    healthy: bool
    metrics: GameServerMetrics
    _next_number: int
    _reclaimed = False

    def _new_table(self, table_id: str, game: Game[Any], **kw: Any) -> Table:
        raise NotImplementedError

    def default_policy(self) -> TablePolicy:
        raise NotImplementedError

    def _flush(self) -> bool:
        raise NotImplementedError

    def _arm(self, table: Table) -> None: ...
    def _touch(self, table: Table) -> None: ...
    def _absorb(self, table: Table, result: Result, logged: bool = False) -> None: ...
    def _broadcast(self, msg: p.Msg) -> None: ...
    def _commit_and_send(self) -> None: ...
    def _forget(self, table_id: str) -> None: ...
    def _heartbeat_all(self) -> None: ...
    def _set_healthy(self, healthy: bool) -> None: ...
    def stop(self) -> None: ...

    # ---- building tables from the log ----------------------------------------------------------

    def _load(self, stored: StoredTable, now: float) -> Table | None:
        """A live table rebuilt from its latest snapshot and the entries after it; held at its epoch."""
        record = stored.record
        game = self.games.get(record.game)
        if game is None:
            log.error("table %s: game %r is not available; left closed", record.id, record.game)
            return None
        table = self._new_table(record.id, game, seats=record.seats, options=record.options,
                                creator=record.creator, seed=int(record.seed), clock=record.clock,
                                public=record.public, rated=record.rated, invite=record.invite,
                                spectator_delay=record.spectator_delay or 0, policy=self._policy_of(record))
        state = en.restore(table.config, stored.snapshot) if stored.snapshot else en.new_state(table.config)
        rebuild(table, state, [x for seq, x in stored.entries if seq > stored.snapshot_seq])
        start = table.state.game_start
        table.game_actions = [e.to_builtins(x) for seq, x in stored.entries
                              if seq > start and isinstance(x, e.Acted)]
        deal = next(((seq, x) for seq, x in stored.entries
                     if seq == start and isinstance(x, (e.Started, e.HandDealt))), None)
        if deal is not None and deal[0] <= stored.snapshot_seq:  # dealt before the snapshot: not folded
            table.deal, table.game_entries = deal, [(seq, x) for seq, x in stored.entries if seq > start]
            table.dealt = state if stored.snapshot_seq == start else None
        if table.over:
            return None
        table.recovered(now, hold=self.settings.resume_window)
        left = (record.handover or {}).get("clock_left")
        if isinstance(left, (int, float)):
            table.restore_clock(now, float(left))
        self.store.hold(record.id, record.epoch)
        self.chat.load(table.id, (p.ChatLine(table=table.id, name=name, text=text, ts=ts)
                                  for name, text, ts in stored.chat))
        self.tables[table.id] = table
        self.lobby.dirty.add(table.id)
        self._arm(table)
        return table

    def _policy_of(self, record: Any) -> TablePolicy:
        """The policy a table was created with (a table from before policies: the defaults)."""
        stored = getattr(record, "policy", None) or {}
        return msgspec.convert(stored, TablePolicy) if stored else self.default_policy()

    def recover(self) -> int:
        """At start: every live table this name owns, re-claimed and rebuilt."""
        self.healthy = self.store.probe()
        if not self.healthy:
            log.error("the database does not take writes; serving nothing until it does")
        self._next_number = self.store.last_table_number(self.name)
        self._reclaim()
        now = self.clock()
        for stored in self.store.open_tables(self.name, chat_lines=CHAT_HISTORY):
            self._load(stored, now)
        return len(self.tables)

    def _reclaim(self) -> None:
        """Raise the epoch of this name's tables (once per start; retried while the database refuses)."""
        try:
            self.ownership.reclaim_all()
        except SQLAlchemyError as exc:
            log.error("could not re-claim this server's tables yet (%s); retried every heartbeat", exc)
            return
        self._reclaimed = True
        for table_id, epoch in self.ownership.mine().items():
            if table_id in self.tables:
                self.store.hold(table_id, epoch)

    def _adopt(self, table_id: str, now: float, announce: bool = False) -> Table | None:
        """Take into memory a table the database says is ours; `announce`: tell the realtime tier (a
        takeover: the old owner cannot)."""
        stored = self.store.open_tables(self.name, [table_id], chat_lines=CHAT_HISTORY)
        table = self._load(stored[0], now) if stored else None
        if table is not None:
            self.metrics.handovers("in").inc()
            log.info("table %s: serving it now (epoch %d)", table_id, self.store.held[table_id])
            if announce:
                self._broadcast(p.TablesMoved(tables=[table_id], owner=self.name))
        return table

    # ---- requests for tables not in memory -------------------------------------------------------

    def _locate(self, msg: p.Forward, route: bytes | None, now: float) -> Table | None:
        """The table of `msg` if it is, or becomes, ours; else the sender is told (`moved`, or an error)
        and None."""
        table_id = getattr(msg.body, "table", "")
        owner = self.ownership.of(table_id)
        if owner is not None and owner.status == FINISHED:
            self._answer_finished(msg, table_id)
            return None
        if owner is None or not owner.live:
            self._refuse_forward(msg, p.E_NO_TABLE, f"no table {table_id}")
            return None
        if owner.owner == self.name:
            return self._adopt(table_id, now)
        servers = {s.name: s for s in self.ownership.registry.servers("gameserver")}
        current = servers.get(owner.owner)
        if current is not None and current.state(now) != GONE:
            if route is not None:
                move = p.Moved(rid=msg.rid, table=table_id, owner=owner.owner)
                self._internal_out.append((route, p.encode(move)))
            return None
        if self.draining or self.ownership.move(table_id, owner.owner, owner.epoch, self.name) is None:
            self._refuse_forward(msg, p.E_UNAVAILABLE, f"table {table_id} is moving; try again")
            return None
        log.info("table %s: taken over from %s, which is gone", table_id, owner.owner)
        return self._adopt(table_id, now, announce=True)

    def _answer_finished(self, msg: p.Forward, table_id: str) -> None:
        """A request to a finished table nobody holds in memory any more (its last watcher left, or it ended
        while its players were reconnecting): `game_over`, and the result to those who may see it (who
        sat at it; at a public table without a spectator delay, anyone). A private table is, to anyone
        else, as if there were none."""
        final = store_results.final_result(self.store.engine, table_id)
        seated = final is not None and msg.user in final.people
        if final is None or not (seated or final.public):
            self._refuse_forward(msg, p.E_NO_TABLE, f"no table {table_id}")
            return
        self._refuse_forward(msg, p.E_GAME_OVER, "the game is over")
        if seated or not final.delayed:
            over = p.GameOver(table=table_id, seq=final.seq, scores=final.scores, players=final.names,
                              winners=final.winners)
            self._pending_out.append(Outbound([msg.conn], p.encode_str(over)))

    def _refuse_forward(self, msg: p.Forward, code: str, text: str) -> None:
        table = getattr(msg.body, "table", None)
        frame = p.encode_str(p.Error(code=code, text=text, req=msg.body.req, table=table))
        self._pending_out.append(Outbound([msg.conn], frame, msg.rid, req=msg.body.req))

    # ---- every heartbeat -------------------------------------------------------------------------

    def placement_round(self, now: float) -> None:
        """Renew our lease; then drain, adopt what was handed to us, and take over a gone server's tables."""
        try:
            state = self.ownership.renew(len(self.tables))
        except Replaced:
            log.error("another process registered as %s: this one stops serving and exits", self.name)
            self._abdicate()
            return
        except SQLAlchemyError as exc:
            log.warning("could not renew this server's registry lease: %s", exc)
            return
        try:
            if not self._reclaimed:
                self._reclaim()
            if state == DRAINING and not self.draining:
                log.warning("draining: handing every table to other game servers, then exiting")
                self.draining = True
                self._heartbeat_all()
            if self.draining:
                self._hand_over_all(now)
                return
            self._adopt_assigned(now)
            self._take_over_orphans(now)
        except SQLAlchemyError as exc:
            log.warning("table placement skipped this round: %s", exc)

    def _adopt_assigned(self, now: float) -> None:
        for table_id in self.ownership.mine().keys() - self.tables.keys():
            self._adopt(table_id, now)

    def _fence_lost(self) -> None:
        """Stop serving every table in memory the database says is no longer ours at our epoch."""
        holders = self.ownership.holders(list(self.tables))
        for table_id in list(self.tables):
            if holders.get(table_id) != (self.name, self.store.held.get(table_id)):
                self._fenced(table_id)

    def _take_over_orphans(self, now: float) -> None:
        taken: list[str] = []
        for orphan in self.ownership.orphans(self.ownership.registry.servers(), now):
            if self.ownership.move(orphan.table, orphan.owner, orphan.epoch, self.name) is not None:
                log.info("table %s: taken over from %s, which is gone", orphan.table, orphan.owner)
                if self._adopt(orphan.table, now) is not None:
                    taken.append(orphan.table)
        if taken:
            self._broadcast(p.TablesMoved(tables=taken, owner=self.name))
            self._commit_and_send()

    def _hand_over_all(self, now: float) -> None:
        """A drain's round: every table to the least-loaded other live game server, at a move boundary
        (everything decided so far committed first); exit once none is left."""
        serving = self.ownership.registry.serving("gameserver")
        targets = {s.name: s.load for s in serving if s.name != self.name}
        if self.tables and not targets:
            log.warning("draining, but no other live game server can take the %d table(s); waiting",
                        len(self.tables))
            return
        for table in self.tables.values():
            if table.banks_running(now):  # what the turn drew so far goes with the table, in its log
                self._touch(table)
                self._absorb(table, table.settle_banks(now))
        if not self._flush():
            return
        moved: dict[str, list[str]] = {}
        for table_id, table in list(self.tables.items()):
            target = min(targets, key=lambda name: (targets[name], name))
            epoch = self.store.held.get(table_id)
            left = table.clock_left(now)
            if epoch is None or self.ownership.move(table_id, self.name, epoch, target,
                                                    {"clock_left": left} if left is not None else {}) is None:
                self._fenced(table_id)
                continue
            targets[target] += 1
            self.metrics.handovers("out").inc()
            moved.setdefault(target, []).append(table_id)
            self._forget(table_id)
            self.store.release(table_id)
        for target, ids in moved.items():
            log.info("handed %d table(s) to %s", len(ids), target)
            self._broadcast(p.TablesMoved(tables=ids, owner=target))
        self._commit_and_send()
        if not self.tables:
            log.warning("drained: every table is served elsewhere; exiting")
            self.stop()

    def _abdicate(self) -> None:
        for table_id in list(self.tables):
            self.store.release(table_id)
            self._forget(table_id)
        self.stop()

    # ---- fencing ---------------------------------------------------------------------------------

    def _fenced(self, table_id: str) -> None:
        """The database says another server serves this table now: stop serving it, say nothing."""
        if table_id in self.tables:
            log.warning("table %s: served by another game server now (this one lost it: fenced); "
                        "not serving it", table_id)
            self._forget(table_id)
        self.store.release(table_id)

    def _make_sure(self, now: float) -> bool:
        """Before serving: if we cannot be sure our lease held all along (we were paused, or the database
        was away), renew it and re-read which tables are still ours. False: not sure yet, serve nothing."""
        if self.ownership.sure(now):
            return True
        if self.ownership.registered:
            self.metrics.lease_expiries.inc()  # not renewed in time: paused, or the database was away
        try:
            self.ownership.renew(len(self.tables))
            self._fence_lost()
        except Replaced:
            log.error("another process registered as %s: this one stops serving and exits", self.name)
            self._abdicate()
            return False
        except SQLAlchemyError as exc:
            log.warning("cannot confirm this server's lease (%s); serving nothing until it can", exc)
            self._set_healthy(False)  # the realtime tier answers `unavailable` meanwhile
            return False
        return True
