"""Ratings per game and player (OpenSkill's Plackett-Luce model), and the results they are made of.

What counts: a finished match of Hearts or Crazy Eights at a table whose `rated` setting is on (by
default, public tables). Only people are rated: the players' places are taken among the people at the
table by their scores (ties share a place), bots never get a rating, and a match with fewer than two
people rates nobody. Hold'em is not rated: a cash table has no finishing order (players come and go,
each hand is a few seconds of mostly luck at stakes the players chose), so a rating would measure
buy-ins, not skill; its profile figures (hands, biggest pot) are kept instead.

The game server writes a game's result, its players' history rows and their new ratings in the batch
that stores the finished game, together or not at all (`gameserver.store_results`, on the driver's
cursor, with this module's rules: `rated_people`, `places`, `new_ratings`); a game id already rated (a
recovery writing a game again) changes nothing. The reads for the pages (`leaderboard`, `profile`) are
here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from openskill.models import PlackettLuce
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

from common.models import GamePlayer, Rating, RatingChange

RATED_GAMES = frozenset({"hearts", "crazy_eights"})
MODEL = PlackettLuce()  # the library's defaults: mu 25, sigma 25/3, beta 25/6, tau 25/300

_players = cast(Table, GamePlayer.__table__)
_ratings = cast(Table, Rating.__table__)
_changes = cast(Table, RatingChange.__table__)


@dataclass(frozen=True)
class SeatResult:
    seat: int
    user: int  # 0: a bot
    score: int
    pot: int = 0  # Hold'em: the chips the hand paid this seat
    moons: int = 0  # Hearts: deals this seat shot the moon


@dataclass(frozen=True)
class GameResult:
    """A finished game as ratings and profiles need it."""

    game_id: str
    game: str
    rated: bool  # the table's setting
    lower_is_better: bool
    seats: list[SeatResult] = field(default_factory=list)
    finished: float = 0.0


def places(scores: Sequence[int], lower_is_better: bool) -> list[int]:
    """Standard competition ranking: 1 is first, ties share a place, the next place skips.

    >>> places([10, 3, 10, 26], lower_is_better=True)
    [2, 1, 2, 4]
    """
    sign = 1 if lower_is_better else -1
    return [1 + sum(1 for other in scores if sign * other < sign * mine) for mine in scores]


def new_ratings(before: Sequence[tuple[float, float]], ranks: Sequence[int]) -> list[tuple[float, float]]:
    """(mu, sigma) of each player after a game where they placed `ranks` (1 = first), from (mu, sigma)
    before: one OpenSkill Plackett-Luce update with every player a team of one."""
    teams = [[MODEL.rating(mu=mu, sigma=sigma)] for mu, sigma in before]
    rated = MODEL.rate(teams, ranks=list(ranks))
    return [(team[0].mu, team[0].sigma) for team in rated]


def ordinal(mu: float, sigma: float) -> float:
    """The number leaderboards sort by: a conservative estimate, mu - 3 sigma."""
    return mu - 3 * sigma


def rated_people(result: GameResult) -> list[SeatResult]:
    """The seats whose ratings this game changes: people at a rated table of a rated game (two at least)."""
    if not result.rated or result.game not in RATED_GAMES:
        return []
    people = [s for s in result.seats if s.user]
    return people if len({s.user for s in people}) >= 2 else []


# ---- reads for the pages ---------------------------------------------------------------------------


def leaderboard(conn: Connection, game: str, limit: int = 50) -> list[dict[str, Any]]:
    """The best-rated players of `game` (by ordinal), with their user ids."""
    rows = conn.execute(select(_ratings).where(_ratings.c.game == game)
                        .order_by(_ratings.c.ordinal.desc(), _ratings.c.user_id).limit(limit)).all()
    return [{"user_id": r.user_id, "mu": r.mu, "sigma": r.sigma, "ordinal": r.ordinal, "games": r.games}
            for r in rows]


def profile(conn: Connection, user: int, history: int = 50) -> dict[str, Any]:
    """A player's figures: games played per game, current ratings, rating history (newest first),
    biggest Hold'em pot and Hearts moon shots."""
    played = {g: n for g, n in conn.execute(select(_players.c.game, func.count()).where(
        _players.c.user_id == user).group_by(_players.c.game))}
    best = conn.execute(select(func.max(_players.c.pot), func.sum(_players.c.moons))
                        .where(_players.c.user_id == user)).first()
    ratings = {r.game: {"mu": r.mu, "sigma": r.sigma, "ordinal": r.ordinal, "games": r.games}
               for r in conn.execute(select(_ratings).where(_ratings.c.user_id == user))}
    changes = [{"game_id": r.game_id, "game": r.game, "place": r.place, "mu": r.mu, "sigma": r.sigma,
                "ordinal": ordinal(r.mu, r.sigma), "delta": ordinal(r.mu, r.sigma)
                - ordinal(r.mu_before, r.sigma_before), "ts": r.ts}
               for r in conn.execute(select(_changes).where(_changes.c.user_id == user)
                                     .order_by(_changes.c.ts.desc(), _changes.c.id.desc()).limit(history))]
    return {"played": played, "ratings": ratings, "history": changes,
            "biggest_pot": int(best[0] or 0) if best else 0, "moons": int(best[1] or 0) if best else 0}
