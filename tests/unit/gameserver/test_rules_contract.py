"""What every game promises the table host (gameserver.rules.base.Game): declared series and state type,
states that survive a msgspec snapshot, opening events, and for a cash game its stacks and button."""

from __future__ import annotations

import dataclasses
import json
import random
import typing
from typing import Any

import msgspec
import pytest

from common.views import example_action, seat_view
from gameserver.rules import games
from gameserver.rules.base import CashGame, Game, replaced
from tests.unit.random_play import random_table, walk

GAMES = games()


def test_each_game_declares_its_series_and_state_type() -> None:
    assert {name: game.series for name, game in GAMES.items()} == {
        "crazy_eights": "match", "hearts": "match", "holdem": "cash"}
    for game in GAMES.values():
        seats, options = random_table(game, random.Random(1))
        state = game.setup(seats, random.Random(2), options)
        assert type(state) is game.state_type
        assert isinstance(game.opening_events(state), list)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_every_state_round_trips_through_msgspec(name: str) -> None:
    """Mid-game and over: to builtins and back, and through JSON, gives the same state, which plays on
    exactly as the original does."""
    game: Game[Any] = GAMES[name]
    kinds = {"playing": 0, "over": 0}
    for _, state in walk(game, seed=3, moves=800):
        data = msgspec.to_builtins(state)
        back = msgspec.convert(data, game.state_type)
        assert back == state
        assert msgspec.json.decode(msgspec.json.encode(state), type=game.state_type) == state
        outcome = game.outcome(state)
        kinds["playing" if outcome is None else "over"] += 1
        if outcome is not None:
            assert game.outcome(back) == outcome
            json.dumps(dict(outcome.detail))  # the store keeps it as JSON
            continue
        seat = game.to_act(state)[0]
        action = example_action(game.legal(state, seat)[0])
        assert game.apply(back, seat, action) == game.apply(state, seat, action)
        assert game.view(back, seat) == game.view(state, seat)
    assert kinds["over"] >= 1 and kinds["playing"] > 500


@pytest.mark.parametrize("name", sorted(GAMES))
def test_a_seats_view_is_the_spectators_with_its_own_fields(name: str) -> None:
    """Hosts build the spectator's view once and each seat's from it (`seat_fields`), so that must be
    every seat's `view`; a seat's own fields are few, and there are none for a seat the game lacks."""
    game: Game[Any] = GAMES[name]
    for seats, state in walk(game, seed=5, moves=300):
        spectator = game.view(state, None)
        for seat in range(seats):
            fields = game.seat_fields(state, seat)
            assert 0 < len(fields) <= 3 and "legal" in fields
            assert seat_view(spectator, fields) == game.view(state, seat)
        assert game.seat_fields(state, seats) == {} and game.view(state, seats) == spectator
        assert game.view(state, -1) == spectator


def test_a_cash_game_reports_stacks_and_seats_dealt_in() -> None:
    holdem = typing.cast(CashGame[Any], GAMES["holdem"])  # series "cash"
    for _, state in walk(holdem, seed=9, moves=400):
        assert holdem.dealt_in(state) == state.dealt
        assert holdem.seat_stacks(state) == state.stacks
        outcome = holdem.outcome(state)
        if outcome is not None:  # the settled stacks the cash table carries into the next hand
            assert list(holdem.seat_stacks(state)) == outcome.detail["stacks"]
            assert sum(holdem.seat_stacks(state)) == sum(state.initial)
    assert holdem.next_button(None, [0, 500, 0, 300]) == 1
    assert holdem.next_button(3, [0, 500, 0, 300]) == 1


def _asdict_view(event: Any, viewer: int | None) -> dict[str, Any]:
    """What `Event.visible_to` is defined as: `dataclasses.asdict`, less secrets for other viewers."""
    data = dataclasses.asdict(event)
    if viewer is None or viewer != event.seat:
        for name in event.secret:
            data.pop(name, None)
    data["kind"] = event.kind
    return data


@pytest.mark.parametrize("name", sorted(GAMES))
def test_an_event_shows_each_viewer_what_asdict_less_its_secrets_would(name: str) -> None:
    game: Game[Any] = GAMES[name]
    rng = random.Random(11)
    seen = 0
    for seats, state in walk(game, seed=5, moves=300):
        if game.outcome(state) is not None:
            continue
        seat = rng.choice(game.to_act(state))
        _, events = game.apply(state, seat, example_action(rng.choice(game.legal(state, seat)), rng))
        for event in events:
            for viewer in (None, *range(seats)):
                assert event.visible_to(viewer) == _asdict_view(event, viewer)
                seen += 1
    assert seen > 300


@pytest.mark.parametrize("name", ["crazy_eights", "hearts"])
def test_a_rules_state_replaced_is_what_dataclasses_replace_gives(name: str) -> None:
    """`replaced`, the rules' cheaper `dataclasses.replace`: every field copied but the changed ones, equal
    to the standard library's result at every step of played games, and still frozen."""
    game: Game[Any] = GAMES[name]
    for _, state in walk(game, seed=5, moves=300):
        fields = dataclasses.fields(state)
        first, last = fields[0].name, fields[-1].name
        changes = {first: getattr(state, last), last: getattr(state, first)}
        for change in ({}, changes):
            new = replaced(state, **change)
            assert new == dataclasses.replace(state, **change) and type(new) is type(state)
            assert all(getattr(new, f.name) is getattr(state, f.name) for f in fields if f.name not in change)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(new, "turn", 3)  # noqa: B010  (a frozen instance refuses any change)


def test_replaced_refuses_a_field_the_state_has_not_and_a_class_it_cannot_build() -> None:
    state = GAMES["crazy_eights"].setup(4, random.Random(1), GAMES["crazy_eights"].check_options(4, {}))
    with pytest.raises(TypeError, match=r"has no field \['trun'\]"):
        replaced(state, trun=2)

    @dataclasses.dataclass(frozen=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True)
    class Derived:
        value: int
        twice: int = dataclasses.field(init=False, default=0)

    for odd in (Checked(1), Derived(1)):
        with pytest.raises(TypeError, match="use dataclasses.replace"):
            replaced(odd, value=2)
