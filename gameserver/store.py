"""Durable state of one game server: table records, their logs and snapshots, the chip ledger, chat.

Writes are batched: the server queues everything one pass over its socket produced and calls `flush()`
once, before any acknowledgement of that pass is sent, so an acknowledged move is always on disk (a
group commit). Chips move with the log entries that move them, in the same transaction: credits
(cash-outs) and the house's debits (bots) are unconditional and ride in the batch; a debit of a
player's balance (a buy-in) is decided on its own, at once, by `commit_debit`: a conditional UPDATE
that refuses that one request when the balance cannot pay, and never fails a batch.

Batches are written on one connection the store holds from flush to flush (no pool check-out per pass).
A failed flush raises `StoreFailed` and drops the whole batch (the caller rolls its tables back), and
drops that connection and the pooled ones too, so a database that becomes writable again is reopened
read-write; a connection found dead before a commit is replaced and the batch written on the new one.

Fencing (`gameserver.ownership`): a store that serves as `owner` writes for a table only at the epoch it
holds (`hold`), checked in the same transaction as the writes by one statement over the batch's tables. A
table whose row names another owner or epoch is fenced: its part of the batch is dropped, the rest is
written, and `take_fenced()` tells the server which tables it must stop serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec
from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlalchemy.engine import Connection, Engine, RootTransaction
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from common import ratings
from common.models import (
    ChatRecord,
    FinishedGame,
    Revocation,
)
from gameserver import entries as e
from gameserver import store_results
from gameserver.engine import TableState
from gameserver.store_sql import DriverSql, _actions, _encode_json, _house, _snapshots, _tables, _users

_finished = cast(Table, FinishedGame.__table__)
_chat = cast(Table, ChatRecord.__table__)
_revocations = cast(Table, Revocation.__table__)
_credit = update(_users).where(_users.c.id == bindparam("uid")).values(chips=_users.c.chips + bindparam("d"))
_set_replay = (update(_finished).where(_finished.c.game_id == bindparam("gid"))
               .values(replay=bindparam("replay")))
_house_move = update(_house).where(_house.c.id == 1).values(chips=_house.c.chips + bindparam("d"))
#: Statuses of tables a game server rebuilds at start; "over" and "closed" tables stay as they are.
LIVE_STATUSES = ("waiting", "playing")


class StoreFailed(Exception):
    """The database refused a write; nothing of the batch was stored."""


class Fenced(Exception):
    """These tables are no longer this server's at the epoch it holds; nothing was written."""

    def __init__(self, tables: set[str]) -> None:
        super().__init__(f"fenced: {', '.join(sorted(tables))}")
        self.tables = tables


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
    chat: list[tuple[str, str, float]] = field(default_factory=list)  # recent (name, text, ts), oldest first


class _Reconnect(Exception):
    """The batch's connection was found dead before its commit: write it again on a new one."""


class Store:
    def __init__(self, engine: Engine, owner: str = "") -> None:
        self.engine = engine
        self._sql = DriverSql(engine.dialect)
        self._results_sql = store_results.ResultSql(self._sql)
        #: what the driver raises from its own cursor (SQLAlchemy wraps only what runs through it)
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self.owner = owner  # "" : no fencing (tools and tests that write tables of nobody's)
        self.held: dict[str, int] = {}  # table -> the epoch this server holds it at
        self._fenced: set[str] = set()
        self._releasing: set[str] = set()  # released while writes for them were queued
        #: Told each commit's duration in seconds (the server's log-commit metric).
        self.on_commit: Callable[[float], None] = lambda seconds: None
        self._conn: Connection | None = None  # the batches' own, used on the loop thread only
        #: SQLite: whether the batches' commits run the WAL's checkpoints (off: `leave_checkpoints`)
        self.checkpoints_in_commits = True
        event.listen(engine, "engine_disposed", self._engine_disposed)
        self._new_tables: list[dict[str, Any]] = []
        self._actions: list[dict[str, Any]] = []
        self._snapshots: list[dict[str, Any]] = []
        self._status: dict[str, str] = {}
        self._finished: list[dict[str, Any]] = []
        self._results: dict[str, ratings.GameResult] = {}  # game id -> what ratings and profiles need
        self._replays: list[dict[str, Any]] = []  # {"gid", "replay"}: built after the game's record
        self._chat: list[dict[str, Any]] = []
        self._credits: list[dict[str, Any]] = []  # {"uid", "d", "table"}
        self._house: dict[str, int] = {}  # table -> the house's chips moved by its entries

    # ---- ownership -----------------------------------------------------------------------------

    def hold(self, table_id: str, epoch: int) -> None:
        self.held[table_id] = epoch

    def release(self, table_id: str) -> None:
        """This server stops writing for `table_id` (once what is queued for it is written)."""
        if self.dirty:
            self._releasing.add(table_id)
        else:
            self.held.pop(table_id, None)

    def take_fenced(self) -> set[str]:
        """The tables found fenced since the last call (dropped from `held` already)."""
        fenced, self._fenced = self._fenced, set()
        return fenced

    # ---- queued writes -------------------------------------------------------------------------

    def create_table(self, **record: Any) -> None:
        """A new table, owned by this server at epoch 1."""
        record.update(owner=self.owner, epoch=1)
        self.held[record["id"]] = 1
        self._new_tables.append(record)

    def append(self, table_id: str, first_seq: int, entries: Sequence[e.Entry]) -> None:
        """Queue entries `first_seq`, `first_seq + 1`, … and the chips they move; a player's debit must
        go through `commit_debit` instead."""
        now = time.time()
        epoch = self.held.get(table_id, 0)
        for i, entry in enumerate(entries):
            self._actions.append({"table_id": table_id, "seq": first_seq + i, "epoch": epoch,
                                  "entry": e.to_builtins(entry), "ts": now})
            for user, delta in e.chip_moves(entry):
                if user == e.HOUSE:
                    self._house[table_id] = self._house.get(table_id, 0) + delta
                elif delta > 0:
                    self._credits.append({"uid": user, "d": delta, "table": table_id})
                else:
                    raise ValueError(f"table {table_id}: a debit of user {user} must be committed on its own")

    def snapshot(self, table_id: str, seq: int, state: bytes, fmt: int = e.LOG_FORMAT) -> None:
        self._snapshots.append({"table_id": table_id, "seq": seq, "format": fmt, "state": state.decode(),
                                "ts": time.time()})

    def set_status(self, table_id: str, status: str) -> None:
        self._status[table_id] = status

    def finish(self, result: ratings.GameResult | None = None, **record: Any) -> None:
        """A finished game's record; with `result`, its players' history rows and rating update, in the
        same transaction (a game id already stored is not stored or rated again)."""
        self._finished.append(record)
        if result is not None:
            self._results[result.game_id] = result

    def set_replay(self, game_id: str, text: str) -> None:
        """A finished game's replay (`common.history.pack`), written after its record. Not fenced: the
        game is over, and whoever builds its replay builds the same one."""
        self._replays.append({"gid": game_id, "replay": text})

    def chat(self, table_id: str, user: int, name: str, text: str, ts: float | None = None) -> None:
        self._chat.append({"table_id": table_id, "user": user, "name": name, "text": text,
                           "ts": time.time() if ts is None else ts})

    def user_name(self, user: int) -> str | None:
        """A user's display name, or None if there is no such user."""
        with self.engine.connect() as conn:
            name = conn.execute(select(_users.c.display_name).where(_users.c.id == user)).scalar()
        return None if name is None else str(name)

    def revocations_since(self, since: float) -> list[tuple[int, float]]:
        """(user, not_before) of every revocation later than `since` (logouts, password changes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_revocations.c.user_id, _revocations.c.not_before)
                                .where(_revocations.c.not_before > since)).all()
        return [(int(user), float(before)) for user, before in rows]

    def balance(self, user: int) -> int:
        """A user's chip balance as committed (a hint for a clear refusal; the debit itself decides)."""
        with self.engine.connect() as conn:
            chips = conn.execute(select(_users.c.chips).where(_users.c.id == user)).scalar()
        return int(chips or 0)

    @property
    def dirty(self) -> bool:
        return bool(self._new_tables or self._actions or self._snapshots or self._status or self._finished
                    or self._chat or self._credits or self._house or self._replays)

    def flush(self) -> None:
        """Write everything queued in one transaction; on failure drop it all and raise StoreFailed.
        Fenced tables' writes are dropped and the rest written (`take_fenced` names them)."""
        if not self.dirty:
            return
        started = time.perf_counter()
        try:
            reconnected = False
            for _ in range(3):
                try:
                    self._write_and_commit()
                    self.on_commit(time.perf_counter() - started)
                    return
                except Fenced as exc:
                    self._drop(exc.tables)
                except _Reconnect:
                    if reconnected:
                        raise StoreFailed("the database connection was lost twice in one flush") from None
                    reconnected = True
            raise StoreFailed("fencing did not settle")  # tables cannot be fenced twice in one flush
        except (SQLAlchemyError, self._driver_error) as exc:
            self._failed()
            raise StoreFailed(str(exc)) from exc
        finally:
            self._clear()
            for table_id in self._releasing:
                self.held.pop(table_id, None)
            self._releasing.clear()

    def _write_and_commit(self) -> None:
        """The batch in one transaction on the store's own connection, held from one flush to the next
        (a pass then pays no pool check-out, reset and check-in, nor PostgreSQL's ping of each check-out).
        A connection found dead before the commit (the database restarted) is replaced and the batch
        tried again (`_Reconnect`): nothing of it was written. One lost during the commit is not, as the
        commit may have happened."""
        conn = self._conn
        if conn is None or conn.invalidated or conn.closed:
            conn = self._conn = self.engine.connect()  # a checked-out connection: pinged on PostgreSQL
            self._set_checkpoints(conn)
        transaction = conn.begin()
        try:
            self._write_batch(conn)
        except Fenced:
            transaction.rollback()  # the connection is sound: kept for the batch without those tables
            raise
        except (SQLAlchemyError, self._driver_error) as exc:
            lost = self._lost(exc, conn)
            self._close_connection(transaction)
            if lost:
                raise _Reconnect() from exc
            raise
        except BaseException:
            self._close_connection(transaction)
            raise
        try:
            transaction.commit()
        except BaseException:
            self._close_connection(None)
            raise

    def _lost(self, exc: Exception, conn: Connection) -> bool:
        """Whether `exc` says the connection is dead (SQLAlchemy's word for its own statements; the
        dialect's, for what the driver's cursor raised)."""
        if isinstance(exc, DBAPIError):
            return exc.connection_invalidated
        if not isinstance(exc, self._driver_error):
            return False
        try:
            return self.engine.dialect.is_disconnect(cast(Any, exc), conn.connection.dbapi_connection, None)
        except (SQLAlchemyError, self._driver_error):
            return True

    def close(self) -> None:
        """Return the batches' connection (at the end of serving; a later flush opens another), doing
        its checkpoints again, as every pooled connection does."""
        conn, self._conn = self._conn, None
        self.checkpoints_in_commits = True
        if conn is not None:
            try:
                self._set_checkpoints(conn)
            except (SQLAlchemyError, self._driver_error):
                pass  # a connection that fails now is closed all the same
            conn.close()

    def leave_checkpoints(self) -> None:
        """SQLite: the batches' commits no longer checkpoint the WAL; a `WalCheckpointer` does."""
        self.checkpoints_in_commits = False
        if self._conn is not None and not self._conn.closed and not self._conn.invalidated:
            self._set_checkpoints(self._conn)

    def _set_checkpoints(self, conn: Connection) -> None:
        if self._sql.sqlite:
            pages = 1000 if self.checkpoints_in_commits else 0  # SQLite's default, or none
            cursor = conn.connection.cursor()  # on the driver's cursor: no transaction is begun
            try:
                cursor.execute(f"PRAGMA wal_autocheckpoint = {pages}")
            finally:
                cursor.close()

    def _engine_disposed(self, _engine: Engine) -> None:
        self._close_connection(None)  # its pool is gone: the connection is closed, not checked in

    def _close_connection(self, transaction: RootTransaction | None) -> None:
        """After a failure: the connection is not trusted again (closed, not returned to the pool)."""
        conn, self._conn = self._conn, None
        try:
            if transaction is not None and transaction.is_active:
                transaction.rollback()
        except (SQLAlchemyError, self._driver_error):
            pass
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except (SQLAlchemyError, self._driver_error):
                pass

    def _written_tables(self) -> set[str]:
        tables = {a["table_id"] for a in self._actions} | {x["table_id"] for x in self._snapshots}
        tables |= set(self._status) | {x["table_id"] for x in self._finished}
        tables |= {x["table_id"] for x in self._chat}
        return tables - {t["id"] for t in self._new_tables}

    def _fence(self, conn: Connection, tables: set[str]) -> None:
        """Inside the batch's transaction, first: raise Fenced unless every table is still ours at the
        epoch we hold, holding off any takeover (an UPDATE of those rows) until the commit; the rows are
        found by their key (`DriverSql.fence`). PostgreSQL: they are read FOR UPDATE (an UPDATE would
        leave a dead row version behind every pass).
        SQLite: an UPDATE that changes nothing, which takes the database's write lock (and, writing the
        same bytes, rewrites no page)."""
        pairs = [(t, self.held[t]) for t in tables if t in self.held]
        found: set[str] = set()
        if pairs:
            sql = self._sql
            cursor = conn.connection.cursor()
            try:
                if sql.sqlite:
                    cursor.execute(sql.fence_update(len(pairs)), sql.fence_update_params(self.owner, pairs))
                    if cursor.rowcount == len(tables):
                        return
                cursor.execute(sql.fence(len(pairs)), [t for t, _ in pairs])
                held = dict(pairs)
                found = {t for t, owner, epoch in cursor.fetchall()
                         if owner == self.owner and epoch == held[t]}
            finally:
                cursor.close()
            if len(found) == len(tables):
                return
        raise Fenced(tables - found)

    def _drop(self, tables: set[str]) -> None:
        """Forget the queued writes of fenced `tables`."""
        for t in tables:
            self.held.pop(t, None)
            self._status.pop(t, None)
            self._house.pop(t, None)
        self._fenced |= tables
        self._actions = [a for a in self._actions if a["table_id"] not in tables]
        self._snapshots = [x for x in self._snapshots if x["table_id"] not in tables]
        self._finished = [x for x in self._finished if x["table_id"] not in tables]
        self._results = {k: v for k, v in self._results.items() if k.rsplit(":", 1)[0] not in tables}
        self._chat = [x for x in self._chat if x["table_id"] not in tables]
        self._credits = [c for c in self._credits if c["table"] not in tables]

    def _write_batch(self, conn: Connection) -> None:
        if self.owner:
            tables = self._written_tables()
            if tables:
                self._fence(conn, tables)
        sql = self._sql
        cursor = conn.connection.cursor()  # the same connection and transaction, one executemany each
        try:
            if self._new_tables:
                cursor.executemany(sql.new_table.sql, [sql.new_table.row(t) for t in self._new_tables])
            if self._actions:
                cursor.executemany(sql.actions, [
                    (a["table_id"], a["seq"], a["epoch"], _encode_json(a["entry"]).decode(), a["ts"])
                    for a in self._actions])
            if self._snapshots:
                cursor.executemany(sql.snapshots, [(x["table_id"], x["seq"], x["format"], x["state"], x["ts"])
                                                   for x in self._snapshots])
            if self._status:
                cursor.executemany(sql.status, [(st, t) for t, st in self._status.items()])
            # a game's record (`store_results`), then rare writes (chat, replays) through SQLAlchemy
            if self._finished:
                store_results.write(cursor, self._results_sql, self._finished, self._results)
            if self._chat:
                conn.execute(insert(_chat), self._chat)
            if self._replays:
                conn.execute(_set_replay, self._replays)
            if self._credits:
                cursor.executemany(sql.credit, [(c["d"], c["uid"]) for c in self._credits])
            house = sum(self._house.values())
            if house:
                cursor.execute(sql.house, (house,))
        finally:
            cursor.close()

    def _clear(self) -> None:
        self._results, self._replays = {}, []
        self._new_tables, self._actions, self._snapshots, self._finished, self._chat = [], [], [], [], []
        self._status, self._credits, self._house = {}, [], {}

    def _failed(self) -> None:
        """Drop pooled connections: SQLite keeps a connection opened read-only so for good."""
        self._close_connection(None)
        try:
            self.engine.dispose()
        except SQLAlchemyError:
            pass

    def commit_debit(self, table_id: str, first_seq: int, entries: Sequence[e.Entry]) -> None:
        """Flush the batch, then write `entries` with the balance debits they carry in one transaction
        of their own. Raises InsufficientChips (nothing written) when a balance cannot pay, StoreFailed
        when the database refuses."""
        self.flush()
        epoch = self.held.get(table_id, 0)
        rows = [{"table_id": table_id, "seq": first_seq + i, "epoch": epoch, "entry": e.to_builtins(x),
                 "ts": time.time()} for i, x in enumerate(entries)]
        started = time.perf_counter()
        try:
            with self.engine.begin() as conn:
                if self.owner:
                    self._fence(conn, {table_id})
                conn.execute(insert(_actions), rows)
                for user, delta in (move for entry in entries for move in e.chip_moves(entry)):
                    if user == e.HOUSE:
                        conn.execute(_house_move, {"d": delta})
                        continue
                    done = conn.execute(update(_users).where(_users.c.id == user, _users.c.chips + delta >= 0)
                                        .values(chips=_users.c.chips + delta))
                    if done.rowcount != 1:
                        balance = conn.execute(select(_users.c.chips).where(_users.c.id == user)).scalar()
                        raise InsufficientChips(user, -delta, int(balance or 0))
            self.on_commit(time.perf_counter() - started)
        except Fenced as exc:
            self._drop(exc.tables)
            raise
        except (SQLAlchemyError, self._driver_error) as exc:
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

    def open_tables(self, owner: str, ids: Sequence[str] | None = None,
                    chat_lines: int = 0) -> list[StoredTable]:
        """The live tables (waiting or playing) `owner` owns (of `ids`, if given), each with its latest
        snapshot and the entries recovery needs: those after the snapshot, and the current game's moves
        for its record; and its last `chat_lines` chat lines."""
        result = []
        with self.engine.connect() as conn:
            live = select(_tables).where(_tables.c.owner == owner, _tables.c.status.in_(LIVE_STATUSES))
            if ids is not None:
                live = live.where(_tables.c.id.in_(list(ids)))
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
                recent = select(_chat.c.name, _chat.c.text, _chat.c.ts).where(
                    _chat.c.table_id == record.id).order_by(_chat.c.id.desc()).limit(chat_lines)
                chat = conn.execute(recent).all() if chat_lines else []
                result.append(StoredTable(record, snap.state if snap else None, snap.seq if snap else 0,
                                          [(row.seq, e.from_builtins(row.entry)) for row in rows],
                                          [(line.name, line.text, line.ts) for line in reversed(chat)]))
        return result
