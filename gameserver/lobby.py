"""What the lobby last heard of each table, so a game server announces only real changes, once a pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common import protocol as p
from gameserver.table import Table


class LobbyTracker:
    def __init__(self) -> None:
        self.dirty: set[str] = set()  # tables that may have changed in the lobby's eyes this pass
        self._seen: dict[str, tuple[Any, ...]] = {}  # table -> what the lobby last heard of it

    def changes(self, tables: Mapping[str, Table]) -> p.TablesChanged | None:
        """The public tables that changed (seats, status, spectators) or went away since last time."""
        if not self.dirty:
            return None
        changed, removed = [], []
        for table_id in self.dirty:
            table = tables.get(table_id)
            if table is None:
                if self._seen.pop(table_id, None) is not None:
                    removed.append(table_id)
                continue
            if not table.public:
                continue
            info = table.info()
            key = (tuple(info.players), info.status, info.spectators)
            if self._seen.get(table_id) != key:
                self._seen[table_id] = key
                changed.append(info)
        self.dirty.clear()
        return p.TablesChanged(tables=changed, removed=removed) if changed or removed else None
