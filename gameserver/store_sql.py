"""The game server's per-pass SQL in the driver's own dialect (a part of `gameserver.store`).

Owns the text of the statements every group commit runs on the driver's cursor (the fence, the log,
snapshots, statuses, chips), built once per store: going through SQLAlchemy, each pass would build,
cache-key and compile them again; and the handles of the tables they write, which the store uses too.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table

from common.models import House, TableAction, TableRecord, TableSnapshot, User

_tables = cast(Table, TableRecord.__table__)
_actions = cast(Table, TableAction.__table__)
_snapshots = cast(Table, TableSnapshot.__table__)
_users = cast(Table, User.__table__)
_house = cast(Table, House.__table__)


class DriverSql:
    """The statements of every pass (the fence, the log, snapshots, statuses, chips) in the driver's own
    SQL, run on its cursor inside the SQLAlchemy transaction: each pass would otherwise build, cache-key
    and compile them again (a third of the game server's time per pass, measured)."""

    def __init__(self, dialect: Any) -> None:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.mark = mark
        json = f"CAST({mark} AS JSON)" if dialect.name == "postgresql" else mark  # SQLite: JSON is text
        self.actions = (f"INSERT INTO {_actions.name} (table_id, seq, epoch, entry, ts) "
                        f"VALUES ({mark}, {mark}, {mark}, {json}, {mark})")
        self.snapshots = (f"INSERT INTO {_snapshots.name} (table_id, seq, format, state, ts) "
                          f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})")
        self.status = f"UPDATE {_tables.name} SET status = {mark} WHERE id = {mark}"
        self.credit = f"UPDATE {_users.name} SET chips = chips + {mark} WHERE id = {mark}"
        self.house = f"UPDATE {_house.name} SET chips = chips + {mark} WHERE id = 1"
        self.sqlite = dialect.name == "sqlite"
        self._lock = "" if self.sqlite else " FOR UPDATE"

    def _ours(self, count: int) -> str:
        pairs = ", ".join([f"({self.mark}, {self.mark})"] * count)
        return f"owner = {self.mark} AND (id, epoch) IN (VALUES {pairs})"

    def fence(self, count: int) -> str:
        """The tables (of `count`) that are this owner's at the epoch held (PostgreSQL: locked till the
        commit): parameters owner, then (id, epoch) `count` times."""
        return f"SELECT id FROM {_tables.name} WHERE {self._ours(count)}{self._lock}"

    def fence_update(self, count: int) -> str:
        """SQLite's fence: the same rows, changed to what they are (it takes the write lock)."""
        return f"UPDATE {_tables.name} SET epoch = epoch WHERE {self._ours(count)}"
