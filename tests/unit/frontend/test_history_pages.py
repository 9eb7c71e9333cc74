"""The history, replay, export, leaderboard and profile pages (frontend/history.py) on real stored games.

Games are played on a real table host (people and bots), and written as the game server writes them:
`gameserver.history.finished` and `replay_text` make the record and the replay, and the store commits
them with the ratings. Users 1 and
2 (alice, bob) sat at the games; carol did not.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time

import pokerkit
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from common import history as ch
from common.models import FinishedGame
from frontend.db import database
from gameserver import history
from gameserver.store import Store
from tests.unit.frontend.conftest import AuthActions
from tests.unit.gameserver.history_play import play


def store_games(app: Flask, game: str, seats: int, seed: int, public: bool = True,
                hands: int = 1) -> list[str]:
    played = play(game, seats, seed, people=2, hands=hands)
    config = dataclasses.replace(played.table.config, public=public, rated=public)
    store = Store(database(app).engine)
    ids = []
    for record in played.records:
        made = history.finished(config, record, time.time())
        assert made.result is not None
        store.finish(made.result, table_id=config.id, game=game, players=record.players,
                     scores=list(record.outcome.scores), winners=list(record.outcome.winners),
                     actions=record.actions, detail=dict(record.outcome.detail), **made.columns)
        store.set_replay(made.result.game_id, history.replay_text(config, record))
        ids.append(made.result.game_id)
    store.flush()
    return ids


def test_my_games_lists_the_games_i_sat_at_and_needs_a_login(app: Flask, client: FlaskClient,
                                                             people: AuthActions) -> None:
    [game_id] = store_games(app, "hearts", 4, 1)
    assert client.get("/history").status_code == 302
    people.login("alice")
    page = client.get("/history").get_data(as_text=True)
    assert f'data-game-id="{game_id}"' in page and "Hearts" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline script (CSP)"
    people.logout()
    people.login("carol")
    assert game_id not in client.get("/history").get_data(as_text=True)


def test_a_player_replays_their_own_seat_or_every_card_and_others_the_spectators(
        app: Flask, client: FlaskClient, people: AuthActions) -> None:
    [game_id] = store_games(app, "crazy_eights", 3, 2)
    people.login("alice")
    page = client.get(f"/history/{game_id}")
    assert page.status_code == 200 and 'id="full"' in page.get_data(as_text=True)
    mine = client.get(f"/history/{game_id}/replay.json").get_json()
    assert mine["viewer"] == {"seat": 0, "full": False}
    assert all(step["view"]["seat"] == 0 and step["view"]["hand"] is not None for step in mine["steps"])
    full = client.get(f"/history/{game_id}/replay.json?full=1").get_json()
    assert full["viewer"]["full"] and set(full["steps"][0]["views"]) == {"0", "1", "2"}
    people.logout()
    people.login("carol")
    watched = client.get(f"/history/{game_id}/replay.json?full=1").get_json()  # asks for all, gets less
    assert watched["viewer"] == {"seat": None, "full": False}
    assert all(step["view"].get("hand") is None for step in watched["steps"])
    assert 'id="full"' not in client.get(f"/history/{game_id}").get_data(as_text=True)


def test_a_private_tables_game_is_only_its_players(app: Flask, client: FlaskClient,
                                                  people: AuthActions) -> None:
    [game_id] = store_games(app, "crazy_eights", 3, 3, public=False)
    people.login("carol")
    for path in (f"/history/{game_id}", f"/history/{game_id}/replay.json", f"/history/{game_id}/export.json"):
        assert client.get(path).status_code == 404
    people.logout()
    people.login("bob")
    assert client.get(f"/history/{game_id}/replay.json").get_json()["viewer"]["seat"] == 1
    assert client.get("/history/nope:1/replay.json").status_code == 404
    with database(app).engine.begin() as conn:  # a replay not written yet: the result, and a word
        conn.execute(update(FinishedGame).where(FinishedGame.game_id == game_id).values(replay=None))
    assert 'id="no-replay"' in client.get(f"/history/{game_id}").get_data(as_text=True)
    assert client.get(f"/history/{game_id}/replay.json").status_code == 404
    people.logout()
    assert client.get(f"/history/{game_id}/replay.json").status_code == 401


def test_exports_download_phh_and_json_as_the_user_may_see(app: Flask, client: FlaskClient,
                                                            people: AuthActions) -> None:
    ids = store_games(app, "holdem", 3, 4, hands=3)
    people.login("alice")
    for game_id in ids:
        phh = client.get(f"/history/{game_id}/export.phh?full=1")
        assert phh.status_code == 200 and "attachment" in phh.headers["Content-Disposition"]
        hh = pokerkit.HandHistory.loads(phh.get_data(as_text=True))
        assert "????" not in hh.actions[0]
        data = client.get(f"/history/{game_id}/export.json").get_json()
        assert data["format"] == ch.REPLAY_FORMAT and data["version"] == ch.REPLAY_VERSION
        assert data["viewer"]["seat"] == 0
    people.logout()
    people.login("carol")
    text = client.get(f"/history/{ids[0]}/export.phh?full=1").get_data(as_text=True)
    assert all(line.endswith("????") or " dh " not in line
               for line in json.loads(text.split("actions = ", 1)[1].split("\n", 1)[0]))
    assert client.get(f"/history/{ids[0]}/export.exe").status_code == 404
    [hearts] = store_games(app, "hearts", 4, 5)
    assert client.get(f"/history/{hearts}/export.phh").status_code == 404  # PHH is for Hold'em


def test_the_leaderboard_and_profile_show_rated_games(app: Flask, client: FlaskClient,
                                                     people: AuthActions) -> None:
    store_games(app, "hearts", 4, 6)
    store_games(app, "crazy_eights", 3, 7)
    people.login("carol")
    board = client.get("/leaderboard/hearts").get_data(as_text=True)
    assert "alice" in board and "bob" in board and "carol" not in board.split('id="board"')[1]
    assert 'id="not-rated"' in client.get("/leaderboard/holdem").get_data(as_text=True)
    assert client.get("/leaderboard/chess").status_code == 404
    profile = client.get("/player/alice").get_data(as_text=True)
    assert 'id="rating-history"' in profile and profile.count("Replay") == 2
    assert re.search(r'data-game="hearts">1 game', profile)
    assert client.get("/player/nobody").status_code == 404


def test_a_finished_sit_and_go_is_in_my_games_with_its_place_and_prize(app: Flask, client: FlaskClient,
                                                                       people: AuthActions) -> None:
    from tests.unit.gameserver.test_sitandgo_table import play_out

    table, _ = play_out(seats=5, seed=2)  # alice (user 1) and four bots
    record = table._record(table.seq, time.time())
    store = Store(database(app).engine)
    store.finish(history.tournament_result(record), **record)
    store.flush()
    place = table.tourney.places[0]
    prize = table.tourney.prizes.get(0, 0)
    people.login("alice")
    page = client.get("/history").get_data(as_text=True)
    row = page[page.index(f'data-game-id="{record["game_id"]}"'):]
    row = row[:row.index("</tr>")]
    assert "Sit &amp; Go" in row and f"{place} of 5" in row and f"<td>{prize}</td>" in row
    detail = client.get(f"/history/{record['game_id']}")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "Place · prize" in text and 'id="tournament-note"' in text
    assert f"<td>{place} · {prize}</td>" in text and 'id="no-replay"' not in text
