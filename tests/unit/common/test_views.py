"""The typed contract of common/views.py: the committed JSON Schema is current, real views of all three
games validate against it and decode back, and `legal` describes exactly the legal actions."""

from __future__ import annotations

import doctest
import json
import random
import typing
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from common import protocol as p
from common import views
from common.views import LegalAction, allows, example_action
from gameserver.rules import games
from gameserver.rules.base import CashGame, Game, IllegalMove
from tests.unit.random_play import walk

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "docs" / "schema"
GAMES = games()


def test_committed_schema_files_are_current() -> None:
    for name, schema in views.schemas().items():
        committed = (SCHEMA_DIR / name).read_text()
        assert committed == views.schema_text(schema), f"{name} is stale: run python -m common.views"


def test_the_command_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    views.main(["--out", str(tmp_path)])
    assert sorted(f.name for f in tmp_path.iterdir()) == ["client-messages.json", "server-messages.json"]
    for f in tmp_path.iterdir():
        assert f.read_text() == (SCHEMA_DIR / f.name).read_text()
    assert "server-messages.json" in capsys.readouterr().out


def test_action_types_are_the_protocol_tags() -> None:
    tags = {cls.__struct_config__.tag for cls in typing.get_args(p.Action)}
    assert set(typing.get_args(views.ActionType)) == tags


def test_doctests() -> None:
    result = doctest.testmod(views)
    assert result.failed == 0 and result.attempted > 0


def test_every_game_has_its_view_in_the_union() -> None:
    tags = {cls.__struct_config__.tag for cls in typing.get_args(views.GameView)}
    assert tags == set(GAMES)


# ---- building and checking actions from entries ------------------------------------------------------


def test_example_action_and_allows_for_each_kind_of_entry() -> None:
    rng = random.Random(1)
    eights = LegalAction("play", cards=["8C", "8H"], suits=["C", "D", "H", "S"])
    assert example_action(eights) == p.Play(card="8C", suit="C")
    assert allows(eights, example_action(eights, rng))
    assert not allows(eights, p.Play(card="8C"))  # the suit must be named
    assert not allows(eights, p.Play(card="8C", suit="X"))
    passing = LegalAction("pass_cards", cards=["2C", "3C", "4C", "5C"], count=3)
    assert example_action(passing) == p.PassCards(cards=["2C", "3C", "4C"])
    assert allows(passing, example_action(passing, rng))
    assert not allows(passing, p.PassCards(cards=["2C", "2C", "3C"]))
    assert not allows(passing, p.PassCards(cards=["2C", "3C"]))
    assert not allows(passing, p.PassCards(cards=["2C", "3C", "AS"]))
    raising = LegalAction("raise", field="to", min=200, max=900)
    assert example_action(raising) == p.Raise(to=200)
    assert all(allows(raising, example_action(raising, rng)) for _ in range(20))
    assert not allows(raising, p.Raise(to=199)) and not allows(raising, p.Raise(to=901))
    assert not allows(raising, p.Bet(amount=300))
    call = LegalAction("call", cost=50)
    assert example_action(call) == p.Call() and allows(call, p.Call()) and not allows(call, p.Check())
    assert msgspec.json.encode(call) == b'{"type":"call","cost":50}'  # unset fields are left out


def every_action(entry: LegalAction, rng: random.Random) -> list[p.Action]:
    """The actions of `entry` worth trying: every card and suit, both ends of a range and one between,
    the first and a few random card choices."""
    out = [example_action(entry), *(example_action(entry, rng) for _ in range(3))]
    fields = views.action_fields(entry)
    if entry.cards is not None and entry.count is None:
        for card in entry.cards:
            suits: list[str | None] = list(entry.suits) if entry.suits else [None]
            for suit in suits:
                out.append(p.action_from_builtins({**fields, "card": card, "suit": suit}))
    if entry.field is not None and entry.min is not None and entry.max is not None:
        out += [p.action_from_builtins({**fields, entry.field: value}) for value in (entry.min, entry.max)]
    return out


@pytest.mark.parametrize("name", sorted(GAMES))
def test_legal_describes_exactly_the_legal_actions(name: str) -> None:
    """Every action built from an entry of `legal` is accepted by `apply`; every `legal_moves` action is
    allowed by some entry; `legal` is empty exactly for the seats not to act; the view carries `legal`."""
    game: Game[Any] = GAMES[name]
    rng = random.Random(7)
    states = over = 0
    for seats, state in walk(game, seed=11, moves=600):
        states += 1
        over += game.outcome(state) is not None
        to_act = game.to_act(state)
        assert game.view(state, None).legal == []
        for seat in range(seats):
            legal = game.legal(state, seat)
            assert game.view(state, seat).legal == legal
            assert bool(legal) is (seat in to_act) is bool(game.legal_moves(state, seat))
            for move in game.legal_moves(state, seat):
                assert any(allows(entry, move) for entry in legal), (move, legal)
            for entry in legal:
                for action in every_action(entry, rng):
                    assert allows(entry, action), (entry, action)
                    try:
                        game.apply(state, seat, action)
                    except IllegalMove as exc:
                        raise AssertionError(f"{entry} built {action}, refused: {exc}") from None
    assert states > 600 and over > 0


# ---- the schema, against real frames -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_schema() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / "server-messages.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def frames_of(game: Game[Any], seed: int, moves: int) -> typing.Iterator[tuple[Any, p.View]]:
    """(the view, the frame carrying it) for every seat and a spectator along random games."""
    for n, (seats, state) in enumerate(walk(game, seed, moves)):
        cash = None
        if game.series == "cash":  # a CashGame
            stacks = typing.cast(CashGame[Any], game).seat_stacks(state)
            cash = p.CashInfo(table_stacks=list(stacks), hand_no=n, next_hand_at=None,
                              min_buy_in=2, max_buy_in=400)
        for viewer in [*range(seats), None]:
            view = game.view(state, viewer)
            yield view, p.View(table="g1-0001", seq=n, view=view, cash=cash, game=game.name, status="playing",
                               players=[f"p{i}" for i in range(seats)], seat=viewer, deadline=1.5)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_views_validate_against_the_schema_and_decode_back(
        name: str, server_schema: jsonschema.Draft202012Validator) -> None:
    count = 0
    for view, frame in frames_of(GAMES[name], seed=5, moves=300):
        raw = p.encode(frame)
        server_schema.validate(json.loads(raw))
        back = p.decode_server(raw)
        assert isinstance(back, p.View) and back.view == view and back == frame
        count += 1
    assert count > 300


def test_the_schema_refuses_a_view_of_the_wrong_shape(server_schema: jsonschema.Draft202012Validator) -> None:
    view, frame = next(frames_of(GAMES["crazy_eights"], seed=5, moves=1))
    good = msgspec.to_builtins(frame)
    server_schema.validate(good)
    bad_cases: list[tuple[str, Any]] = [("counts", "three"), ("legal", [{"type": "jump"}]),
                                        ("legal", [{"cards": ["QS"]}]), ("game", "chess")]
    for key, value in bad_cases:
        bad = json.loads(json.dumps(good))
        bad["view"][key] = value
        with pytest.raises(jsonschema.ValidationError):
            server_schema.validate(bad)
    without_view = {k: v for k, v in good.items() if k != "view"}  # before the game starts: fine
    server_schema.validate(without_view)
