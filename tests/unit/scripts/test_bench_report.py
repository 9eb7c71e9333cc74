"""The bench's relay figures: per move as well as per frame, and both in the report."""

from __future__ import annotations

from typing import Any

from scripts.felt_load import bench, report


def _step(achieved: float, frames: float, cpu: float) -> dict[str, Any]:
    return {"achieved": achieved, "frames_per_s": frames, "cpu": {"realtime": cpu, "server": cpu}}


def test_the_relays_cost_per_move_does_not_rise_when_a_move_needs_fewer_frames() -> None:
    five, four = _step(1000.0, 5000.0, 0.4), _step(1000.0, 4000.0, 0.4)  # the same CPU, fewer frames
    assert bench._frame_cost(five, "realtime") == 80.0 and bench._frame_cost(four, "realtime") == 100.0
    assert bench._cpu_per_move(five, "realtime") == bench._cpu_per_move(four, "realtime") == 400.0
    assert bench._cpu_per_move(_step(0.0, 0.0, 0.4), "realtime") is None
    assert bench._cpu_per_move({"achieved": 10.0, "cpu": {}}, "realtime") is None


def test_the_report_shows_the_relay_per_move_against_the_echo() -> None:
    step: dict[str, Any] = {
        "target": 500.0, "players": 1000, "achieved": 490.0, "frames_per_s": 2200.0, "groups": 250,
        "rtt": {"p50": 1.0, "p95": 2.0, "p99": 3.0}, "fanout": {"p50": 1.0, "p99": 3.0},
        "cpu": {"realtime": 0.25, "gameserver": 0.3}, "felt_us_per_move": 1122.4, "loadgen_cpu": 0.2,
        "relay_us_per_frame": 113.6, "ratio_echo": 1.05, "errors": {}, "client_bound": False,
        "relay_us_per_move": 510.2, "ratio_echo_move": 1.18,
        "echo": {"achieved": 498.0, "rtt": {"p50": 0.5, "p99": 4.0}, "fanout": {"p99": 4.0},
                 "cpu": {"server": 0.21}, "us_per_frame": 108.0, "us_per_move": 432.0},
    }
    md = report.markdown({"meta": {"started": "now", "variant": "quick", "repeats": 1, "machine": "m",
                                   "placement_text": "p"}, "moves": [step]})
    assert "| 510 · 432 · 1.18 |" in md
