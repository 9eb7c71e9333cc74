"""The bench's comparison of a live game server with its no-network ceiling (`scripts/felt_load/ceiling`)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from common.metrics import GameServerMetrics
from scripts.felt_load import ceiling, rulesbench
from scripts.felt_load.procs import commit_count


def _step(achieved: float, commits: float | None, loop: float, process: float) -> dict[str, Any]:
    return {"groups": 250, "achieved": achieved, "commits_per_s": commits,
            "threads": {"gameserver": {"main": loop, "zmq": 0.05}}, "cpu": {"gameserver": process}}


def test_the_commit_count_is_read_from_a_game_servers_metrics() -> None:
    metrics = GameServerMetrics(CollectorRegistry())
    before = generate_latest(metrics.registry).decode()
    for seconds in (0.001, 0.002, 0.0005):
        metrics.commit_latency.observe(seconds)
    after = generate_latest(metrics.registry).decode()
    assert commit_count(before) == 0.0
    assert commit_count(after) == 3.0
    assert commit_count("felt_realtime_frames_total 9.0\n") is None


def test_a_steps_shape_is_its_tables_and_moves_per_commit() -> None:
    assert ceiling.shape(_step(1000.0, 260.0, 0.2, 0.3)) == (250, 4)
    assert ceiling.shape(_step(1000.0, 3000.0, 0.2, 0.3)) == (250, 1)  # buy-ins too: never below one
    assert ceiling.shape(_step(1000.0, None, 0.2, 0.3)) is None
    assert ceiling.shape(_step(0.0, 10.0, 0.2, 0.3)) is None


def test_the_ratio_is_the_live_loops_cpu_per_move_over_the_ceilings() -> None:
    step = _step(1000.0, 250.0, 0.30, 0.42)  # 300 µs of loop and 420 of the process a move
    near = ceiling.compare(step, {"tables": 250, "batch": 4, "us_per_action": 250.0})
    assert near["live_loop_us_per_move"] == 300.0 and near["live_process_us_per_move"] == 420.0
    assert near["ratio"] == 1.2 and near["within_target"]
    far = ceiling.compare(step, {"tables": 250, "batch": 4, "us_per_action": 150.0})
    assert far["ratio"] == 2.0 and not far["within_target"]
    unknown = ceiling.compare(step, {"tables": 250, "batch": 4, "us_per_action": None})
    assert unknown["ratio"] is None and not unknown["within_target"]
    assert near["paced_ratio"] is None  # no paced run: no paced figures


def test_the_paced_ratio_is_over_the_ceiling_run_at_the_live_rate_of_passes() -> None:
    step = _step(1000.0, 250.0, 0.30, 0.42)
    assert ceiling.pace(step) == 250.0 and ceiling.pace(_step(1000.0, None, 0.3, 0.4)) is None
    both = ceiling.compare(step, {"tables": 250, "batch": 4, "us_per_action": 150.0},
                           {"us_per_action": 240.0, "pace": 250.0})
    assert both["ratio"] == 2.0 and not both["within_target"]  # the bound is read against back to back
    assert both["paced_ratio"] == 1.25 and both["paced_us_per_action"] == 240.0
    assert both["paced_passes_per_s"] == 250.0


def test_a_ceiling_is_measured_once_per_shape_by_the_real_bench() -> None:
    steps = [_step(40.0, 20.0, 0.01, 0.012), _step(41.0, 20.0, 0.01, 0.012), _step(40.0, None, 0.01, 0.01)]
    for step in steps:
        step["groups"] = 3
    said: list[str] = []
    ceiling.measure_steps(steps, 0.3, "0", said.append)
    assert len(said) == 3 and "3 tables, 2 move(s) a commit" in said[0]  # once back to back,
    assert all("paced at 20 passes a second" in line for line in said[1:])  # each step paced
    first, second, third = (s.get("ceiling") for s in steps)
    assert first is not None and second is not None and third is None
    assert first["ceiling_us_per_action"] == second["ceiling_us_per_action"]
    assert first["tables"] == 3 and first["moves_per_commit"] == 2
    assert first["ceiling_us_per_action"] is not None and first["ceiling_us_per_action"] > 0
    assert first["ratio"] is not None and first["ratio"] > 0
    assert first["paced_us_per_action"] is not None and first["paced_ratio"] is not None


def test_a_paced_server_bench_keeps_to_its_passes_a_second_off_the_clock(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rulesbench, "WARMUP_ROUNDS", 400)  # a warm-up longer than the run itself
    started = time.perf_counter()
    paced = rulesbench.server_rate("crazy_eights", 0.1, tables=3, batch=2, pace=50.0)
    assert time.perf_counter() - started > 2 * paced["wall"]  # the warm-up took longer than the run,
    assert paced["pace"] == 50.0 and paced["actions"] > 0  # and the run was measured after it all the same
    assert paced["passes"] <= 50.0 * paced["wall"] + 1  # never faster than the pace
    assert paced["seconds"] < paced["wall"]  # asleep between passes, and the sleep is not counted
    fast = rulesbench.server_rate("crazy_eights", 0.4, tables=3, batch=2)
    assert fast["pace"] is None and fast["passes"] > 50.0 * fast["wall"] + 1  # back to back: no pacing
