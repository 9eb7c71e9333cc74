"""The hand-history panel's summaries (common/hand_summary.py), from replays of games really played on a
table host (people and bots, tests/unit/gameserver/history_play.py) and built as the game server builds
them: a summary holds what its viewer's replay holds and nothing of the cards that viewer never saw."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from common import hand_summary as hs
from common import history as h
from gameserver import history
from tests.unit.gameserver.history_play import play


@cache
def stored(game: str, seats: int, seed: int, hands: int = 1) -> tuple[dict[str, Any], ...]:
    played = play(game, seats, seed, people=2, hands=hands)
    out = []
    for record in played.records:
        assert history.finished(played.table.config, record, 0.0).result is not None
        out.append(h.unpack(history.replay_text(played.table.config, record)))
    return tuple(out)


def summary(replay: dict[str, Any], viewer: str) -> dict[str, Any]:
    return hs.summarize(h.for_viewer(replay, viewer), number=1, finished=12.5)


def cards_in(value: Any) -> set[str]:
    """Every card-like string anywhere in a JSON value."""
    return set(re.findall(r"\b[2-9TJQKA][CDHS]\b", json.dumps(value)))


def hole_cards(replay: dict[str, Any]) -> dict[int, list[str]]:
    """Each seat's hole cards, from the full replay (what only the game server knew during the hand)."""
    full = h.for_viewer(replay, h.FULL)
    return {int(seat): view["hole"] for seat, view in full["steps"][0]["views"].items() if view.get("hole")}


def test_it_refuses_the_stored_form_and_the_full_replay() -> None:
    [replay] = stored("crazy_eights", 3, 2)
    with pytest.raises(ValueError):
        hs.summarize(replay, number=1, finished=0)
    with pytest.raises(ValueError):
        hs.summarize(h.for_viewer(replay, h.FULL), number=1, finished=0)


def test_holdem_streets_board_shown_cards_and_results_as_a_seat_saw_them() -> None:
    hands = stored("holdem", 3, 7, hands=8)
    showdowns = 0
    for replay in hands:
        holes = hole_cards(replay)
        mine = summary(replay, "0")
        assert mine["viewer"] == {"seat": 0} and mine["game"] == "holdem"
        assert mine["mine"] == holes[0]
        names = [r["name"] for r in mine["rounds"]]
        assert names[0] == "Preflop" and names == ["Preflop", "Flop", "Turn", "River"][:len(names)]
        assert sum((r["cards"] for r in mine["rounds"]), []) == mine["board"]
        shown = {s["seat"]: s["cards"] for s in mine["shown"]}
        for seat, cards in holes.items():
            if seat != 0 and seat not in shown:
                assert not set(cards) & cards_in(mine), f"seat {seat}'s unshown cards leaked"
            if seat in shown:
                assert shown[seat] == cards
        showdowns += bool(shown)
        results = {r["seat"]: r for r in mine["results"]}
        assert [r["score"] for r in results.values()] == [replay["result"]["scores"][s] for s in results]
        awarded = [a for r in mine["rounds"] for a in r["actions"] if a["kind"] == "pot_awarded"]
        assert sum(a["amount"] for a in awarded) == sum(r.get("won", 0) for r in results.values()) > 0
        assert {s for s in results if results[s]["winner"]} == set(replay["result"]["winners"])
        assert all(a["kind"] != "hand_over" for r in mine["rounds"] for a in r["actions"])
        watched = summary(replay, h.SPECTATOR)
        assert watched["mine"] is None and watched["viewer"] == {"seat": None}
        unshown = {c for seat, cards in holes.items() if seat not in shown for c in cards}
        assert not unshown & cards_in(watched)
    assert showdowns, "some hand went to a showdown"


def test_hearts_deals_tricks_and_passes_without_others_passed_cards() -> None:
    [replay] = stored("hearts", 4, 3)
    mine = summary(replay, "1")
    assert mine["mine"] and len(mine["mine"]) == 13
    for deal in mine["rounds"]:
        assert deal["name"].startswith("Deal ")
        tricks = [a for a in deal["actions"] if a["kind"] == "trick"]
        assert len(tricks) == 13 and all(len(t["plays"]) == 4 for t in tricks)
        passes = [a for a in deal["actions"] if a["kind"] == "cards_passed"]
        assert all(("cards" in a) == (a["seat"] == 1) for a in passes)  # only my own passed cards
        assert any(a["kind"] == "deal_scored" for a in deal["actions"])
    assert [r["score"] for r in mine["results"]] == replay["result"]["scores"]
    assert mine["lower_is_better"] is True


def test_crazy_eights_plays_and_only_my_own_draws() -> None:
    [replay] = stored("crazy_eights", 3, 2)
    mine = summary(replay, "0")
    [game] = mine["rounds"]
    kinds = {a["kind"] for a in game["actions"]}
    assert {"started", "played", "hand_over"} <= kinds
    draws = [a for a in game["actions"] if a["kind"] == "drew"]
    assert all(("card" in a) == (a["seat"] == 0) for a in draws if not a.get("penalty"))
    assert summary(replay, h.SPECTATOR)["mine"] is None


def test_unknown_event_kinds_are_left_out_and_stand_ins_are_marked() -> None:
    replay = {"game": "crazy_eights", "game_id": "t:1", "table": "t", "viewer": {"seat": 0, "full": False},
              "players": [{"seat": 0, "name": "ann", "bot": False}, {"seat": 1, "name": "Bot", "bot": True}],
              "result": {"scores": [0, 5], "winners": [0], "lower_is_better": True},
              "steps": [{"kind": "deal", "view": {"hand": ["2C"]},
                         "events": [{"kind": "secret_thing", "deck": ["AS"]}]},
                        {"kind": "move", "seat": 0, "by": "clock", "view": {},
                         "events": [{"kind": "played", "seat": 0, "card": "2C", "suit": "C", "extra": 1}]},
                        {"kind": "move", "seat": 1, "by": "bot", "view": {},
                         "events": [{"kind": "passed", "seat": 1}]}]}
    out = hs.summarize(replay, number=4, finished=3.0)
    played = {"kind": "played", "seat": 0, "card": "2C", "suit": "C", "by": "clock"}
    assert out["rounds"][0]["actions"] == [played, {"kind": "passed", "seat": 1}]
    assert "AS" not in json.dumps(out) and out["mine"] == ["2C"] and out["number"] == 4


def test_a_summary_is_made_without_the_exports_deal_checks_and_says_the_same() -> None:
    replay = stored("holdem", 3, 4)[0]
    export, lean = h.for_viewer(replay, "0"), h.for_viewer(replay, "0", fair=False)
    # what the seat saw of each deal, checked against its reveal: worked out for exports only
    assert any("seen" in deal for deal in export["fair"])
    assert not any("seen" in deal for deal in lean.get("fair", []))
    assert hs.summarize(lean, number=1, finished=12.5) == hs.summarize(export, number=1, finished=12.5)
