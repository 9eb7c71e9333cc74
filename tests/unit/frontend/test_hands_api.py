"""`GET /api/tables/<id>/hands` (frontend/hands.py) on games really played and stored as the game server
stores them (tests/unit/frontend/test_history_pages.py's `store_games`): alice (seat 0) and bob (seat 1)
sat at the table, carol did not. What each gets is what their replay holds: their own cards, others'
only where shown; a spectator's of a public table; nothing at all of a private table they never sat at."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from common import history as ch
from common.models import FinishedGame, TableRecord
from frontend import hands as hands_api
from frontend.db import database
from tests.unit.frontend.conftest import AuthActions
from tests.unit.frontend.test_history_pages import store_games

TABLE = "g1-0001"  # what tests/unit/gameserver/history_play.py names its table


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hands_api, "_summaries", hands_api._Summaries(16))  # each test's own games


def add_table(app: Flask, game: str, seats: int, public: bool = True) -> None:
    with database(app).sessions() as s:
        s.add(TableRecord(id=TABLE, server="g1", owner="g1", game=game, seats=seats, creator=1, seed="secret",
                          public=public, invite="" if public else "letmein"))
        s.commit()


def holes(app: Flask, game_id: str) -> dict[int, list[str]]:
    """Each seat's hole cards in a stored hand (what only the game server knew while it was played)."""
    with database(app).sessions() as s:
        text = s.query(FinishedGame.replay).filter(FinishedGame.game_id == game_id).scalar()
    full = ch.for_viewer(ch.unpack(text), ch.FULL)
    return {int(seat): view["hole"] for seat, view in full["steps"][0]["views"].items() if view.get("hole")}


def cards_in(value: Any) -> set[str]:
    return set(re.findall(r"\b[2-9TJQKA][CDHS]\b", repr(value)))


def get(client: FlaskClient) -> Any:
    response = client.get(f"/api/tables/{TABLE}/hands")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.get_json()["hands"]


def test_a_seated_player_gets_the_last_20_hands_newest_first_with_only_what_they_saw(
        app: Flask, client: FlaskClient, people: AuthActions) -> None:
    add_table(app, "holdem", 3)
    ids = store_games(app, "holdem", 3, 6, hands=22)
    assert len(ids) == 22
    people.login("alice")
    listed = get(client)
    assert [x["game_id"] for x in listed] == ids[::-1][:20]
    assert [x["number"] for x in listed] == list(range(22, 2, -1))
    shown_some = hidden_some = False
    for summary in listed:
        dealt = holes(app, summary["game_id"])
        assert summary["viewer"] == {"seat": 0} and summary["mine"] == dealt[0]
        shown = {s["seat"] for s in summary["shown"]}
        for seat, cards in dealt.items():
            if seat == 0:
                continue
            if seat in shown:
                shown_some = True
                assert set(cards) <= cards_in(summary["shown"])
            else:
                hidden_some = True
                assert not set(cards) & cards_in(summary), f"{summary['game_id']}: seat {seat}'s cards leaked"
        assert summary["rounds"][0]["name"] == "Preflop" and summary["results"]
    assert shown_some and hidden_some
    assert get(client) == listed  # the second time from the cache, the same


def test_a_spectator_of_a_public_table_gets_the_spectators_view(app: Flask, client: FlaskClient,
                                                                 people: AuthActions) -> None:
    add_table(app, "holdem", 3)
    ids = store_games(app, "holdem", 3, 7, hands=6)
    people.login("carol")
    listed = get(client)
    assert [x["game_id"] for x in listed] == ids[::-1]
    hidden_some = False
    for summary in listed:
        assert summary["viewer"] == {"seat": None} and summary["mine"] is None
        shown = {s["seat"] for s in summary["shown"]}
        dealt = holes(app, summary["game_id"])
        hidden = {c for seat, cards in dealt.items() if seat not in shown for c in cards}
        assert not hidden & cards_in(summary)
        hidden_some = hidden_some or bool(hidden)
    assert hidden_some


def test_a_private_table_is_only_for_those_who_sat_there(app: Flask, client: FlaskClient,
                                                       people: AuthActions) -> None:
    add_table(app, "crazy_eights", 3, public=False)
    [game_id] = store_games(app, "crazy_eights", 3, 3, public=False)
    assert client.get(f"/api/tables/{TABLE}/hands").status_code == 401
    people.login("carol")
    stranger = client.get(f"/api/tables/{TABLE}/hands")
    nowhere = client.get("/api/tables/g9-9999/hands")
    assert stranger.status_code == nowhere.status_code == 404
    assert stranger.get_json() == nowhere.get_json()  # not even that the table exists
    assert client.get(f"/api/tables/{TABLE}/hands?invite=wrong").status_code == 404
    invited = client.get(f"/api/tables/{TABLE}/hands?invite=letmein")  # knows of it: sees no game of it
    assert invited.status_code == 200 and invited.get_json()["hands"] == []
    people.logout()
    people.login("bob")
    [summary] = get(client)
    assert summary["game_id"] == game_id and summary["viewer"] == {"seat": 1}
    assert summary["game"] == "crazy_eights" and len(summary["mine"]) == 5


def test_a_hand_whose_replay_is_not_written_yet_is_pending(app: Flask, client: FlaskClient,
                                                         people: AuthActions) -> None:
    add_table(app, "hearts", 4)
    [game_id] = store_games(app, "hearts", 4, 1)
    with database(app).engine.begin() as conn:
        conn.execute(update(FinishedGame).where(FinishedGame.game_id == game_id).values(replay=None))
    people.login("alice")
    [summary] = get(client)
    assert summary == {"game_id": game_id, "game": "hearts", "number": 1, "finished": summary["finished"],
                       "pending": True}


def test_a_spectator_delay_holds_back_what_spectators_have_not_seen_end(app: Flask, client: FlaskClient,
                                                                        people: AuthActions) -> None:
    add_table(app, "holdem", 3)
    ids = store_games(app, "holdem", 3, 7, hands=3)
    people.login("carol")
    for delay, listed in (("hand", ids[:2]), (600.0, []), (0, ids)):
        with database(app).engine.begin() as conn:
            conn.execute(update(TableRecord).where(TableRecord.id == TABLE).values(spectator_delay=delay))
        assert [x["game_id"] for x in get(client)] == listed[::-1]
    people.logout()
    people.login("alice")  # she played them: a delay is for spectators
    with database(app).engine.begin() as conn:
        conn.execute(update(TableRecord).where(TableRecord.id == TABLE).values(spectator_delay="hand"))
    assert [x["game_id"] for x in get(client)] == ids[::-1]


def test_the_history_pages_hold_back_from_spectators_what_the_delay_still_hides(
        app: Flask, client: FlaskClient, people: AuthActions) -> None:
    """The replay and export of a hand its spectators have not yet seen end are not theirs either."""
    add_table(app, "holdem", 3)
    ids = store_games(app, "holdem", 3, 7, hands=3)
    paths = ("/history/{}", "/history/{}/replay.json", "/history/{}/export.json", "/history/{}/export.phh")

    def statuses(game_id: str) -> set[int]:
        return {client.get(path.format(game_id)).status_code for path in paths}

    with database(app).engine.begin() as conn:
        conn.execute(update(TableRecord).where(TableRecord.id == TABLE).values(spectator_delay="hand"))
    people.login("carol")  # watched only
    assert statuses(ids[-1]) == {404} and statuses(ids[0]) == {200}
    with database(app).engine.begin() as conn:
        conn.execute(update(TableRecord).where(TableRecord.id == TABLE).values(spectator_delay=600.0))
    assert statuses(ids[0]) == {404}
    with database(app).engine.begin() as conn:
        conn.execute(update(TableRecord).where(TableRecord.id == TABLE).values(spectator_delay=0))
    assert statuses(ids[-1]) == {200}
    people.logout()
    people.login("alice")  # she played them: a delay is for spectators
    with database(app).engine.begin() as conn:
        conn.execute(update(TableRecord).where(TableRecord.id == TABLE).values(spectator_delay=600.0))
    assert statuses(ids[-1]) == {200}

