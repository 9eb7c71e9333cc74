"""Durable state of one game server: table records, their append-only logs, finished games and chat.

Writes are batched: the server queues everything one pass over its socket produced and calls `flush()`
once, before any acknowledgement of that pass is sent, so an acknowledged move is always on disk
(a group commit). Uses SQLAlchemy Core for the hot path.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine

from common.models import ChatRecord, FinishedGame, TableAction, TableRecord, User

_tables = TableRecord.__table__
_actions = TableAction.__table__
_finished = FinishedGame.__table__
_chat = ChatRecord.__table__
_set_status = update(_tables).where(_tables.c.id == bindparam("tid")).values(status=bindparam("st"))
_users = User.__table__


class NotEnoughChips(Exception):
    pass


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._new_tables: list[dict[str, Any]] = []
        self._actions: list[dict[str, Any]] = []
        self._status: dict[str, str] = {}
        self._finished: list[dict[str, Any]] = []
        self._chat: list[dict[str, Any]] = []
        self._chips: list[tuple[int, int]] = []

    # ---- queued writes -------------------------------------------------------------------------

    def create_table(self, **record: Any) -> None:
        self._new_tables.append(record)

    def append(self, table_id: str, first_seq: int, entries: list[dict[str, Any]]) -> None:
        now = time.time()
        for i, entry in enumerate(entries):
            self._actions.append({"table_id": table_id, "seq": first_seq + i, "entry": entry, "ts": now})

    def set_status(self, table_id: str, status: str) -> None:
        self._status[table_id] = status

    def finish(self, **record: Any) -> None:
        self._finished.append(record)

    def chat(self, table_id: str, user: int, name: str, text: str) -> None:
        self._chat.append({"table_id": table_id, "user": user, "name": name, "text": text, "ts": time.time()})

    def move_chips(self, moves: list[tuple[int, int]]) -> None:
        """Queue (user, +/-chips) balance changes; user 0 is the house (bots) and has no balance."""
        self._chips.extend((user, delta) for user, delta in moves if user and delta)

    def balance(self, user: int) -> int:
        """A user's chip balance as committed, less what this batch already took."""
        with self.engine.connect() as conn:
            chips = conn.execute(select(_users.c.chips).where(_users.c.id == user)).scalar()
        return int(chips or 0) + sum(d for u, d in self._chips if u == user)

    @property
    def dirty(self) -> bool:
        return bool(self._new_tables or self._actions or self._status or self._finished or self._chat
                    or self._chips)

    def flush(self) -> None:
        """Write everything queued in one transaction."""
        if not self.dirty:
            return
        with self.engine.begin() as conn:
            if self._new_tables:
                conn.execute(insert(_tables), self._new_tables)
            if self._actions:
                conn.execute(insert(_actions), self._actions)
            if self._status:  # one prepared statement, executemany: no statement built per table
                conn.execute(_set_status, [{"tid": t, "st": s} for t, s in self._status.items()])
            if self._finished:
                conn.execute(insert(_finished), self._finished)
            if self._chat:
                conn.execute(insert(_chat), self._chat)
            for user, delta in self._chips:
                done = conn.execute(update(_users).where(_users.c.id == user, _users.c.chips + delta >= 0)
                                    .values(chips=_users.c.chips + delta))
                if done.rowcount != 1:
                    raise NotEnoughChips(f"user {user} cannot pay {-delta} chips")
        self._new_tables, self._actions, self._finished, self._chat, self._chips = [], [], [], [], []
        self._status = {}

    # ---- reads (start-up) ----------------------------------------------------------------------

    def last_table_number(self, server: str) -> int:
        """The highest N of this server's table ids "<server>-N", so new ids never repeat."""
        with self.engine.connect() as conn:
            ids = conn.execute(select(_tables.c.id).where(_tables.c.server == server)).scalars().all()
        numbers = [int(i.rsplit("-", 1)[1]) for i in ids if i.rsplit("-", 1)[1].isdigit()]
        return max(numbers, default=0)

    def open_tables(self, server: str) -> list[tuple[Any, list[dict[str, Any]]]]:
        """This server's unfinished tables with their logs in order, to rebuild after a restart."""
        with self.engine.connect() as conn:
            records = conn.execute(select(_tables).where(
                _tables.c.server == server, _tables.c.status != "over").order_by(_tables.c.created)).all()
            result = []
            for record in records:
                entries = conn.execute(select(_actions.c.entry).where(_actions.c.table_id == record.id)
                                       .order_by(_actions.c.seq)).scalars().all()
                result.append((record, list(entries)))
        return result
