"""The delay line of spectator frames (gameserver/spectating.py), with the clock given: nothing comes due
before the delay allows; "hand" mode holds a hand until the next is dealt and keeps its spacing; a
newcomer is sent from the latest released view on; the line's memory is bounded."""

from __future__ import annotations

import pytest

from gameserver.spectating import MAX_HELD, DelayLine


def test_seconds_nothing_before_the_delay_and_in_order() -> None:
    line = DelayLine(30.0)
    line.hold("v1", 100.0, hand=0, view=True)
    line.hold("e1", 101.0, hand=0, view=False)
    line.hold("v2", 110.0, hand=0, view=True)
    assert line.next_due() == 130.0
    assert line.release(129.99) == [] and line.latest == []
    assert line.release(131.0) == ["v1", "e1"]
    assert line.latest == ["v1", "e1"]  # a newcomer now gets the view and what followed it
    assert line.release(139.0) == []
    assert line.release(140.0) == ["v2"] and line.latest == ["v2"]
    assert line.next_due() is None


def test_hand_mode_holds_a_hand_until_the_next_is_dealt_and_keeps_its_spacing() -> None:
    line = DelayLine("hand")
    line.hold("h1-deal", 10.0, hand=1, view=True)
    line.hold("h1-flop", 14.0, hand=1, view=True)
    line.hold("h1-end", 20.0, hand=1, view=True)
    assert line.next_due() is None and line.release(1000.0) == []  # the hand is not over
    line.hold("h2-deal", 23.0, hand=2, view=True)
    assert line.release(23.0) == ["h1-deal"]
    assert line.release(26.9) == []
    assert line.release(27.0) == ["h1-flop"]  # 4 s after the deal, as it was played
    assert line.release(33.0) == ["h1-end"]
    assert line.release(10_000.0) == []  # hand 2 waits for hand 3
    line.hold("h3-deal", 24.0, hand=3, view=True)  # a short hand 2: its replay never overtakes hand 1's
    assert line.next_due() == 33.0


def test_a_delay_out_of_range_is_refused() -> None:
    for bad in (0.0, -1.0, 601.0):
        with pytest.raises(ValueError, match="0–600 seconds"):
            DelayLine(bad)


def test_the_line_is_bounded() -> None:
    line = DelayLine(5.0)
    for i in range(MAX_HELD + 10):
        line.hold(f"f{i}", float(i) / 1000, hand=0, view=True)
    released = line.release(10_000.0)
    assert len(released) == MAX_HELD and released[0] == "f10"  # the oldest went first
