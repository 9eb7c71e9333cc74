"""The bench's arithmetic of a step (`scripts/felt_load/steps`): medians over repeats, the hops, the
relay's cost per move as well as per frame; and the report showing the relay per move."""

from __future__ import annotations

from typing import Any

from scripts.felt_load import report, steps


def _step(achieved: float, frames: float, cpu: float) -> dict[str, Any]:
    return {"achieved": achieved, "frames_per_s": frames, "cpu": {"realtime": cpu, "server": cpu}}


def test_the_relays_cost_per_move_does_not_rise_when_a_move_needs_fewer_frames() -> None:
    five, four = _step(1000.0, 5000.0, 0.4), _step(1000.0, 4000.0, 0.4)  # the same CPU, fewer frames
    assert steps.frame_cost(five, "realtime") == 80.0 and steps.frame_cost(four, "realtime") == 100.0
    assert steps.cpu_per_move(five, "realtime") == steps.cpu_per_move(four, "realtime") == 400.0
    assert steps.cpu_per_move(_step(0.0, 0.0, 0.4), "realtime") is None
    assert steps.cpu_per_move({"achieved": 10.0, "cpu": {}}, "realtime") is None


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


def test_a_step_whose_game_server_core_was_full_says_so() -> None:
    step: dict[str, Any] = {
        "target": 2000.0, "players": 1000, "achieved": 1700.0, "frames_per_s": 7700.0, "groups": 250,
        "rtt": {"p50": 15.0, "p95": 37.0, "p99": 45.0}, "fanout": {"p50": 15.0, "p99": 45.0},
        "cpu": {"realtime": 0.36, "gameserver": 0.65}, "felt_us_per_move": 591.0, "loadgen_cpu": 0.32,
        "relay_us_per_frame": 46.8, "ratio_echo": 0.92, "errors": {}, "client_bound": False}
    meta = {"started": "now", "variant": "quick", "repeats": 1, "machine": "m", "placement_text": "p"}
    full = report.markdown({"meta": meta, "moves": [{**step, "load_core_busy": 0.98}]})
    assert "game server's core full (98%, shared with the load)" in full and "below target" in full
    for busy in (0.9, None):  # room left, or a step recorded before the figure was
        assert "core full" not in report.markdown({"meta": meta, "moves": [{**step, "load_core_busy": busy}]})
    runs = [{**_run(1700.0, 15.0, {}, False), "load_core_busy": b} for b in (0.97, 0.99, 0.6)]
    assert steps.load_core_full(steps.median_step(runs))  # the median of the repeats: 0.97


def _run(achieved: float, rtt: float, errors: dict[str, int], bound: bool) -> dict[str, Any]:
    return {"achieved": achieved, "frames_per_s": 4 * achieved, "bytes_per_frame": 300.0, "loadgen_cpu": 0.2,
            "loadgen_lag_p99_ms": 1.0, "server_core_noise": 0.0, "commits_per_s": achieved / 2,
            "rtt": {"p50": rtt}, "rtt_view": {"p50": rtt}, "fanout": {"p50": rtt},
            "cpu": {"realtime": 0.3, "gameserver": 0.2}, "core_busy": {"cpu0": 0.3},
            "threads": {"gameserver": {"main": 0.15, "zmq": 0.02, "other": 0.01}},
            "hot": {"gameserver": {"table": 0.05, "commit": 0.04}}, "gc": {"gameserver": 0.001},
            "errors": errors, "client_bound": bound}


def test_a_steps_repeats_give_medians_summed_errors_and_a_majority_verdict() -> None:
    runs = [_run(500.0, 2.0, {"timeout": 1}, True), _run(480.0, 4.0, {}, False),
            _run(490.0, 3.0, {"timeout": 2}, True)]
    step = steps.median_step(runs)
    assert (step["achieved"], step["rtt"]["p50"], step["commits_per_s"]) == (490.0, 3.0, 245.0)
    assert step["errors"] == {"timeout": 3} and step["client_bound"] and step["repeats"] == 3
    assert steps.move_cost(step) == round(0.5 / 490 * 1e6, 1)


def test_each_hop_is_its_counted_parts_per_move_and_the_loops_rest_is_what_they_leave() -> None:
    by_hop = steps.hops(_run(500.0, 2.0, {}, False))
    assert by_hop is not None
    assert by_hop["the table (decide, evolve, views)"] == 100.0  # 0.05 s of each second, 500 moves
    assert by_hop["the group commit (SQLite, fenced)"] == 80.0
    assert by_hop["gameserver: rest of its loop thread"] == 120.0  # 0.15 - 0.09 counted
    assert by_hop["libzmq I/O threads (both processes)"] == 40.0
    assert steps.hops({**_run(500.0, 2.0, {}, False), "hot": {}}) is None  # a version that counts none
