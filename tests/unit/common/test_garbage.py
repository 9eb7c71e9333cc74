"""common.garbage: the collector's runs are timed and served by generation; `settle` freezes and raises
the thresholds (in a child process, so this one's collector is left as it is)."""

from __future__ import annotations

import gc
import subprocess
import sys

from prometheus_client import CollectorRegistry, generate_latest

from common import garbage
from common.hotpath import HotPath
from scripts.felt_load.procs import gc_seconds, hot_seconds


def test_each_run_is_counted_in_its_generation_until_closed() -> None:
    clock = garbage.GcClock("gameserver")
    try:
        gc.collect(1)
        gc.collect(1)
        gc.collect(2)
        assert clock.runs[1] >= 2 and clock.runs[2] >= 1
        assert clock.ns[1] > 0 and clock.ns[2] > 0
    finally:
        clock.close()
    runs = list(clock.runs)
    gc.collect(2)
    assert clock.runs == runs and clock._on_gc not in gc.callbacks
    clock.close()  # twice is harmless


def test_a_scrape_shows_every_generation_and_the_bench_reads_their_sum() -> None:
    registry = CollectorRegistry()
    clock = garbage.GcClock("realtime", registry)
    HotPath("realtime", ["edge_in"], registry)
    clock.close()
    clock.ns = [1_500_000_000, 250_000_000, 0]
    clock.runs = [3, 1, 0]
    text = generate_latest(registry).decode()
    assert 'felt_realtime_gc_seconds_total{generation="0"} 1.5' in text
    assert 'felt_realtime_gc_collections_total{generation="1"} 1.0' in text
    assert 'felt_realtime_gc_seconds_total{generation="2"} 0.0' in text
    assert gc_seconds(text) == 1.75
    assert hot_seconds(text) == {"edge_in": 0.0}  # the hot parts' reader ignores the collector's
    assert gc_seconds("") is None


def test_settle_freezes_start_up_and_raises_the_thresholds() -> None:
    script = ("import gc; from common import garbage; before = gc.get_freeze_count(); "
              "garbage.settle(); print(gc.get_threshold(), before, gc.get_freeze_count() > 1000)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [*str(garbage.THRESHOLDS).split(), "0", "True"]

