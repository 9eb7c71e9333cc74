"""Finished games' replays, built on a worker thread so a long match's end does not hold up the loop.

A Hearts match to 100 is some 450 steps, each with a view for every seat and a spectator: hundreds of
milliseconds of work (figures in README, Performance). The finished game's record, its players and
their ratings are written at once, with the move that ended it (`gameserver.history.finished`); the
replay follows in a later batch (an UPDATE of that record), folded and built here from the record (the
loop folds nothing at a game's end: the seats' figures come from the events the table kept). A crash in
between leaves the game without a replay (the pages say so), never without its record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from gameserver import engine as en
from gameserver import history
from gameserver.table_types import GameRecord

log = logging.getLogger("felt.gameserver.replays")


class Replays:
    def __init__(self, store_replay: Callable[[str, str], None], flush: Callable[[], None]) -> None:
        self._store_replay = store_replay  # (game id, text): queue the replay's write
        self._flush = flush  # write what is queued (on the loop)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[str]] = {}

    def submit(self, config: en.TableConfig, record: GameRecord, made: history.Finished) -> None:
        """Build the replay of a game `history.finished` made, off the loop if one runs (else at once)."""
        if made.result is None:
            return
        game_id = made.result.game_id
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self._write(game_id, history.replay_text(config, record))
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="felt-replays")
        future = self._pool.submit(history.replay_text, config, record)
        self._pending[game_id] = future
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._done, game_id))

    def _done(self, game_id: str) -> None:
        future = self._pending.pop(game_id, None)
        if future is None:
            return
        try:
            text = future.result()
        except Exception:  # a replay that cannot be built must not stop the server
            log.exception("game %s: its replay could not be built", game_id)
            return
        self._write(game_id, text)
        self._flush()

    def _write(self, game_id: str, text: str) -> None:
        self._store_replay(game_id, text)

    def close(self) -> None:
        """Finish every build under way and queue their writes (the caller flushes)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for game_id in list(self._pending):
            future = self._pending.pop(game_id)
            try:
                self._write(game_id, future.result())
            except Exception:
                log.exception("game %s: its replay could not be built", game_id)
