"""Ratings (common/ratings.py) on the run's database, written by the store with the finished game.

Updates must be OpenSkill's own for the same inputs; a game is rated once however often it is written
(recovery); bots, unrated tables and Hold'em change no rating; the profile figures add up.
"""

from __future__ import annotations

import pytest
from openskill.models import PlackettLuce
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from common import ratings
from common.models import FinishedGame, GamePlayer, Rating, RatingChange
from gameserver.store import Store


def finish(store: Store, result: ratings.GameResult) -> None:
    store.finish(result, table_id=result.game_id.split(":")[0], game=result.game, players=[], scores=[],
                 winners=[], actions=[], detail={}, finished=result.finished, game_id=result.game_id,
                 rated=result.rated)
    store.flush()


def hearts(game_id: str, scores: list[int], users: list[int], rated: bool = True) -> ratings.GameResult:
    return ratings.GameResult(game_id=game_id, game="hearts", rated=rated, lower_is_better=True,
                              seats=[ratings.SeatResult(seat=i, user=u, score=s, moons=int(s == 0))
                                     for i, (s, u) in enumerate(zip(scores, users, strict=True))],
                              finished=1000.0 + len(game_id))


def flat(pairs: list[tuple[float, float]] | list[tuple[float, float] | None]) -> list[float]:
    return [x for pair in pairs if pair is not None for x in pair]


def rating_of(engine: Engine, user: int, game: str = "hearts") -> tuple[float, float] | None:
    with engine.connect() as conn:
        row = conn.execute(select(Rating.mu, Rating.sigma).where(Rating.user_id == user, Rating.game == game)
                           ).first()
    return None if row is None else (row.mu, row.sigma)


def test_a_two_player_update_is_openskills_own_output() -> None:
    """openskill 6.2.0's PlackettLuce on two default ratings, the first winning, gives these numbers."""
    (win, lose) = ratings.new_ratings([(25.0, 25 / 3), (25.0, 25 / 3)], [1, 2])
    assert win == pytest.approx((27.635389493140497, 8.06590141354368), abs=1e-9)
    assert lose == pytest.approx((22.364610506859503, 8.06590141354368), abs=1e-9)
    assert ratings.new_ratings([(25.0, 25 / 3)] * 2, [1, 1])[0][0] == pytest.approx(25.0)  # a tie moves no mu


def test_a_four_player_match_with_a_tie_agrees_with_the_library(engine: Engine) -> None:
    model = PlackettLuce()
    before = [(25.0, 25 / 3), (30.0, 6.0), (20.0, 7.5), (27.0, 4.0)]
    scores = [40, 12, 40, 101]  # Hearts: lower is better; seats 0 and 2 tie for second
    teams = model.rate([[model.rating(mu=m, sigma=s)] for m, s in before], ranks=[2, 1, 2, 4])
    expected = [(t[0].mu, t[0].sigma) for t in teams]
    got = ratings.new_ratings(before, ratings.places(scores, True))
    assert flat(got) == pytest.approx(flat(expected))
    store = Store(engine)
    finish(store, hearts("t:1", [0, 0, 0, 0], [1, 2, 3, 4]))  # everybody ties: all start rated
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Rating)).scalar() == 4


def test_a_game_is_rated_once_however_often_it_is_written(engine: Engine) -> None:
    store = Store(engine)
    game = hearts("g1-0001:3", [3, 26, 10, 87], [1, 2, 3, 4])
    finish(store, game)
    once = [rating_of(engine, u) for u in (1, 2, 3, 4)]
    finish(store, game)  # a recovery writing the same finished game again
    assert [rating_of(engine, u) for u in (1, 2, 3, 4)] == once
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FinishedGame)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(RatingChange)).scalar() == 4
        assert conn.execute(select(Rating.games).where(Rating.user_id == 1)).scalar() == 1
    expected = ratings.new_ratings([(25.0, 25 / 3)] * 4, [1, 3, 2, 4])
    assert flat(once) == pytest.approx(flat(expected))


def test_bots_unrated_tables_and_holdem_change_no_rating(engine: Engine) -> None:
    store = Store(engine)
    finish(store, hearts("t1:5", [3, 26, 10, 87], [1, 0, 0, 0]))  # one person and three bots
    finish(store, hearts("t2:5", [3, 26, 10, 87], [1, 2, 0, 0], rated=False))  # a private table
    holdem = ratings.GameResult(game_id="t3:9", game="holdem", rated=True, lower_is_better=False,
                                seats=[ratings.SeatResult(0, 1, 50, pot=150), ratings.SeatResult(1, 2, -50)])
    finish(store, holdem)
    assert rating_of(engine, 1) is None and rating_of(engine, 1, "holdem") is None
    finish(store, hearts("t4:5", [3, 26, 10, 87], [1, 2, 0, 0]))  # two people and two bots: rated
    assert rating_of(engine, 1) is not None and rating_of(engine, 2) is not None
    assert rating_of(engine, 0) is None, "a bot is never rated"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(GamePlayer).where(GamePlayer.user_id == 0)
                            ).scalar() == 0
        profile = ratings.profile(conn, 1)
    assert profile["played"] == {"hearts": 3, "holdem": 1}
    assert profile["biggest_pot"] == 150 and profile["moons"] == 0
    assert [h["game_id"] for h in profile["history"]] == ["t4:5"]


def test_the_leaderboard_orders_by_ordinal_and_the_profile_keeps_history(engine: Engine) -> None:
    store = Store(engine)
    for n in range(3):
        finish(store, hearts(f"t{n}:1", [0, 26, 26, 26], [1, 2, 3, 4]))  # user 1 shoots the moon thrice
    with engine.connect() as conn:
        board = ratings.leaderboard(conn, "hearts")
        profile = ratings.profile(conn, 1)
    assert [row["user_id"] for row in board][0] == 1 and len(board) == 4
    assert [row["ordinal"] for row in board] == sorted((row["ordinal"] for row in board), reverse=True)
    assert profile["moons"] == 3 and len(profile["history"]) == 3
    assert all(change["delta"] > 0 for change in profile["history"])
