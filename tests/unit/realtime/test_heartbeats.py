"""The heartbeat wheel (`realtime.heartbeats`): one timer beats every session once per interval."""

from __future__ import annotations

import pytest

from realtime.heartbeats import MIN_SLOTS, Heartbeats


class Session:
    def __init__(self, wheel: Heartbeats) -> None:
        self.wheel = wheel
        self.beats: list[int] = []
        self.tick = 0
        self.also_stop: Session | None = None

    def beat(self) -> None:
        self.beats.append(self.tick)
        if self.also_stop is not None:
            self.wheel.stop(self.also_stop)

    __hash__ = object.__hash__


def run(wheel: Heartbeats, sessions: list[Session], ticks: int, start: int = 0) -> None:
    for tick in range(start, start + ticks):
        for s in sessions:
            s.tick = tick
        wheel.tick()


@pytest.mark.parametrize(("interval", "slots", "tick"),
                         [(25.0, 25, 1.0), (0.3, MIN_SLOTS, 0.06), (2.5, 5, 0.5)])
def test_the_tick_divides_the_interval(interval: float, slots: int, tick: float) -> None:
    wheel = Heartbeats(interval)
    assert wheel.tick_seconds == pytest.approx(tick)
    assert round(interval / wheel.tick_seconds) == slots


def test_each_session_beats_once_a_turn_from_a_whole_interval_after_it_started() -> None:
    wheel = Heartbeats(10.0)  # ten slots of a second
    sessions = [Session(wheel) for _ in range(30)]
    tick = 0
    for i, session in enumerate(sessions):  # started at different times
        run(wheel, sessions, i % 7, tick)
        tick += i % 7
        session.started = tick  # type: ignore[attr-defined]
        wheel.start(session)
    run(wheel, sessions, 40, tick)
    for s in sessions:
        first = s.beats[0] - s.started  # type: ignore[attr-defined]
        assert 9 <= first <= 10, "a whole interval after it started, within a tick"
        assert all(b - a == 10 for a, b in zip(s.beats, s.beats[1:], strict=False)), s.beats
    assert len(wheel) == 30


def test_a_stopped_session_beats_no_more_and_a_restart_begins_the_interval_again() -> None:
    wheel = Heartbeats(5.0)
    a, b, c = Session(wheel), Session(wheel), Session(wheel)
    for s in (a, b, c):
        wheel.start(s)
    run(wheel, [a, b, c], 3)
    wheel.stop(a)
    wheel.start(b)  # restarted at tick 3: its next beat is a whole interval on
    run(wheel, [a, b, c], 12, 3)
    assert a.beats == [] and not wheel.beating(a)
    assert b.beats == [7, 12] and c.beats == [4, 9, 14]
    wheel.stop(a)  # stopping twice is harmless
    assert len(wheel) == 2


def test_a_beat_may_stop_another_session_of_the_same_slot() -> None:
    wheel = Heartbeats(5.0)
    first, second = Session(wheel), Session(wheel)
    wheel.start(first)
    wheel.start(second)
    first.also_stop, second.also_stop = second, first  # whichever beats first stops the other
    run(wheel, [first, second], 5)
    assert len(first.beats) + len(second.beats) == 1


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Heartbeats(0)


def test_a_failing_beat_costs_the_others_of_its_slot_nothing() -> None:
    class Broken(Session):
        def beat(self) -> None:
            raise RuntimeError("a bug")

    wheel = Heartbeats(5.0)
    broken, fine = Broken(wheel), Session(wheel)
    wheel.start(broken)
    wheel.start(fine)
    run(wheel, [broken, fine], 10)
    assert fine.beats == [4, 9] and not wheel.beating(broken)
