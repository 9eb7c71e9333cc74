"""The bench's comparison of a live game server with its no-network ceiling (`scripts/felt_load/ceiling`)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from common.metrics import GameServerMetrics
from scripts.felt_load import ceiling
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


def test_a_ceiling_is_measured_once_per_shape_by_the_real_bench() -> None:
    steps = [_step(40.0, 20.0, 0.01, 0.012), _step(41.0, 20.0, 0.01, 0.012), _step(40.0, None, 0.01, 0.01)]
    for step in steps:
        step["groups"] = 3
    said: list[str] = []
    ceiling.measure_steps(steps, 0.3, "0", said.append)
    assert len(said) == 1 and "3 tables, 2 move(s) a commit" in said[0]
    first, second, third = (s.get("ceiling") for s in steps)
    assert first is not None and second is not None and third is None
    assert first["ceiling_us_per_action"] == second["ceiling_us_per_action"]
    assert first["tables"] == 3 and first["moves_per_commit"] == 2
    assert first["ceiling_us_per_action"] is not None and first["ceiling_us_per_action"] > 0
    assert first["ratio"] is not None and first["ratio"] > 0
