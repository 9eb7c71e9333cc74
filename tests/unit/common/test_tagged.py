"""`common.tagged.converter`: the member its tag names, and for anything else the very error
`msgspec.convert` gives for the union."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from common import protocol as p
from common import tagged
from gameserver import entries as e

ACTIONS: list[p.Action] = [p.Play(card="8C", suit="H"), p.Draw(), p.PassTurn(),
                           p.PassCards(cards=["2C", "3C", "4C"]), p.Fold(), p.Check(), p.Call(),
                           p.Bet(amount=40), p.Raise(to=250)]
ENTRIES: list[e.AnyEntry] = [e.Acted(seat=1, action=p.Play(card="8C", suit="H"), user=2, req=1001,
                                     from_seq=8),
                             e.Acted(seat=2, action=p.Check(), by="bot"), e.Unseated(seat=2),
                             e.ToppedUp(seat=0, user=4, amount=100)]
BAD: list[Any] = [{"type": "play", "card": 5}, {"type": "nope"}, {"card": "8C"}, {"t": "act"}, {"t": 3},
                  [1], "play", None, {"type": "bet", "amount": "x"}, {"t": "unseat", "seat": 1, "extra": 2}]


@pytest.mark.parametrize(("union", "values"), [(p.Action, ACTIONS), (e.AnyEntry, ENTRIES)])
def test_each_member_comes_back_as_itself(union: Any, values: list[Any]) -> None:
    convert = tagged.converter(union)
    for value in values:
        plain = msgspec.to_builtins(value)
        assert convert(plain) == value == msgspec.convert(plain, union)
        assert type(convert(plain)) is type(value)


@pytest.mark.parametrize("union", [p.Action, e.AnyEntry])
@pytest.mark.parametrize("obj", BAD)
def test_what_the_union_refuses_it_refuses_with_the_same_words(union: Any, obj: Any) -> None:
    with pytest.raises(msgspec.ValidationError) as expected:
        msgspec.convert(obj, union)
    with pytest.raises(msgspec.ValidationError) as got:
        tagged.converter(union)(obj)
    assert str(got.value) == str(expected.value)


def test_only_a_union_of_structs_tagged_in_one_field_is_taken() -> None:
    for union in (int | str, p.Action | e.Unseated, p.Play):
        with pytest.raises(TypeError):
            tagged.converter(union)


def test_the_protocol_and_the_log_convert_through_it() -> None:
    assert p.action_from_builtins({"type": "raise", "to": 30}) == p.Raise(to=30)
    assert e.from_builtins({"t": "unseat", "seat": 3}) == e.Unseated(seat=3)
