"""A game server's side of the admin console, run once per heartbeat round (after the lease renewal).

Three things, each cheap enough for every heartbeat:
- **move rate**: the entries its tables' logs gained per second over the last `RATE_WINDOW` seconds
  (moves by players, bots and the clock, and the seatings and deals between them), reported with the
  next lease renewal (`servers.rate`): each table's `seq` compared with the last round's, no count on
  the hot path;
- **rosters**: who sits at each of its tables (and how many watch), written to `tables.roster` only
  when that changed, so the console can list players without reading a log;
- **commands**: close a table or kick a player, queued by the frontend in the audit log
  (`common.audit`). The owner of the table claims a command (one conditional UPDATE: it is carried out
  once, whichever servers look), carries it out through the table's own entries (`Table.close`, whose
  cash-table hook stands every seat up with its stack; `Table.kick`), commits them, tells whoever
  watches, and marks the command done with what happened. A command for a table that moved is left for
  its next owner; for a table that is gone, any server answers that it is gone.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import bindparam, update
from sqlalchemy.exc import SQLAlchemyError

from common import audit
from common import protocol as p
from common.models import TableRecord
from gameserver import entries as e
from gameserver.ownership import LIVE_STATUSES
from gameserver.table import Outbound, Result, Table

if TYPE_CHECKING:
    from gameserver.server import GameServer

log = logging.getLogger("felt.gameserver.admin")

_tables = cast(SqlTable, TableRecord.__table__)
_write_roster = (update(_tables).where(_tables.c.id == bindparam("tid"), _tables.c.owner == bindparam("me"))
                 .values(roster=bindparam("roster")))


class Roster(NamedTuple):
    """A table's roster as last written: `of` the seats tuple it was read from."""

    of: tuple[Any, ...]
    seats: tuple[Any, ...]
    spectators: int


#: The move rate is the entries of the last this many seconds (a heartbeat's alone would jump about).
RATE_WINDOW = 5.0


class AdminDesk:
    def __init__(self, server: GameServer) -> None:
        self.server = server
        self._seqs: dict[str, int] = {}  # table -> its seq at the last round
        self._counted = 0  # entries counted since this server started
        self._samples: deque[tuple[float, int]] = deque()  # (when, counted) over the last RATE_WINDOW
        self._rosters: dict[str, Roster] = {}  # table -> the roster last written

    def round(self, now: float) -> None:
        """The heartbeat's part: measure, then (while this server may write) rosters and commands."""
        self._measure(now)
        server = self.server
        if not server.healthy or server.sock is None or not server.ownership.sure(now):
            return
        try:
            self._write_rosters()
            self._run_commands(now)
        except SQLAlchemyError as exc:
            log.warning("admin commands and rosters skipped this round: %s", exc)

    # ---- move rate -----------------------------------------------------------------------------

    def _measure(self, now: float) -> None:
        seqs: dict[str, int] = {}
        last = self._seqs
        for table_id, table in self.server.tables.items():
            seq = seqs[table_id] = table.state.seq
            before = last.get(table_id)  # None: new to this server (created, adopted), counted from now
            if before is not None and seq > before:
                self._counted += seq - before
        self._seqs = seqs
        samples = self._samples
        samples.append((now, self._counted))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        since, counted = samples[0]
        if now > since:
            self.server.ownership.rate = round((self._counted - counted) / (now - since), 1)

    # ---- rosters -------------------------------------------------------------------------------

    def _write_rosters(self) -> None:
        tables = self.server.tables
        changed: list[dict[str, Any]] = []
        keys: dict[str, Roster] = {}
        for table_id, table in tables.items():
            state_seats, watching = table.state.seats, len(table.spectators)
            last = self._rosters.get(table_id)
            # the seats tuple is replaced whenever a seat changes, and only then: a table whose seats
            # did not change costs one identity check a round
            if last is not None and last.of is state_seats and last.spectators == watching:
                keys[table_id] = last
                continue
            seats = tuple(None if s is None else (s.user, s.name, s.bot, s.stack, s.away)
                          for s in state_seats)
            keys[table_id] = Roster(state_seats, seats, watching)
            if last is None or last.seats != seats or last.spectators != watching:
                roster = {"seats": [None if s is None else {"user": s[0], "name": s[1], "bot": s[2],
                                                            "stack": s[3], "away": s[4]} for s in seats],
                          "spectators": watching}
                changed.append({"tid": table_id, "me": self.server.name, "roster": roster})
        if changed:
            with self.server.store.engine.begin() as conn:
                conn.execute(_write_roster, changed)
        self._rosters = keys

    # ---- commands ------------------------------------------------------------------------------

    def _run_commands(self, now: float) -> None:
        server = self.server
        engine = server.store.engine
        for command in audit.waiting(engine, now):
            if command.owner is None or command.table_status not in LIVE_STATUSES:
                if audit.claim(engine, command, server.name, now):
                    gone = "no such table" if command.owner is None else f"already {command.table_status}"
                    audit.finish(engine, command.id, server.name, False, f"table {command.table}: {gone}",
                                 now)
                continue
            table = server.tables.get(command.table)
            if command.owner != server.name or table is None:
                continue  # another server's (or ours, and adopted at the next round)
            if not server._flush():  # what was decided before must not fail with the command
                return
            if audit.claim(engine, command, server.name, now):
                self._carry_out(command, table, now)

    def _carry_out(self, command: audit.Command, table: Table, now: float) -> None:
        server = self.server
        engine = server.store.engine
        reason = f": {command.reason}" if command.reason else ""
        if command.action == audit.KICK and (command.user is None or table.seat_of(command.user) is None):
            audit.finish(engine, command.id, server.name, False,
                         f"{command.user_name or command.user} is not seated at {table.id}", now)
            return
        watchers = table.watchers()
        names = {s.user: s.name for s in table.seats if s is not None and not s.bot}
        server._touch(table)
        if command.action == audit.CLOSE_TABLE:
            result = table.close("closed by an admin", now)
            back = " The chips at the table went back to the players' balances." if table.config.cash else ""
            text = f"An admin closed this table{reason}.{back}"
            frame = p.encode_str(p.Error(code=p.E_TABLE_CLOSED, table=table.id, text=text))
            notice = Outbound(watchers, frame, table=table.id)
            summary = f"closed; {_returned(result, names)}"
        else:
            assert command.user is not None  # checked above
            kicked = table.kick(command.user, now)
            assert kicked is not None  # seated, checked above
            result, conn = kicked
            text = f"An admin removed you from this table{reason}."
            frame = p.encode_str(p.Error(code=p.E_KICKED, table=table.id, text=text))
            notice = Outbound([conn] if conn else [], frame, table=table.id)
            summary = _kick_summary(command.user_name, result)
        server._absorb(table, result)
        if notice.conns:
            server._pending_out.append(notice)
        landed = server._flush() and server.tables.get(table.id) is table
        if landed and command.action == audit.CLOSE_TABLE:
            server._forget(table.id)
        server._commit_and_send()
        if not landed:  # the database refused (the table is as it was), or the table moved: next round
            log.warning("table %s: admin command %d not carried out this round; retried", table.id,
                        command.id)
            audit.release(engine, command.id, server.name)
            return
        log.warning("table %s: admin %s (command %d): %s", table.id, command.action, command.id, summary)
        audit.finish(engine, command.id, server.name, True, summary, now)


def _returned(result: Result, names: dict[int, str]) -> str:
    """What a close gave back: "chips returned: 1,500 to ann, 800 to bob" (bots' stacks to the house)."""
    people = [(x.user, x.cashout) for x in result.log if isinstance(x, e.Unseated) and x.user != e.HOUSE]
    house = sum(x.cashout for x in result.log if isinstance(x, e.Unseated) and x.user == e.HOUSE)
    paid = [f"{chips:,} to {names.get(user, f'user {user}')}" for user, chips in people if chips]
    if house:
        paid.append(f"{house:,} to the house (bots)")
    return "chips returned: " + ", ".join(paid) if paid else "no chips were at the table"


def _kick_summary(name: str, result: Result) -> str:
    for entry in result.log:
        if isinstance(entry, e.Unseated):
            back = f"; {entry.cashout:,} chips back to the balance" if entry.cashout else ""
            return f"{name} stood up{back}"
        if isinstance(entry, e.Leaving):
            return f"{name} stands up when the hand in progress ends; the stack goes back to the balance then"
        if isinstance(entry, e.StoodUp):
            return f"{name} stood up; a bot plays the seat to the end of the game"
    return f"{name} already stands up when the hand in progress ends"
