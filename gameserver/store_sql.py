"""The game server's per-pass SQL in the driver's own dialect (a part of `gameserver.store`).

Owns the text of the statements every group commit runs on the driver's cursor (the fence, the log,
snapshots, statuses, chips), built once per store: going through SQLAlchemy, each pass would build,
cache-key and compile them again; and the handles of the tables they write, which the store uses too.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
from sqlalchemy import JSON, Table
from sqlalchemy.exc import ArgumentError

from common.models import House, TableAction, TableRecord, TableSnapshot, User

_tables = cast(Table, TableRecord.__table__)
_actions = cast(Table, TableAction.__table__)
_snapshots = cast(Table, TableSnapshot.__table__)
_users = cast(Table, User.__table__)
_house = cast(Table, House.__table__)
_encode_json = msgspec.json.Encoder().encode


class DriverSql:
    """The statements of every pass (the fence, the log, snapshots, statuses, chips) in the driver's own
    SQL, run on its cursor inside the SQLAlchemy transaction: each pass would otherwise build, cache-key
    and compile them again (a third of the game server's time per pass, measured)."""

    def __init__(self, dialect: Any) -> None:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.mark = mark
        #: a JSON parameter (SQLite: JSON is text)
        self.json = json = f"CAST({mark} AS JSON)" if dialect.name == "postgresql" else mark
        self.actions = (f"INSERT INTO {_actions.name} (table_id, seq, epoch, entry, ts) "
                        f"VALUES ({mark}, {mark}, {mark}, {json}, {mark})")
        self.snapshots = (f"INSERT INTO {_snapshots.name} (table_id, seq, format, state, ts) "
                          f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})")
        self.status = f"UPDATE {_tables.name} SET status = {mark} WHERE id = {mark}"
        self.credit = f"UPDATE {_users.name} SET chips = chips + {mark} WHERE id = {mark}"
        self.house = f"UPDATE {_house.name} SET chips = chips + {mark} WHERE id = 1"
        self.sqlite = dialect.name == "sqlite"
        #: what locks rows read till the commit (SQLite: the write lock does)
        self.lock = "" if self.sqlite else " FOR UPDATE"
        self.new_table = RowInsert(_tables, mark, json)

    def marks(self, count: int) -> str:
        """`count` parameters, for an `IN (…)` list."""
        return ", ".join([self.mark] * count)

    def fence(self, count: int) -> str:
        """The id, owner and epoch of `count` tables, found by their primary key (PostgreSQL: locked till
        the commit); the store checks owner and epoch. Parameters: the ids.

        By the key, not by `owner = ?`: a server keeps owning the tables it closed, and a fence planned
        on the owner's index (SQLite's planner picks it, PostgreSQL's too before it has statistics) reads
        every one of them: 6 ms a pass at 50,000 (measured), against 12 µs by the key."""
        return f"SELECT id, owner, epoch FROM {_tables.name} WHERE id IN ({self.marks(count)}){self.lock}"

    def fence_update(self, count: int) -> str:
        """SQLite's fence: those of the tables that are the owner's at the epoch held, changed to what they
        are (it takes the write lock). Parameters as `fence_update_params` gives them; `+owner` keeps
        the owner's index out of the plan."""
        pairs = ", ".join([f"({self.mark}, {self.mark})"] * count)
        return (f"UPDATE {_tables.name} SET epoch = epoch WHERE id IN ({self.marks(count)}) "
                f"AND +owner = {self.mark} AND (id, epoch) IN (VALUES {pairs})")

    @staticmethod
    def fence_update_params(owner: str, pairs: list[tuple[str, int]]) -> list[Any]:
        """`fence_update`'s parameters for `pairs` of (table id, epoch held)."""
        return [*(table for table, _ in pairs), owner, *(x for pair in pairs for x in pair)]


class RowInsert:
    """An INSERT of whole rows of `table` in the driver's SQL, and its parameters for records: a column a
    record leaves out gets the model's default, as SQLAlchemy's insert gives it (an autoincrement key is
    the database's). A record with a field no column holds raises, an SQLAlchemy error as SQLAlchemy's
    insert raised, so its batch fails whole (StoreFailed). Through SQLAlchemy a table's first commit took
    0.9 ms of CPU, this way 0.5 ms (`rulesbench --server-only`)."""

    def __init__(self, table: Table, mark: str, json: str) -> None:
        columns = [c for c in table.columns if c.autoincrement is not True]
        self._columns = [(c.name, isinstance(c.type, JSON), cast(Any, c.default))  # a ColumnDefault
                         for c in columns]
        self._names = {c.name for c in columns}
        self._table = table.name
        self.sql = (f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) VALUES "
                    f"({', '.join(json if isinstance(c.type, JSON) else mark for c in columns)})")

    def row(self, record: dict[str, Any]) -> tuple[Any, ...]:
        unknown = set(record) - self._names
        if unknown:
            raise ArgumentError(f"a {self._table} record with no column for {sorted(unknown)}")
        row = []
        for name, is_json, default in self._columns:
            if name in record:
                value = record[name]
            elif default is None:
                value = None
            else:
                value = default.arg(None) if default.is_callable else default.arg
            row.append(_encode_json(value).decode() if is_json else value)
        return tuple(row)
