"""The live game server against its own no-network ceiling, at the shape of each measured move step.

Issue 14 asks that a game server's CPU per move under load stay within 1.5x of what the same server costs
with no network in between. A ceiling is only comparable at the same work per pass: a group commit of
one move costs about what one of eight does. So each step's shape is read from the live server itself
(the tables the step played, and its moves per group commit: the `felt_gameserver_log_commit_seconds`
histogram's count over the window) and `rulesbench --server-only` is run at that shape, pinned to the
core the live server ran on, after the sweep, when nothing else of the bench runs.

Both sides count the server's loop thread: the live one from /proc, the bench's with `time.thread_time`
around its handlers. The live process's other threads (libzmq's I/O, the replay thread, SQLite's
checkpoints) are shown beside it, not in the ratio: the bench has no network, so it has no I/O threads.
"""

from __future__ import annotations

from typing import Any

from scripts.felt_load import steps
from scripts.felt_load.procs import rulesbench

#: Issue 14's bound: the loop's CPU per move under load, over the no-network ceiling's at the same shape.
TARGET = 1.5


def shape(step: dict[str, Any]) -> tuple[int, int] | None:
    """(tables, moves per group commit) of a measured step, or None if the server counted no commits (an
    older version, metrics off) or the step moved nothing."""
    commits, moves = step.get("commits_per_s"), step.get("achieved")
    if not commits or not moves:
        return None
    return int(step["groups"]), max(1, round(moves / commits))


def run(tables: int, batch: int, seconds: float, cpu: str) -> dict[str, Any]:
    """`rulesbench --server-only` at that shape, on core `cpu`: its JSON, and µs of loop CPU per action."""
    out = rulesbench(["--server-only", "--seconds", str(seconds), "--tables", str(tables), "--batch",
                      str(batch)], cpu)
    out["us_per_action"] = round(out["seconds"] / out["actions"] * 1e6, 1) if out.get("actions") else None
    return out


def compare(step: dict[str, Any], ceiling: dict[str, Any]) -> dict[str, Any]:
    """The live server's CPU per move (its loop thread, and the whole process) against `ceiling`'s."""
    moves = step["achieved"]
    threads = (step.get("threads") or {}).get("gameserver") or {}
    loop = threads.get("main")
    live_loop = round(loop / moves * 1e6, 1) if loop is not None and moves else None
    live_process = steps.cpu_per_move(step, "gameserver")
    bound = ceiling.get("us_per_action")
    return {
        "tables": ceiling["tables"], "moves_per_commit": ceiling["batch"],
        "live_loop_us_per_move": live_loop,
        "live_process_us_per_move": live_process,
        "ceiling_us_per_action": bound,
        "ratio": round(live_loop / bound, 2) if live_loop and bound else None,
        "within_target": bool(live_loop and bound and live_loop / bound <= TARGET),
    }


def measure_steps(measured: list[dict[str, Any]], seconds: float, cpu: str, log: Any) -> None:
    """Add `ceiling` to each of the `measured` steps whose shape the live server gave, one bench run per
    distinct shape."""
    runs: dict[tuple[int, int], dict[str, Any]] = {}
    for step in measured:
        found = shape(step)
        if found is None:
            continue
        if found not in runs:
            tables, batch = found
            log(f"  ceiling: the game server with no network, {tables} tables, {batch} move(s) a commit …")
            runs[found] = {**run(tables, batch, seconds, cpu), "batch": batch}
        step["ceiling"] = compare(step, runs[found])
