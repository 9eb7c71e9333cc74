"""SQLite's WAL checkpoints, run on a thread of their own instead of inside the loop's group commits.

SQLite copies the write-ahead log back into the database file (a checkpoint, with an fsync) inside
whichever commit finds the log past 1,000 pages. On a game server that commit is one of the loop's, so
every half second or so at 500 moves/s one pass stalled for about 6 ms (2 ms of CPU, the rest the
fsync), every table on the server with it: with the passes that end a game, what made a quiet server's
slow passes (measured; README, Performance). Here the batches' connection does no checkpoints
(`wal_autocheckpoint = 0`) and this thread runs a PASSIVE checkpoint on its own connection every
`interval` seconds: it copies what no reader still needs and never blocks a writer, and sqlite3 lets
go of the GIL while it works, so the loop goes on meanwhile. Nothing about durability changes: a
checkpoint only moves committed pages. PostgreSQL checkpoints by itself; there this does nothing.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("felt.gameserver.wal")

#: Seconds between checkpoints: at 4,000 moves/s a pass writes a few pages, so the log stays a few MB.
INTERVAL = 0.5


class WalCheckpointer:
    def __init__(self, engine: Engine, interval: float = INTERVAL) -> None:
        self.engine = engine
        self.interval = interval
        self.sqlite = engine.dialect.name == "sqlite"
        self.done = 0  # checkpoints run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Run checkpoints every `interval` from now on (SQLite only: False, and nothing, elsewhere)."""
        if not self.sqlite or self._thread is not None:
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="felt-wal-checkpoints", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint: (busy, frames in the log, frames copied back), or None if it failed
        (logged; the next one tries again, and the log only grows meanwhile)."""
        try:
            with self.engine.connect() as conn:
                row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
                conn.commit()
        except SQLAlchemyError as exc:
            log.warning("WAL checkpoint failed (%s); trying again in %.1f s", exc, self.interval)
            return None
        self.done += 1
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint()
