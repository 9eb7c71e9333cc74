"""One timer for many connections' deadlines (`realtime.deadlines`), on an injected clock and timer."""

from __future__ import annotations

from collections.abc import Callable

from realtime.deadlines import COMPACT_AFTER, Deadlines


class Timer:
    def __init__(self, when: float, fire: Callable[[], None]) -> None:
        self.when, self.fire, self.cancelled = when, fire, False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    """The loop's timers as `Deadlines` uses them: `call_at`, and time moved on by the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[Timer] = []

    def call_at(self, when: float, fire: Callable[[], None]) -> Timer:
        timer = Timer(when, fire)
        self.timers.append(timer)
        return timer

    def armed(self) -> list[Timer]:
        return [t for t in self.timers if not t.cancelled]

    def run_until(self, until: float) -> None:
        while (due := [t for t in self.armed() if t.when <= until]):
            timer = min(due, key=lambda t: t.when)
            self.now = timer.when
            timer.cancelled = True  # it has fired
            timer.fire()
        self.now = until


def make() -> tuple[Loop, Deadlines, list[str]]:
    loop = Loop()
    return loop, Deadlines(loop.call_at, lambda: loop.now), []


def test_each_fires_once_at_its_time_in_order_from_one_timer() -> None:
    loop, deadlines, fired = make()
    def at(key: str) -> Callable[[], None]:
        return lambda: fired.append(f"{key}@{loop.now:g}")

    for key, when in [("c", 30.0), ("a", 10.0), ("b", 20.0)]:
        deadlines.set(key, when, at(key))
        assert len(loop.armed()) == 1, "one timer, however many deadlines"
    loop.run_until(25.0)
    assert fired == ["a@10", "b@20"] and len(deadlines) == 1
    loop.run_until(100.0)
    assert fired == ["a@10", "b@20", "c@30"] and len(deadlines) == 0 and not loop.armed()


def test_a_deadline_set_again_replaces_the_first_and_a_cancelled_one_never_fires() -> None:
    loop, deadlines, fired = make()
    deadlines.set("a", 10.0, lambda: fired.append("a first"))
    deadlines.set("b", 15.0, lambda: fired.append("b"))
    deadlines.set("a", 40.0, lambda: fired.append("a again"))  # a fresh token: later
    deadlines.cancel("b")  # the connection closed
    loop.run_until(30.0)
    assert fired == []
    loop.run_until(50.0)
    assert fired == ["a again"]
    deadlines.cancel("nobody")  # harmless


def test_an_earlier_deadline_rearms_the_timer() -> None:
    loop, deadlines, fired = make()
    deadlines.set("late", 100.0, lambda: fired.append("late"))
    deadlines.set("soon", 5.0, lambda: fired.append("soon"))
    assert [t.when for t in loop.armed()] == [5.0]
    loop.run_until(6.0)
    assert fired == ["soon"] and [t.when for t in loop.armed()] == [100.0]


def test_connections_that_come_and_go_do_not_grow_the_heap() -> None:
    loop, deadlines, fired = make()
    deadlines.set("stays", 1e6, lambda: fired.append("stays"))
    for i in range(10 * COMPACT_AFTER):
        deadlines.set(i, 1000.0 + i, lambda: fired.append("gone"))
        deadlines.cancel(i)
    assert len(deadlines) == 1 and len(deadlines._heap) <= 2 * COMPACT_AFTER + 2
    loop.run_until(2e6)
    assert fired == ["stays"]


def test_a_callback_may_set_or_cancel_others() -> None:
    loop, deadlines, fired = make()
    def first() -> None:
        fired.append("a")
        deadlines.cancel("b")
        deadlines.set("c", 12.0, lambda: fired.append("c"))

    deadlines.set("b", 20.0, lambda: fired.append("b"))
    deadlines.set("a", 10.0, first)
    loop.run_until(100.0)
    assert fired == ["a", "c"]


def test_close_cancels_everything() -> None:
    loop, deadlines, fired = make()
    deadlines.set("a", 10.0, lambda: fired.append("a"))
    deadlines.close()
    assert not loop.armed() and len(deadlines) == 0


def test_a_failing_callback_costs_the_others_nothing() -> None:
    loop, deadlines, fired = make()

    def broken() -> None:
        raise RuntimeError("a bug")

    deadlines.set("broken", 10.0, broken)
    deadlines.set("same time", 10.0, lambda: fired.append("same time"))
    deadlines.set("later", 20.0, lambda: fired.append("later"))
    loop.run_until(30.0)
    assert fired == ["same time", "later"]
