"""Where a tier's time goes on the hot path: nanoseconds spent in each named part, served as metrics.

Owns the accumulator (`HotPath`) and its Prometheus collector (`felt_<tier>_hot_seconds_total{part}`,
`felt_<tier>_hot_calls_total{part}`), read by `scripts/bench` before and after each measured window to
give the CPU of each hop per move. A part is timed on the thread's own CPU clock (`time.thread_time_ns`)
around a section of the loop thread: wall time would count the waits of a commit's fsync and every
preemption on a shared core (measured here: the game server's sections came to 200 µs a move more than
its thread's CPU). The price is a system call per reading, about 0.7 µs, so sections are few and coarse
(a pass, not a message, where they can be) and chained (`t = hot.add(A, t)` ends A and starts B).
Nothing is locked: each process counts on its loop thread only, and a scrape reads plain ints.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily

now_ns = time.thread_time_ns

#: The parts a realtime process counts: a client's frame in to its request handed to ZeroMQ; ZeroMQ sends
#: to game servers; ZeroMQ receives and reading what a game server sent; routing each frame of a batch to its
#: connections, SockJS framing and socket writes.
REALTIME_PARTS = ("edge_in", "to_gameserver", "from_gameserver", "edge_out")
EDGE_IN, TO_GAMESERVER, FROM_GAMESERVER, EDGE_OUT = range(4)
#: The parts a game server counts: ZeroMQ receives and decoding; the tables (decide, evolve, views); the
#: group commit; ZeroMQ sends.
GAMESERVER_PARTS = ("from_realtime", "table", "commit", "to_realtime")
FROM_REALTIME, TABLE, COMMIT, TO_REALTIME = range(4)


class HotPath:
    """Nanoseconds and calls per part, added by the one thread that runs the event loop."""

    def __init__(self, tier: str, parts: Iterable[str], registry: CollectorRegistry | None = None) -> None:
        self.tier = tier
        self.parts = tuple(parts)
        self.index = {part: i for i, part in enumerate(self.parts)}
        self.ns = [0] * len(self.parts)
        self.calls = [0] * len(self.parts)
        if registry is not None:
            registry.register(self)

    def add(self, part: int, started_ns: int) -> int:
        """Charge the time since `started_ns` to `part` (an index of `parts`); the time now, so sections
        can be chained: `t = hot.add(A, t)` ends A and starts the next."""
        now = now_ns()
        self.ns[part] += now - started_ns
        self.calls[part] += 1
        return now

    def add_outer(self, part: int, started_ns: int, inner: int, inner_before: int) -> int:
        """Charge the time since `started_ns` to `part`, less what `inner` was charged meanwhile (its
        count was `inner_before` at the start): for a section that calls into another counted one."""
        now = now_ns()
        self.ns[part] += now - started_ns - (self.ns[inner] - inner_before)
        self.calls[part] += 1
        return now

    def seconds(self) -> dict[str, float]:
        return {part: self.ns[i] / 1e9 for i, part in enumerate(self.parts)}

    # the prometheus_client collector protocol
    def collect(self) -> Iterator[Any]:
        spent = CounterMetricFamily(f"felt_{self.tier}_hot_seconds", "Time spent in each part of the hot "
                                    "path (wall time of sections that never wait)", labels=["part"])
        calls = CounterMetricFamily(f"felt_{self.tier}_hot_calls", "Times each part of the hot path ran",
                                    labels=["part"])
        for i, part in enumerate(self.parts):
            spent.add_metric([part], self.ns[i] / 1e9)
            calls.add_metric([part], self.calls[i])
        yield spent
        yield calls

    def describe(self) -> list[Any]:
        return []
