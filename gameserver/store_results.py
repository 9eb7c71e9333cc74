"""Finished games' rows, written on the driver's cursor inside a batch's transaction (a part of
`gameserver.store`): each game's record, its people's history rows and their rating update; and read
back (`final_result`) for a request to a finished table no game server holds any more.

Through SQLAlchemy these were nine statements a game, each built, cache-keyed and compiled again (their
`IN` lists expanded each time): about 1.3 ms of the loop's time for every game that ended, the longest
stall of a pass at a busy server (measured; README, Performance). Here their text is built once per
store in the driver's own SQL. The rules of what is written are `common.ratings`': people only, a game
already stored or rated is not again (so recovery may write a game twice), and the rating model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine

from common import ratings
from common.models import FinishedGame, GamePlayer, Rating, RatingChange
from gameserver.store_sql import DriverSql, RowInsert, _actions, _tables

_finished = cast(Table, FinishedGame.__table__)
_players = cast(Table, GamePlayer.__table__)
_ratings = cast(Table, Rating.__table__)
_changes = cast(Table, RatingChange.__table__)


class ResultSql:
    """The statements, in the driver's dialect (`DriverSql`'s marks; built once, a list's once per
    length)."""

    def __init__(self, sql: DriverSql) -> None:
        self._sql = sql
        mark = sql.mark
        self.finished = RowInsert(_finished, mark, sql.json)
        self.players_of = f"SELECT 1 FROM {_players.name} WHERE game_id = {mark} LIMIT 1"
        self.insert_players = (f"INSERT INTO {_players.name} (game_id, seat, user_id, game, score, place, "
                               f"pot, moons, finished) VALUES ({sql.marks(9)})")
        self.insert_ratings = (f"INSERT INTO {_ratings.name} (game, user_id, mu, sigma, ordinal, games, "
                               f"updated) VALUES ({sql.marks(7)})")
        self.update_rating = (f"UPDATE {_ratings.name} SET mu = {mark}, sigma = {mark}, ordinal = {mark}, "
                              f"games = games + 1, updated = {mark} WHERE game = {mark} AND user_id = {mark}")
        self.insert_changes = (f"INSERT INTO {_changes.name} (game_id, game, user_id, place, mu_before, "
                               f"sigma_before, mu, sigma, ts) VALUES ({sql.marks(9)})")
        self._stored: dict[int, str] = {}
        self._rated: dict[int, str] = {}

    def stored(self, count: int) -> str:
        """Which of `count` game ids have a record already."""
        if count not in self._stored:
            self._stored[count] = (f"SELECT game_id FROM {_finished.name} "
                                   f"WHERE game_id IN ({self._sql.marks(count)})")
        return self._stored[count]

    def ratings_of(self, count: int) -> str:
        """The ratings of `count` users in one game (PostgreSQL: locked till the commit)."""
        if count not in self._rated:
            sql = self._sql
            self._rated[count] = (f"SELECT user_id, mu, sigma FROM {_ratings.name} WHERE game = {sql.mark} "
                                  f"AND user_id IN ({sql.marks(count)}){sql.lock}")
        return self._rated[count]


@dataclass(frozen=True)
class FinalResult:
    """A finished table's last result as stored, and who may be told it."""

    table: str
    seq: int  # the table's last entry
    scores: list[int]
    names: list[str]  # by seat ("" for an empty one)
    winners: list[int]
    people: frozenset[int]  # the users who sat at it
    public: bool
    delayed: bool  # spectators see it late


def final_result(engine: Engine, table_id: str) -> FinalResult | None:
    """The result of `table_id`'s last finished game (a sit-and-go's: the tournament's, written last), or
    None if it has none."""
    with engine.connect() as conn:
        table = conn.execute(select(_tables.c.public, _tables.c.spectator_delay)
                             .where(_tables.c.id == table_id)).first()
        game = conn.execute(select(_finished.c.players, _finished.c.scores, _finished.c.winners)
                            .where(_finished.c.table_id == table_id)
                            .order_by(_finished.c.id.desc()).limit(1)).first()
        seq = conn.execute(select(func.max(_actions.c.seq)).where(_actions.c.table_id == table_id)).scalar()
    if table is None or game is None:
        return None
    names = [""] * len(game.scores)
    for player in game.players:
        if 0 <= player["seat"] < len(names):
            names[player["seat"]] = player.get("name") or ""
    people = frozenset(int(x["user"]) for x in game.players if x.get("user") and not x.get("bot"))
    return FinalResult(table_id, int(seq or 0), list(game.scores), names, list(game.winners), people,
                       bool(table.public), bool(table.spectator_delay))


def write(cursor: Any, sql: ResultSql, records: Sequence[dict[str, Any]],
          results: dict[str, ratings.GameResult]) -> None:
    """The finished games' `records` not stored yet, and for each its `results` entry (by game id): the
    people's history rows and rating update. On the batch's cursor, in its transaction."""
    ids = [r["game_id"] for r in records if r.get("game_id")]
    stored: set[str] = set()
    if ids:
        cursor.execute(sql.stored(len(ids)), ids)
        stored = {row[0] for row in cursor.fetchall()}
    new = [r for r in records if r.get("game_id") not in stored]
    if new:
        cursor.executemany(sql.finished.sql, [sql.finished.row(r) for r in new])
    for r in new:
        result = results.get(r.get("game_id") or "")
        if result is not None:
            _people_and_ratings(cursor, sql, result)


def _people_and_ratings(cursor: Any, sql: ResultSql, result: ratings.GameResult) -> None:
    """A game's people in `game_players`, and its rating update; nothing if it has rows already."""
    cursor.execute(sql.players_of, (result.game_id,))
    if cursor.fetchone() is not None:
        return
    place = dict(zip((s.seat for s in result.seats),
                     ratings.places([s.score for s in result.seats], result.lower_is_better), strict=True))
    rows = [(result.game_id, s.seat, s.user, result.game, s.score, place[s.seat], s.pot, s.moons,
             result.finished) for s in result.seats if s.user]
    if rows:
        cursor.executemany(sql.insert_players, rows)
    people = ratings.rated_people(result)
    if not people:
        return
    users = [s.user for s in people]
    now = result.finished or time.time()
    cursor.execute(sql.ratings_of(len(users)), [result.game, *users])
    existing = {int(row[0]): (float(row[1]), float(row[2])) for row in cursor.fetchall()}
    missing = [u for u in users if u not in existing]
    if missing:  # a first rated game: the model's starting rating
        start = ratings.MODEL.rating()
        fresh = (float(start.mu), float(start.sigma))
        cursor.executemany(sql.insert_ratings, [(result.game, u, *fresh, ratings.ordinal(*fresh), 0, now)
                                                for u in missing])
        existing.update((u, fresh) for u in missing)
    before = [existing[u] for u in users]
    ranks = ratings.places([s.score for s in people], result.lower_is_better)
    after = ratings.new_ratings(before, ranks)
    cursor.executemany(sql.update_rating, [(mu, sigma, ratings.ordinal(mu, sigma), now, result.game, u)
                                           for u, (mu, sigma) in zip(users, after, strict=True)])
    cursor.executemany(sql.insert_changes, [
        (result.game_id, result.game, u, rank, b[0], b[1], a[0], a[1], now)
        for u, rank, b, a in zip(users, ranks, before, after, strict=True)])
