"""Latency histograms that merge across processes: log-spaced buckets, about 1 % relative precision.

Values are seconds; buckets are keyed by `round(log(µs) / log(1.02))`, so a histogram is a small dict that
travels as JSON between worker processes and the coordinator and is merged by adding counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

_BASE = math.log(1.02)


class Hist:
    __slots__ = ("counts", "n", "total", "max")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.n = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        us = seconds * 1e6
        key = int(math.log(us) / _BASE + 0.5) if us > 1.0 else 0
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        self.n += 1
        self.total += seconds
        if seconds > self.max:
            self.max = seconds

    def merge(self, other: Hist) -> Hist:
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        self.n += other.n
        self.total += other.total
        self.max = max(self.max, other.max)
        return self

    def quantile(self, q: float) -> float | None:
        """The q-quantile in seconds (None when empty)."""
        if not self.n:
            return None
        rank = q * (self.n - 1)
        seen = 0
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen > rank:
                return min(math.exp(key * _BASE) / 1e6, self.max)
        return self.max

    def summary(self) -> dict[str, float | int | None]:
        """n, mean, p50, p95, p99, max, in milliseconds."""
        def ms(v: float | None) -> float | None:
            return None if v is None else round(v * 1e3, 3)

        return {"n": self.n, "mean": ms(self.total / self.n) if self.n else None,
                "p50": ms(self.quantile(0.5)), "p95": ms(self.quantile(0.95)), "p99": ms(self.quantile(0.99)),
                "max": ms(self.max if self.n else None)}

    def to_json(self) -> dict[str, object]:
        return {"c": {str(k): v for k, v in self.counts.items()}, "n": self.n, "t": self.total, "m": self.max}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Hist:
        """The histogram `to_json` described (decoded JSON from a worker process)."""
        h = cls()
        h.counts = {int(k): int(v) for k, v in data["c"].items()}
        h.n = int(data["n"])
        h.total = float(data["t"])
        h.max = float(data["m"])
        return h

    @classmethod
    def merged(cls, hists: Iterable[Hist]) -> Hist:
        out = cls()
        for h in hists:
            out.merge(h)
        return out
