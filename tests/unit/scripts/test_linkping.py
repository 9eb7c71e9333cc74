"""The tier link's ping (`scripts/felt_load/linkping`) over real CurveZMQ sockets on loopback, and the bench's
floor of a move from it (`steps.floor`, the report's table)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from scripts.felt_load import linkping, report, steps


def test_a_ping_keeps_to_its_rate_and_measures_each_round_trip() -> None:
    result = linkping.ping(rate=200.0, seconds=0.5, warmup=0.1)
    assert 0 < result["round_trips"] <= 200 * 0.5 + 1  # paced: a round trip starts at its slot, never early
    rtt = result["rtt"]
    assert 0 < rtt["p50"] <= rtt["p95"] <= rtt["p99"] <= rtt["max"]
    assert result["cpu_us_per_round_trip"] > 0


def test_a_ping_run_as_the_bench_runs_it_in_its_own_process() -> None:
    result = asyncio.run(linkping.measured(100.0, 0.3, 0.1, None, None))
    assert 0 < result["round_trips"] <= 100 * 0.3 + 1 and result["rtt"]["p50"] > 0


def test_a_ping_needs_a_rate_and_a_duration() -> None:
    for rate, seconds in ((0.0, 1.0), (10.0, 0.0)):
        with pytest.raises(ValueError):
            linkping.ping(rate, seconds)


META = {"started": "now", "variant": "quick", "repeats": 1, "machine": "m", "placement_text": "p"}


def _step(link: dict[str, Any] | None) -> dict[str, Any]:
    step: dict[str, Any] = {
        "target": 500.0, "players": 1000, "achieved": 490.0, "frames_per_s": 2200.0, "groups": 250,
        "rtt": {"p50": 1.2, "p95": 2.0, "p99": 3.0}, "fanout": {"p50": 1.0, "p99": 3.0},
        "cpu": {"realtime": 0.25, "gameserver": 0.3}, "felt_us_per_move": 750.0, "loadgen_cpu": 0.2,
        "relay_us_per_frame": 75.0, "ratio_echo": 1.15, "errors": {}, "client_bound": False,
        "echo": {"achieved": 498.0, "rtt": {"p50": 0.33, "p99": 1.0}, "fanout": {"p99": 1.1},
                 "cpu": {"server": 0.13}, "us_per_frame": 65.0, "us_per_move": 260.0}}
    if link is not None:
        step["link"] = link
    step["floor"] = steps.floor(step)
    return step


def test_the_floor_is_the_echo_and_the_link_together_and_felt_is_read_against_it() -> None:
    runs = [{"achieved": 500.0, "cpu_us_per_round_trip": c, "rtt": {"p50": p, "p99": 0.5}}
            for c, p in ((180.0, 0.17), (190.0, 0.27), (240.0, 0.20))]
    link = steps.median_link(runs)
    assert link == {"achieved": 500.0, "cpu_us_per_round_trip": 190.0, "rtt": {"p50": 0.2, "p99": 0.5}}
    step = _step(link)
    assert step["floor"] == {"rtt_p50": 0.53, "us_per_move": 450.0, "rtt_over": 2.26, "cpu_over": 1.67}
    md = report.markdown({"meta": META, "moves": [step]})
    assert "| 500 | 0.20 / 0.50 | 190 | 0.53 | 2.26 | 450 | 1.67 |" in md
    without = _step(None)
    assert without["floor"] is None
    assert "The hops' floor" not in report.markdown({"meta": META, "moves": [without]})
