"""One-shot deadlines of many connections (their tokens' expiries) from one loop timer.

A `call_later` per connection holds a timer handle on the loop for each: most of a kilobyte of a realtime
process's memory per idle player. Here a deadline is an entry of a heap, and one timer is armed for the
earliest. Setting a key's deadline again replaces it; a replaced or cancelled entry stays in the heap
until it comes up (then it is skipped), or until the heap holds more stale entries than live ones and is
rebuilt from the live ones, so connections that come and go do not grow it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger("felt.realtime.deadlines")

#: The heap is rebuilt when it holds more than this many entries and over half of them are stale.
COMPACT_AFTER = 64


class Deadlines:
    """`set(key, when, callback)`: call `callback()` at `when` (on `clock`) unless cancelled or set again
    first. `call_at(when, fire)` arms the loop's timer and returns a handle with `cancel()`."""

    def __init__(self, call_at: Callable[[float, Callable[[], None]], Any],
                 clock: Callable[[], float]) -> None:
        self._call_at = call_at
        self._clock = clock
        self._heap: list[tuple[float, int, Hashable]] = []
        self._live: dict[Hashable, tuple[float, int, Callable[[], None]]] = {}
        self._order = itertools.count()
        self._timer: Any = None
        self._armed_for: float | None = None

    def __len__(self) -> int:
        return len(self._live)

    def set(self, key: Hashable, when: float, callback: Callable[[], None]) -> None:
        order = next(self._order)
        self._live[key] = (when, order, callback)
        heapq.heappush(self._heap, (when, order, key))
        self._compact_if_stale()
        self._arm()

    def cancel(self, key: Hashable) -> None:
        if self._live.pop(key, None) is not None:
            self._compact_if_stale()

    def fire_due(self, now: float) -> None:
        """Call every callback due by `now` (each at most once), then arm the timer for the next."""
        self._timer = self._armed_for = None
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, order, key = heapq.heappop(heap)
            live = self._live.get(key)
            if live is None or live[1] != order:
                continue  # cancelled, or set again since
            del self._live[key]
            try:
                live[2]()
            except Exception:  # one failing callback must not keep the others (or the timer) from running
                log.exception("the deadline of %r failed", key)
        self._arm()

    def _arm(self) -> None:
        while self._heap and self._live.get(self._heap[0][2], (0, -1))[1] != self._heap[0][1]:
            heapq.heappop(self._heap)  # stale entries at the top are dropped now
        if not self._heap:
            self._disarm()
            return
        first = self._heap[0][0]
        if self._armed_for is not None and self._armed_for <= first:
            return
        self._disarm()
        self._armed_for = first
        self._timer = self._call_at(first, self._on_timer)

    def _on_timer(self) -> None:
        self.fire_due(self._clock())

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._armed_for = None

    def _compact_if_stale(self) -> None:
        if len(self._heap) > COMPACT_AFTER and len(self._heap) > 2 * len(self._live):
            self._heap = [(when, order, key) for key, (when, order, _) in self._live.items()]
            heapq.heapify(self._heap)

    def close(self) -> None:
        """Cancel everything, and the timer."""
        self._live.clear()
        self._heap.clear()
        self._disarm()
