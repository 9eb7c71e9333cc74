"""A game server's table wake-ups and the forgetting of tables: one heap of (when, table) for every
table's next automatic move (a bot's turn, a turn clock, a deal after the pause, a spectator delay
line), on one asyncio timer for the earliest; and, each heartbeat, the pruning of finished tables
nobody watches and of abandoned ones.

Mixed into `GameServer` (`gameserver.server`) before its other bases: what it uses of the server is
declared here, its methods only for the type checker (a stub at run time would hide the real one of a
later base).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from gameserver.chat import TableChat
from gameserver.lobby import LobbyTracker
from gameserver.store import Store
from gameserver.table import Result, Table

log = logging.getLogger("felt.gameserver")


class TableTimers:
    """Mixed into `GameServer`: what it needs from the server is declared here."""

    store: Store
    tables: dict[str, Table]
    lobby: LobbyTracker
    chat: TableChat
    clock: Callable[[], float]
    _timers: list[tuple[float, str]]
    _timer_handle: asyncio.TimerHandle | None
    _status_written: dict[str, str]

    if TYPE_CHECKING:
        def _touch(self, table: Table) -> None: ...
        def _absorb(self, table: Table, result: Result, logged: bool = False) -> None: ...
        def _commit_and_send(self) -> None: ...
        def _announce_lobby(self) -> None: ...
        def _check_input(self) -> None: ...

    def _arm(self, table: Table) -> None:
        when = table.wake_at()
        if when is None:
            return
        heapq.heappush(self._timers, (when, table.id))
        if self._timers[0][1] == table.id:
            self._rearm_handle()

    def _rearm_handle(self) -> None:
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
        if not self._timers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not serving yet (recovery): run() re-arms
        delay = max(0.0, self._timers[0][0] - self.clock())
        self._timer_handle = loop.call_later(delay, self._on_timers)

    def _on_timers(self) -> None:
        self._timer_handle = None
        now = self.clock()
        due: set[str] = set()
        while self._timers and self._timers[0][0] <= now:
            due.add(heapq.heappop(self._timers)[1])
        for table_id in due:
            table = self.tables.get(table_id)
            if table is None:
                continue
            when = table.wake_at()
            if when is not None and when <= now:
                try:
                    self._touch(table)
                    self._absorb(table, table.tick(now))
                except Exception:
                    log.exception("table %s: automatic move failed", table_id)
            else:
                self._arm(table)
        self._commit_and_send()
        self._rearm_handle()

    def _forget(self, table_id: str) -> None:
        del self.tables[table_id]
        self.chat.forget(table_id)
        self._status_written.pop(table_id, None)
        self.lobby.dirty.add(table_id)
        self.store.release(table_id)

    def _prune(self, now: float) -> None:
        """Forget finished tables nobody watches (their record stays in the database), and close
        tables nobody sits at or watches (bots alone do not keep a table open)."""
        for table_id, table in list(self.tables.items()):
            if table.over and not table.watchers():
                self._forget(table_id)
            elif table.abandoned():
                self._touch(table)
                self._absorb(table, table.close("abandoned", now))
                self._forget(table_id)
        if self.store.dirty:
            self._commit_and_send()
        self._announce_lobby()
        self._check_input()  # the lobby broadcast may have swallowed the FD's edge of an arrival
