"""The pure sit-and-go logic: settings checks, the blind schedule by clock and by hands, the prize table
with its rounding, the places of players who bust in one hand, and the protocol's create_table field."""

from __future__ import annotations

import doctest

import msgspec
import pytest

from common import protocol as p
from common import sitandgo as sg


def test_doctests() -> None:
    assert doctest.testmod(sg).failed == 0


@pytest.mark.parametrize(("settings", "seats", "problem"), [
    (sg.SitAndGo(buy_in=100), 1, "seats 2–9"),
    (sg.SitAndGo(buy_in=100), 10, "seats 2–9"),
    (sg.SitAndGo(buy_in=100, level_seconds=60, level_hands=5), 6, "not both"),
    (sg.SitAndGo(buy_in=100, levels=[]), 6, "at least one level"),
    (sg.SitAndGo(buy_in=100, levels=[sg.BlindLevel(30, 20)]), 6, "cannot exceed the big blind"),
    (sg.SitAndGo(buy_in=100, levels=[sg.BlindLevel(10, 20), sg.BlindLevel(5, 10)]), 6, "cannot fall below"),
    (sg.SitAndGo(buy_in=100, stack=30), 6, "at least two big blinds"),
])
def test_settings_problems(settings: sg.SitAndGo, seats: int, problem: str) -> None:
    found = sg.settings_problem(settings, seats)
    assert found is not None and problem in found


def test_default_settings_hold_together() -> None:
    settings = sg.SitAndGo(buy_in=100)
    assert sg.settings_problem(settings, 9) is None
    assert settings.schedule == sg.DEFAULT_LEVELS and settings.seconds == 300.0 and settings.entry == 100
    bigs = [level.big for level in sg.DEFAULT_LEVELS]
    assert bigs == sorted(bigs) and all(level.small * 2 == level.big for level in sg.DEFAULT_LEVELS[:1])


def test_levels_by_the_clock() -> None:
    settings = sg.SitAndGo(buy_in=1, levels=[sg.BlindLevel(1, 2), sg.BlindLevel(2, 4), sg.BlindLevel(5, 10)],
                           level_seconds=60)
    at = [sg.level_of(settings, started_at=1000.0, now=t, hands_dealt=0) for t in
          (999.0, 1000.0, 1059.9, 1060.0, 1119.0, 1120.0, 5000.0)]
    assert at == [0, 0, 0, 1, 1, 2, 2], "one level a minute, the last one stays"


def test_levels_by_hands() -> None:
    settings = sg.SitAndGo(buy_in=1, levels=[sg.BlindLevel(1, 2), sg.BlindLevel(2, 4)], level_hands=3)
    assert settings.seconds is None
    assert [sg.level_of(settings, started_at=0, now=1e9, hands_dealt=n) for n in range(8)] == [
        0, 0, 0, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("entrants", range(2, 10))
@pytest.mark.parametrize("pool", [0, 1, 99, 100, 997, 1000, 123457])
def test_prizes_add_up_to_the_pool_and_follow_the_table(entrants: int, pool: int) -> None:
    paid = sg.prizes(pool, entrants)
    assert sum(paid) == pool, "nothing lost to rounding"
    assert len(paid) == (1 if entrants <= 4 else 2 if entrants <= 6 else 3)
    assert paid == sorted(paid, reverse=True)
    shares = sg.prize_shares(entrants)
    for place, (amount, share) in enumerate(zip(paid, shares, strict=True)):
        rest = pool - sum(pool * s // 100 for s in shares)
        assert amount == pool * share // 100 + (rest if place == 0 else 0)


def test_prize_table_rounding_goes_to_first() -> None:
    assert sg.prizes(1000, 4) == [1000]
    assert sg.prizes(999, 6) == [650, 349]  # 649.35 and 349.65 rounded down; the one left to first
    assert sg.prizes(1001, 9) == [501, 300, 200]


def test_busts_in_one_hand() -> None:
    assert sg.bust_places(2, [(1, 500)]) == {1: 2}
    assert sg.bust_places(6, [(0, 100), (3, 900), (5, 100)]) == {3: 4, 0: 5, 5: 6}, \
        "more chips at the start of the hand places better; equal stacks: the lower seat"


def test_create_table_carries_the_settings() -> None:
    raw = ('{"msg": "create_table", "game": "holdem", "seats": 3, "sit_and_go": {"buy_in": 50, "fee": 5, '
           '"stack": 500, "levels": [[10, 20], [20, 40]], "level_hands": 4}}')
    msg = p.decode_client(raw)
    assert isinstance(msg, p.CreateTable) and msg.sit_and_go is not None
    assert msg.sit_and_go.schedule == (sg.BlindLevel(10, 20), sg.BlindLevel(20, 40))
    assert msg.sit_and_go.level_hands == 4 and msg.sit_and_go.entry == 55
    for bad in ('{"buy_in": 0}', '{"buy_in": 10, "fee": -1}', '{"buy_in": 10, "levels": [[10]]}',
                '{"buy_in": 10, "rebuys": 3}', '{"buy_in": 10, "level_seconds": 0}'):
        with pytest.raises(p.ProtocolError):
            p.decode_client('{"msg": "create_table", "game": "holdem", "seats": 3, '
                            '"sit_and_go": ' + bad + '}')
    assert msgspec.json.decode(msgspec.json.encode(msg.sit_and_go), type=sg.SitAndGo) == msg.sit_and_go
