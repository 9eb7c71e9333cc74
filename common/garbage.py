"""The garbage collector of a long-running tier: how often it runs once start-up is over, and the CPU its
collections take, served as `felt_<tier>_gc_seconds_total{generation}` and
`felt_<tier>_gc_collections_total{generation}` (scripts/bench reads them per step).

CPython collects its youngest generation after every 700 net new container objects and, through the
older generations, the whole heap whenever a quarter more objects have survived since the last full
collection. A game server keeps every open game's entries and events until the game ends, about nine
surviving objects a move, so with those defaults it scanned its whole heap every couple of thousand
moves. Measured on a live game server (`scripts/loadgen --players 1000 --rate 2000`, about 1,300 moves
a second, this metric over 10 s, start-up frozen in both): 82 µs of collections a move with the
defaults, eight of them full ones of 57 ms each; 23 µs with `THRESHOLDS`, in pauses of about 2 ms (the
young generation) and 9 ms (the middle one, every tenth), and no full one. A young generation of 10,000
took 21 µs a move, but in pauses of 10 and 47 ms. Little of what the tiers allocate is cyclic garbage
(under half an object a move in `rulesbench --server-only` runs, against nine that survive), so
collecting it later costs little memory.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily

#: The collector's thresholds after start-up: generation 0 after this many net new containers, generation
#: 1 after this many collections of 0, generation 2 (the whole heap) after this many of 1 (and only once
#: a quarter of the heap is new since the last, CPython's own rule).
THRESHOLDS = (3_000, 10, 100)


def settle() -> None:
    """End of start-up: what exists now lives as long as the process, so it is frozen out of every later
    collection (`gc.freeze`), and the collector runs as often as `THRESHOLDS` say."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


class GcClock:
    """The CPU time (on the collecting thread's clock) and number of the collector's runs, by generation.

    Registered with `registry`, it serves them as counters; it counts from construction until `close()`.
    A collection runs on whichever thread allocated last, and holds the GIL throughout: every thread's
    collections delay the loop, so every thread's are counted.
    """

    def __init__(self, tier: str, registry: CollectorRegistry | None = None) -> None:
        self.tier = tier
        self.ns = [0, 0, 0]
        self.runs = [0, 0, 0]
        self._started = 0
        gc.callbacks.append(self._on_gc)
        if registry is not None:
            registry.register(self)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.thread_time_ns()
            return
        generation = info["generation"]
        self.ns[generation] += time.thread_time_ns() - self._started
        self.runs[generation] += 1

    def close(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    # the prometheus_client collector protocol
    def collect(self) -> Iterator[Any]:
        spent = CounterMetricFamily(f"felt_{self.tier}_gc_seconds", "CPU time of the garbage collector's "
                                    "runs, by generation (2: the whole heap)", labels=["generation"])
        runs = CounterMetricFamily(f"felt_{self.tier}_gc_collections", "Runs of the garbage collector, by "
                                   "generation", labels=["generation"])
        for generation in range(3):
            spent.add_metric([str(generation)], self.ns[generation] / 1e9)
            runs.add_metric([str(generation)], self.runs[generation])
        yield spent
        yield runs

    def describe(self) -> list[Any]:
        return []
