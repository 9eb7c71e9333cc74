"""Durable state of one game server: table records, their logs and snapshots, the chip ledger, chat.

Writes are batched: the server queues everything one pass over its socket produced and calls `flush()`
once, before any acknowledgement of that pass is sent, so an acknowledged move is always on disk (a
group commit). Chips move with the log entries that move them, in the same transaction: credits
(cash-outs) and the house's debits (bots) are unconditional and ride in the batch; a debit of a
player's balance (a buy-in) is decided on its own, at once, by `commit_debit`: a conditional UPDATE
that refuses that one request when the balance cannot pay, and never fails a batch.

A failed flush raises `StoreFailed` and drops the whole batch (the caller rolls its tables back), and
drops the pooled connections too, so a database that becomes writable again is reopened read-write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from common.models import ChatRecord, FinishedGame, House, TableAction, TableRecord, TableSnapshot, User
from gameserver import entries as e
from gameserver.engine import TableState

_tables = cast(Table, TableRecord.__table__)
_actions = cast(Table, TableAction.__table__)
_snapshots = cast(Table, TableSnapshot.__table__)
_finished = cast(Table, FinishedGame.__table__)
_chat = cast(Table, ChatRecord.__table__)
_users = cast(Table, User.__table__)
_house = cast(Table, House.__table__)
_set_status = update(_tables).where(_tables.c.id == bindparam("tid")).values(status=bindparam("st"))
_credit = update(_users).where(_users.c.id == bindparam("uid")).values(chips=_users.c.chips + bindparam("d"))
_house_move = update(_house).where(_house.c.id == 1).values(chips=_house.c.chips + bindparam("d"))
#: Statuses of tables a game server rebuilds at start; "over" and "closed" tables stay as they are.
LIVE_STATUSES = ("waiting", "playing")


class StoreFailed(Exception):
    """The database refused a write; nothing of the batch was stored."""


class InsufficientChips(Exception):
    """A buy-in the balance cannot pay; nothing was stored."""

    def __init__(self, user: int, amount: int, balance: int) -> None:
        super().__init__(f"user {user} cannot pay {amount} chips (balance {balance})")
        self.user, self.amount, self.balance = user, amount, balance


@dataclass
class StoredTable:
    """What recovery needs of one table: its record, the latest snapshot, and the entries to fold."""

    record: Any
    snapshot: str | None  # the snapshot JSON, or None: fold from the start
    snapshot_seq: int
    entries: list[tuple[int, e.AnyEntry]]  # (seq, entry) from the current game's start on


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: Told each commit's duration in seconds (the server's log-commit metric).
        self.on_commit: Callable[[float], None] = lambda seconds: None
        self._new_tables: list[dict[str, Any]] = []
        self._actions: list[dict[str, Any]] = []
        self._snapshots: list[dict[str, Any]] = []
        self._status: dict[str, str] = {}
        self._finished: list[dict[str, Any]] = []
        self._chat: list[dict[str, Any]] = []
        self._credits: list[dict[str, int]] = []
        self._house = 0

    # ---- queued writes -------------------------------------------------------------------------

    def create_table(self, **record: Any) -> None:
        self._new_tables.append(record)

    def append(self, table_id: str, first_seq: int, entries: Sequence[e.Entry]) -> None:
        """Queue entries `first_seq`, `first_seq + 1`, … and the chips they move; a player's debit must
        go through `commit_debit` instead."""
        now = time.time()
        for i, entry in enumerate(entries):
            self._actions.append({"table_id": table_id, "seq": first_seq + i, "entry": e.to_builtins(entry),
                                  "ts": now})
            move = e.chip_move(entry)
            if move is None:
                continue
            user, delta = move
            if user == e.HOUSE:
                self._house += delta
            elif delta > 0:
                self._credits.append({"uid": user, "d": delta})
            else:
                raise ValueError(f"table {table_id}: a debit of user {user} must be committed on its own")

    def snapshot(self, table_id: str, seq: int, state: bytes, fmt: int = e.LOG_FORMAT) -> None:
        self._snapshots.append({"table_id": table_id, "seq": seq, "format": fmt, "state": state.decode(),
                                "ts": time.time()})

    def set_status(self, table_id: str, status: str) -> None:
        self._status[table_id] = status

    def finish(self, **record: Any) -> None:
        self._finished.append(record)

    def chat(self, table_id: str, user: int, name: str, text: str) -> None:
        self._chat.append({"table_id": table_id, "user": user, "name": name, "text": text, "ts": time.time()})

    def user_name(self, user: int) -> str | None:
        """A user's display name, or None if there is no such user."""
        with self.engine.connect() as conn:
            name = conn.execute(select(_users.c.display_name).where(_users.c.id == user)).scalar()
        return None if name is None else str(name)

    def balance(self, user: int) -> int:
        """A user's chip balance as committed (a hint for a clear refusal; the debit itself decides)."""
        with self.engine.connect() as conn:
            chips = conn.execute(select(_users.c.chips).where(_users.c.id == user)).scalar()
        return int(chips or 0)

    @property
    def dirty(self) -> bool:
        return bool(self._new_tables or self._actions or self._snapshots or self._status or self._finished
                    or self._chat or self._credits or self._house)

    def flush(self) -> None:
        """Write everything queued in one transaction; on failure drop it all and raise StoreFailed."""
        if not self.dirty:
            return
        started = time.perf_counter()
        try:
            with self.engine.begin() as conn:
                self._write_batch(conn)
            self.on_commit(time.perf_counter() - started)
        except SQLAlchemyError as exc:
            self._failed()
            raise StoreFailed(str(exc)) from exc
        finally:
            self._clear()

    def _write_batch(self, conn: Connection) -> None:
        if self._new_tables:
            conn.execute(insert(_tables), self._new_tables)
        if self._actions:
            conn.execute(insert(_actions), self._actions)
        if self._snapshots:
            conn.execute(insert(_snapshots), self._snapshots)
        if self._status:  # one prepared statement, executemany: no statement built per table
            conn.execute(_set_status, [{"tid": t, "st": s} for t, s in self._status.items()])
        if self._finished:
            conn.execute(insert(_finished), self._finished)
        if self._chat:
            conn.execute(insert(_chat), self._chat)
        if self._credits:
            conn.execute(_credit, self._credits)
        if self._house:
            conn.execute(_house_move, {"d": self._house})

    def _clear(self) -> None:
        self._new_tables, self._actions, self._snapshots, self._finished, self._chat = [], [], [], [], []
        self._status, self._credits, self._house = {}, [], 0

    def _failed(self) -> None:
        """Drop pooled connections: SQLite keeps a connection opened read-only so for good."""
        try:
            self.engine.dispose()
        except SQLAlchemyError:
            pass

    def commit_debit(self, table_id: str, first_seq: int, entries: Sequence[e.Entry]) -> None:
        """Flush the batch, then write `entries` with the balance debits they carry in one transaction
        of their own. Raises InsufficientChips (nothing written) when a balance cannot pay, StoreFailed
        when the database refuses."""
        self.flush()
        rows = [{"table_id": table_id, "seq": first_seq + i, "entry": e.to_builtins(x), "ts": time.time()}
                for i, x in enumerate(entries)]
        started = time.perf_counter()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(_actions), rows)
                for entry in entries:
                    move = e.chip_move(entry)
                    if move is None:
                        continue
                    user, delta = move
                    if user == e.HOUSE:
                        conn.execute(_house_move, {"d": delta})
                        continue
                    done = conn.execute(update(_users).where(_users.c.id == user, _users.c.chips + delta >= 0)
                                        .values(chips=_users.c.chips + delta))
                    if done.rowcount != 1:
                        balance = conn.execute(select(_users.c.chips).where(_users.c.id == user)).scalar()
                        raise InsufficientChips(user, -delta, int(balance or 0))
            self.on_commit(time.perf_counter() - started)
        except SQLAlchemyError as exc:
            self._failed()
            raise StoreFailed(str(exc)) from exc

    def probe(self) -> bool:
        """Can the database take a write now? A real write, tried again on a fresh connection: SQLite
        opens a file it cannot write read-only without a word, and such a pooled connection stays so."""
        for _ in range(2):
            try:
                with self.engine.begin() as conn:
                    conn.execute(_house_move, {"d": 0})
                return True
            except SQLAlchemyError:
                self._failed()
        return False

    # ---- reads (start-up) ----------------------------------------------------------------------

    def last_table_number(self, server: str) -> int:
        """The highest N of this server's table ids "<server>-N", so new ids never repeat."""
        with self.engine.connect() as conn:
            query = select(_tables.c.id).where(_tables.c.server == server)
            ids: list[str] = list(conn.execute(query).scalars())
        numbers = [int(i.rsplit("-", 1)[1]) for i in ids if i.rsplit("-", 1)[1].isdigit()]
        return max(numbers, default=0)

    def open_tables(self, server: str) -> list[StoredTable]:
        """This server's live tables (waiting or playing), each with its latest snapshot and the entries
        recovery needs: those after the snapshot, and the current game's moves for its record."""
        result = []
        with self.engine.connect() as conn:
            live = select(_tables).where(_tables.c.server == server, _tables.c.status.in_(LIVE_STATUSES))
            records = conn.execute(live.order_by(_tables.c.created)).all()
            for record in records:
                snap = conn.execute(select(_snapshots.c.seq, _snapshots.c.state).where(
                    _snapshots.c.table_id == record.id).order_by(_snapshots.c.seq.desc()).limit(1)).first()
                start = 0
                if snap is not None:
                    game_start = msgspec.json.decode(snap.state, type=TableState).game_start
                    start = min(snap.seq, game_start - 1) if game_start else snap.seq
                rows = conn.execute(select(_actions.c.seq, _actions.c.entry).where(
                    _actions.c.table_id == record.id, _actions.c.seq > start).order_by(_actions.c.seq)).all()
                result.append(StoredTable(record, snap.state if snap else None, snap.seq if snap else 0,
                                          [(row.seq, e.from_builtins(row.entry)) for row in rows]))
        return result
