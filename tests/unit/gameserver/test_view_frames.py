"""`common.view_frames`: a pass's View frames with their shared part encoded once are the View built whole,
for every game's seats and spectators, with and without events, game, or invite."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from common import protocol as p
from common.policy import TablePolicy
from common.view_frames import OWN_FIELDS, ViewHead
from gameserver.rules import games


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"a key twice: {keys}"
    return dict(pairs)


def _same_frame(spliced: str, whole: p.View) -> None:
    assert p.decode_server(spliced) == whole
    assert json.loads(spliced, object_pairs_hook=_no_repeated_keys) == json.loads(p.encode_str(whole))


SHARED: dict[str, Any] = {
    "table": "g1-0001", "seq": 41, "status": "playing", "players": ["ann", None, "bob", "cy"],
    "bots": [2], "away": [2], "leaving": [3], "deadline": 1765000000.25, "creator": 7, "public": False,
    "spectator_delay": "hand", "policy": TablePolicy(), "time_banks": [30.0, 0.0, 12.5, 30.0],
    "bank_ends": {0: 1765000030.25}, "sitting_out": [1],
}


@pytest.mark.parametrize("name", sorted(games()))
def test_every_viewers_frame_is_the_view_built_whole(name: str) -> None:
    game = games()[name]
    rng = random.Random(3)
    seats = 4 if name != "holdem" else 6
    options = game.check_options(seats, {})
    state = game.setup(seats, rng, options)
    for _ in range(5):  # a few moves in: hands, piles and legal moves that differ by seat
        to_act = game.to_act(state)
        if not to_act or game.outcome(state) is not None:
            break
        state, _ = game.apply(state, to_act[0], game.bot_move(state, to_act[0], rng))
    events = [{"kind": "played", "seat": 1, "card": "QS"}, {"kind": "drew", "seat": 2}]
    fields = {**SHARED, "game": name}
    head = ViewHead(**fields)
    for seat in [*range(seats), None]:
        view = game.view(state, seat)
        for seen, invite, req in (([], None, None), (events, None, None), (events, "k3y", None),
                                  (events, None, 12), ([], "k3y", 0)):
            whole = p.View(view=view, seat=seat, events=seen, invite=invite, req=req, **fields)
            _same_frame(head.frame(view, seat, seen, invite, req), whole)
    _same_frame(head.frame(None, None, [], None), p.View(**fields))  # before a game: the shared part only


def test_a_head_with_only_the_required_fields_gives_the_bare_view() -> None:
    head = ViewHead(table="g1-0002", seq=0)
    _same_frame(head.frame(None, None, [], None), p.View(table="g1-0002", seq=0))
    _same_frame(head.frame(None, 2, [], None), p.View(table="g1-0002", seq=0, seat=2))


@pytest.mark.parametrize("own", OWN_FIELDS)
def test_a_viewers_own_field_cannot_be_shared(own: str) -> None:
    with pytest.raises(TypeError, match="not shared"):
        ViewHead(table="g1-0001", seq=1, **{own: None})
